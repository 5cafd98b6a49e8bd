import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { J1Error } from "../src/core/errors.js";
import { projectRoot } from "../src/eval/benchmarks/data-location.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";

const BAD = join(projectRoot(), "test", "fixtures", "benchmarks", "bad");

async function tempFile(t: TestContext, name: string, content: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "j1-bad-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const file = join(folder, name);
  await writeFile(file, content);
  return file;
}

test("JSONL: the first bad line stops the load, naming file and line", async () => {
  await assert.rejects(loadAll(getBenchmark("judgebench"), { data: join(BAD, "judgebench-bad.jsonl") }), (error: unknown) => {
    assert.ok(error instanceof J1Error);
    assert.equal(error.code, "bad-input");
    assert.match(error.message, /judgebench-bad\.jsonl:2: row 2: not valid JSON/);
    assert.equal(error.context.line, 2);
    return true;
  });
});

test("JSONL with skipBad: non-JSON line, missing field and bad label are each reported with file, line and field; the rest loads", async () => {
  const skipped: Error[] = [];
  const loaded = await loadAll(getBenchmark("judgebench"), { data: join(BAD, "judgebench-bad.jsonl"), skipBad: true, onSkip: (error) => skipped.push(error) });
  assert.deepEqual(loaded.items.map((item) => item.id), ["ok-1", "ok-2"]);
  assert.equal(loaded.skipped, 3);
  assert.equal(skipped.length, 3);
  const [notJson, missing, label] = skipped.map((error) => error.message);
  assert.match(notJson, /judgebench-bad\.jsonl:2: row 2: not valid JSON/);
  assert.match(missing, /judgebench-bad\.jsonl:3: row 3( \(id "[^"]+"\))?: field "response_B": missing/);
  assert.match(label, /judgebench-bad\.jsonl:4: row 4( \(id "[^"]+"\))?: field "label": must be one of "A>B", "B>A", found the string "A=B"/);
});

test("JSON array: errors name the line where the bad element starts", async () => {
  const data = join(BAD, "llmbar-bad");
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data }), /Natural[/\\]dataset\.json:8: row 2: field "label": must be one of "1", "2", found number 3/);
  const loaded = await loadAll(getBenchmark("llmbar"), { data, skipBad: true });
  assert.deepEqual(loaded.items.map((item) => item.question), ["One?", "Four?"]);
  assert.equal(loaded.skipped, 2);
  assert.match(loaded.errors[1].message, /dataset\.json:14: row \d+: field "output_2": must be a string, found number 3/);
});

test("JSON array: a malformed element is a row fault; a file that is not an array is fatal even with skipBad", async (t) => {
  const elements = '[\n  {"input": "a", "output_1": "x", "output_2": "y", "label": 1},\n  {"input": "b", "output_1": \n  oops},\n  {"input": "c", "output_1": "x", "output_2": "y", "label": 2}\n]\n';
  const file = await tempFile(t, "dataset.json", elements);
  const loaded = await loadAll(getBenchmark("llmbar"), { data: file, skipBad: true });
  assert.deepEqual(loaded.items.map((item) => item.question), ["a", "c"]);
  assert.match(loaded.errors[0].message, /dataset\.json:3: row 2: not valid JSON/);

  const oneObject = await tempFile(t, "dataset.json", '{\n  "rows": [\n    {"input": "a"}\n  ]\n}\n');
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data: oneObject, skipBad: true }), /dataset\.json:1: a \.json file must hold a JSON array of rows, or one JSON object per line/);
  const truncated = await tempFile(t, "dataset.json", '[\n  {"input": "a", "output_1": "x", "output_2": "y", "label": 1},\n  {"input": "b"');
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data: truncated, skipBad: true }), /not closed/);
});

