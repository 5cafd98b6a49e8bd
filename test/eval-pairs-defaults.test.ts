import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { it } from "node:test";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import type { BenchmarkItem } from "../src/eval/types.js";

it("pairs: id, context and category are read by their own names without a map", async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "j1-pairs-")), "pairs.jsonl");
  writeFileSync(
    file,
    [
      JSON.stringify({ id: "x1", question: "q1", a: "a1", b: "b1", label: "A", context: "Human: hi", category: "math" }),
      JSON.stringify({ question: "q2", a: "a2", b: "b2", label: 2 }),
    ].join("\n"),
  );
  const items: BenchmarkItem[] = [];
  for await (const item of getBenchmark("pairs").load({ data: file })) items.push(item);
  assert.deepEqual(items.map((item) => [item.id, item.context, item.category, item.label]), [["x1", "Human: hi", "math", "A"], ["2", undefined, "pairs", "B"]]);
});
