import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { dataFiles } from "../src/eval/eval-settings.js";
import { asPair } from "../src/eval/types.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/benchmarks/", import.meta.url));
const fixture = (...parts: string[]) => join(FIXTURES, ...parts);
const temp = () => mkdtempSync(join(os.tmpdir(), "j1-data-files-"));

test("repeated --data for one benchmark reads every file, in order; row-number ids of later files are prefixed", async () => {
  const dir = temp();
  const first = join(dir, "one.jsonl");
  const second = join(dir, "two.jsonl");
  writeFileSync(first, `${JSON.stringify({ question: "q1", a: "x", b: "y", label: "A" })}\n${JSON.stringify({ question: "q2", a: "x", b: "y", label: "B" })}\n`);
  writeFileSync(second, `${JSON.stringify({ question: "q3", a: "x", b: "y", label: "B" })}\n`);
  const both = await loadAll(getBenchmark("pairs"), { data: [first, second] });
  assert.deepEqual(both.items.map((item) => [item.id, item.question]), [["1", "q1"], ["2", "q2"], ["data2/1", "q3"]]);
  // One file as a list or as a string: the same items and ids as before repeats were read.
  const single = await loadAll(getBenchmark("pairs"), { data: [first] });
  assert.deepEqual(single.items.map((item) => item.id), ["1", "2"]);
  assert.deepEqual((await loadAll(getBenchmark("pairs"), { data: first })).items.map((item) => item.id), ["1", "2"]);
  // Natural ids keep their value across files; harmless (row-number ids) reads two copies as two sets.
  const harmless = fixture("harmless", "test.jsonl");
  const twice = await loadAll(getBenchmark("harmless"), { data: [harmless, join(dir, "copy.jsonl")] }).catch((error: Error) => error);
  assert.match(String(twice), /copy\.jsonl/, "a missing second file is named");
  writeFileSync(join(dir, "copy.jsonl"), readFileSync(harmless));
  const doubled = await loadAll(getBenchmark("harmless"), { data: [harmless, join(dir, "copy.jsonl")] });
  const once = await loadAll(getBenchmark("harmless"), { data: harmless });
  assert.equal(doubled.items.length, 2 * once.items.length);
  assert.ok(doubled.items.some((item) => item.id.startsWith("data2/")));
  await assert.rejects(loadAll(getBenchmark("pairs"), { data: [first, first] }), /names this file twice/);
});

test("stored settings: data as one string (runs stored before repeats) or as a list", () => {
  assert.deepEqual(dataFiles({ data: { pairs: "old.jsonl" } }, "pairs"), ["old.jsonl"]);
  assert.deepEqual(dataFiles({ data: { pairs: ["a.jsonl", "b.jsonl"] } }, "pairs"), ["a.jsonl", "b.jsonl"]);
  assert.equal(dataFiles({ data: {} }, "pairs"), undefined);
  assert.equal(dataFiles({ data: { pairs: ["a"] } }, "constructor"), undefined);
});

test("row errors in a one-line JSON array name the row index and id, not only line 1", async () => {
  const dir = temp();
  const file = join(dir, "one-line.json");
  const rows = [
    { id: "p1", question: "q", a: "x", b: "y", label: "A" },
    { id: "p2", question: "q", a: "x", b: 3, label: "A" },
    { id: "p3", question: "q", a: "x", b: "y", label: "Z" },
    { question: "q", a: "x", b: "y", label: "Q" },
  ];
  writeFileSync(file, JSON.stringify(rows));
  const loaded = await loadAll(getBenchmark("pairs"), { data: file, skipBad: true });
  assert.equal(loaded.items.length, 1);
  assert.deepEqual(loaded.errors.map((error) => error.message.split(": ").slice(0, 3).join(": ").replace(`${dir}/`, "")), [
    'one-line.json:1: row 2 (id "p2"): field "b"',
    'one-line.json:1: row 3 (id "p3"): field "label"',
    'one-line.json:1: row 4: field "label"',
  ]);
  const context = (loaded.errors[0] as Error & { context?: Record<string, unknown> }).context;
  assert.deepEqual({ row: context?.row, id: context?.id, field: context?.field, line: context?.line }, { row: 2, id: "p2", field: "b", line: 1 });
  // An element that is not JSON: row index, no id (it could not be read).
  writeFileSync(file, '[{"id": "a", "question": "q", "a": "x", "b": "y", "label": "A"}, {"id": oops}]');
  const broken = await loadAll(getBenchmark("pairs"), { data: file, skipBad: true });
  assert.match(broken.errors[0].message, /one-line\.json:1: row 2: not valid JSON/);
});