test("CSV: a record with the wrong field count and a bad label name their lines", async (t) => {
  const csv = 'question,a,b,label\nq1,x,y,A\n"q2\nspans lines",x,y,B\nq3,x,y\nq4,x,y,C\nq5,x,y,2\n';
  const file = await tempFile(t, "pairs.csv", csv);
  const loaded = await loadAll(getBenchmark("pairs"), { data: file, skipBad: true });
  assert.deepEqual(loaded.items.map((item) => [item.question, item.label]), [["q1", "A"], ["q2\nspans lines", "B"], ["q5", "B"]]);
  assert.equal(loaded.skipped, 2);
  assert.match(loaded.errors[0].message, /pairs\.csv:5: row 3: has 3 fields, the header has 4/);
  assert.match(loaded.errors[1].message, /pairs\.csv:6: row 4( \(id "[^"]+"\))?: field "label": label the string "C" is not understood; accepted: /);
});

test("duplicate item ids are faults of the repeating row", async (t) => {
  const row = (id: string): string => JSON.stringify({ pair_id: id, original_id: "1", source: "livecodebench", question: "q", response_model: "m", response_A: "a", response_B: "b", label: "A>B" });
  const file = await tempFile(t, "jb.jsonl", [row("p1"), row("p2"), row("p1")].join("\n") + "\n");
  await assert.rejects(loadAll(getBenchmark("judgebench"), { data: file }), /jb\.jsonl:3: row 3 \(id "p1"\): field "pair_id": duplicate item id "p1"/);
});

test("rewardmath direct: a problem without exactly one chosen solution, or split in two, is refused", async (t) => {
  const solution = (problemId: number, id: number, type: string): Record<string, unknown> => ({
    problem: `P${problemId}`, answer: "1", eval_solution: ["step"], solution_reference: "x", solution_type: type, subject: "Algebra", level: 1, problem_id: problemId, id,
  });
  const twoChosen = await tempFile(t, "direct.json", JSON.stringify([solution(1, 10, "chosen"), solution(1, 11, "chosen"), solution(1, 12, "rejected"), solution(2, 20, "chosen"), solution(2, 21, "rejected")], null, 2));
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: twoChosen }), /direct\.json:2: row 1 \(id "10"\): field "solution_type": problem 1 has 2 chosen and 1 rejected solutions/);
  const skipping = await loadAll(getBenchmark("rewardmath"), { data: twoChosen, skipBad: true });
  assert.deepEqual(skipping.items.map((item) => item.id), ["2/21"]);
  assert.equal(skipping.skipped, 1);

  const split = await tempFile(t, "direct.jsonl", [solution(1, 10, "chosen"), solution(1, 11, "rejected"), solution(2, 20, "chosen"), solution(2, 21, "rejected"), solution(1, 12, "rejected")].map((row) => JSON.stringify(row)).join("\n"));
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: split }), /direct\.jsonl:5: row 5( \(id "[^"]+"\))?: field "problem_id": rows of problem 1 are not consecutive/);
});

test("harmless: a pair whose transcripts share no assistant turn is refused", async (t) => {
  const file = await tempFile(t, "hh.jsonl", JSON.stringify({ chosen: "\n\nHuman: hi\n\nAssistant: hello", rejected: "Human: hi there" }) + "\n");
  await assert.rejects(loadAll(getBenchmark("harmless"), { data: file }), /hh\.jsonl:1: row 1: field "rejected": the chosen and rejected transcripts share no/);
});

test("an unknown file type and a corrupt gzip are file errors, not row faults", async (t) => {
  const text = await tempFile(t, "pairs.txt", "question,a,b,label\n");
  await assert.rejects(loadAll(getBenchmark("pairs"), { data: text, skipBad: true }), /pairs\.txt: unknown file type/);
  const gz = await tempFile(t, "pairs.jsonl.gz", "this is not gzip");
  await assert.rejects(loadAll(getBenchmark("pairs"), { data: gz, skipBad: true }), /pairs\.jsonl\.gz: cannot read the file/);
});
