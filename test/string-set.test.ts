import assert from "node:assert/strict";
import { test } from "node:test";
import { CompactStringSet } from "../src/eval/benchmarks/string-set.js";

test("the compact id set answers exactly as a Set<string> does, through growth, wide characters and lone surrogates", () => {
  const compact = new CompactStringSet();
  const reference = new Set<string>();
  const strings: string[] = ["", "a", "A", "row-1", "row-10", "é", "\u00ff", "\u0100", "\u0000\u0001", "\ud800", "\ud801", "\udc00\ud800", "日本語", "🙂", "row-1 "];
  for (let index = 0; index < 20_000; index++) strings.push(`row-${index}`, `${index}`, `id:${(index * 7919) % 5003}`, index % 97 === 0 ? `wide-${index}-\u2603` : `x${index % 1000}`);
  for (const text of strings) {
    const added = compact.add(text);
    assert.equal(added, !reference.has(text), JSON.stringify(text));
    reference.add(text);
  }
  assert.equal(compact.size, reference.size);
  // Every string is found again, and near misses are not.
  for (const text of reference) assert.equal(compact.add(text), false, JSON.stringify(text));
  for (const text of ["row-20000", "\ud802", "\u0101", "\u0001\u0000", "row-1  "]) assert.equal(compact.add(text), true, JSON.stringify(text));
});