test("--skip-bad drops a RewardMATH problem whole when one of its solutions is malformed", async () => {
  const loaded = await loadAll(getBenchmark("rewardmath"), { data: fixture("bad", "rewardmath-direct-broken-rejected.json"), skipBad: true });
  // Problem 0 (1 chosen, 3 rejected; the second rejected is malformed) is gone, not scored on 2 pairs.
  assert.deepEqual([...new Set(loaded.items.map((item) => item.group))], ["5"]);
  assert.equal(loaded.skipped, 2, "the malformed row and the dropped problem");
  assert.match(loaded.errors[0].message, /row 3 .*field "eval_solution"/);
  assert.match(loaded.errors[1].message, /problem 0 dropped whole \(--skip-bad\)/);
  // Without --skip-bad the row stops the load.
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: fixture("bad", "rewardmath-direct-broken-rejected.json") }), /field "eval_solution"/);

  // A row whose problem cannot be read (not JSON) between two problems spoils both neighbours.
  const dir = temp();
  const solutions = JSON.parse(readFileSync(fixture("rewardmath", "direct.json"), "utf8")) as unknown[];
  const text = `[${solutions.slice(0, 10).map((row) => JSON.stringify(row)).join(",")}, {broken}, ${solutions.slice(10).map((row) => JSON.stringify(row)).join(",")}]`;
  writeFileSync(join(dir, "direct.json"), text);
  const between = await loadAll(getBenchmark("rewardmath"), { data: join(dir, "direct.json"), skipBad: true });
  assert.equal(between.items.length, 0);
  assert.equal(between.skipped, 3);
  // Inside a problem: only that problem.
  const inside = `[${solutions.slice(0, 2).map((row) => JSON.stringify(row)).join(",")}, {broken}, ${solutions.slice(2).map((row) => JSON.stringify(row)).join(",")}]`;
  writeFileSync(join(dir, "direct.json"), inside);
  const within = await loadAll(getBenchmark("rewardmath"), { data: join(dir, "direct.json"), skipBad: true });
  assert.deepEqual([...new Set(within.items.map((item) => item.group))], ["5"]);
});

test("--skip-bad drops a RewardMATH pairwise problem, an RM-Bench prompt and a JudgeBench pair whole", async () => {
  const pairwise = await loadAll(getBenchmark("rewardmath-pairwise"), { data: fixture("bad", "rewardmath-pairwise-broken-pair.json"), skipBad: true });
  assert.deepEqual(pairwise.items.map((item) => item.group), ["7"], "problem 0 lost a pair: all its pairs are dropped");
  assert.equal(pairwise.skipped, 2);
  assert.match(pairwise.errors[1].message, /problem 0 dropped whole/);

  const rm = await loadAll(getBenchmark("rmbench"), { data: fixture("bad", "rm-bench", "chat_filtered.json"), skipBad: true });
  assert.deepEqual([...new Set(rm.items.map((item) => item.group))], ["chat/8"], "prompt 9 (two rejected styles) is gone, none of its 9 cells kept");
  assert.equal(rm.items.length, 9);
  assert.equal(rm.skipped, 1);

  const jb = await loadAll(getBenchmark("judgebench"), { data: fixture("bad", "judgebench-bad.jsonl"), skipBad: true });
  assert.ok(!jb.items.some((item) => item.id === "no-b"));
  assert.ok(jb.items.every((item) => asPair(item).a.length > 0 && asPair(item).b.length > 0));
});
