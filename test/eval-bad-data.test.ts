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
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data }), /Natural[/\\]dataset\.json:8: row 2: field "label": must be the integer 1 or 2, found number 3/);
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
  const nineRejected = (problemId: number) => Array.from({ length: 9 }, (_, index) => solution(problemId, problemId * 10 + 1 + index, "rejected"));
  const twoChosen = await tempFile(t, "direct.json", JSON.stringify([solution(1, 10, "chosen"), solution(1, 11, "chosen"), solution(1, 12, "rejected"), solution(2, 20, "chosen"), ...nineRejected(2)], null, 2));
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: twoChosen }), /direct\.json:2: row 1 \(id "10"\): field "solution_type": problem 1 has 2 chosen and 1 rejected solutions/);
  const skipping = await loadAll(getBenchmark("rewardmath"), { data: twoChosen, skipBad: true });
  assert.deepEqual(skipping.items.map((item) => item.id), nineRejected(2).map((row) => `2/${row.id}`));
  assert.equal(skipping.skipped, 1);
  // Fewer than nine rejected: "beats all" would be an easier test than the official one.
  const eight = await tempFile(t, "eight.json", JSON.stringify([solution(3, 30, "chosen"), ...nineRejected(3).slice(1)], null, 2));
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: eight }), /eight\.json:2: row 1 \(id "30"\): field "solution_type": problem 3 has 1 chosen and 8 rejected solutions; it needs exactly 1 chosen and 9 rejected/);

  const split = await tempFile(t, "direct.jsonl", [solution(1, 10, "chosen"), ...nineRejected(1), solution(2, 20, "chosen"), ...nineRejected(2), solution(1, 99, "rejected")].map((row) => JSON.stringify(row)).join("\n"));
  await assert.rejects(loadAll(getBenchmark("rewardmath"), { data: split }), /direct\.jsonl:21: row 21( \(id "[^"]+"\))?: field "problem_id": rows of problem 1 are not consecutive/);
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

// What the official data would never contain and the official code would mis-score is refused (file, row,
// field); what it would keep (identical responses) is kept and counted.

const judgeBenchRow = (fields: Record<string, unknown> = {}) => JSON.stringify({ pair_id: "p1", original_id: "1", source: "livecodebench", question: "q", response_model: "m", response_A: "a", response_B: "b", label: "A>B", ...fields });
const rewardBenchRow = (fields: Record<string, unknown> = {}) => JSON.stringify({ prompt: "p", chosen: "c", chosen_model: "m1", rejected: "r", rejected_model: "m2", subset: "alpacaeval-easy", id: 1, ...fields });

test("an empty or whitespace-only response is refused, naming file, row and field", async (t) => {
  const empty = await tempFile(t, "jb.jsonl", judgeBenchRow({ response_B: "" }) + "\n");
  await assert.rejects(loadAll(getBenchmark("judgebench"), { data: empty }), /jb\.jsonl:1: row 1 \(id "p1"\): field "response_B": is empty: a response to judge must have text/);
  const blank = await tempFile(t, "rb.jsonl", rewardBenchRow({ chosen: " \n\t" }) + "\n");
  await assert.rejects(loadAll(getBenchmark("rewardbench"), { data: blank }), /rb\.jsonl:1: row 1 \(id "1"\): field "chosen": holds only whitespace/);
  const llmbar = await tempFile(t, "dataset.json", JSON.stringify([{ input: "q", output_1: "x", output_2: "  ", label: 1 }]));
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data: llmbar }), /dataset\.json:1: row 1: field "output_2": holds only whitespace/);
  const codepref = await tempFile(t, "security-alignment.jsonl", JSON.stringify({ task_id: "t", instruction: "i", choices: ["x = 1", ""], gt_choice: 0 }) + "\n");
  await assert.rejects(loadAll(getBenchmark("codepref"), { data: codepref }), /field "choices\[1\]": is empty/);
  const rb2 = await tempFile(t, "rb2.jsonl", JSON.stringify({ id: "1", prompt: "p", chosen: ["c"], rejected: ["r1", "", "r3"], num_correct: 1, num_incorrect: 3, total_completions: 4, models: ["m"], subset: "Math", additional_metadata: null }) + "\n");
  await assert.rejects(loadAll(getBenchmark("rewardbench2"), { data: rb2 }), /field "rejected\[1\]": is empty/);
});

test("a subset the official code does not know is refused: RewardBench (left out of every section) and RewardBench 2 (a seventh term)", async (t) => {
  const v1 = await tempFile(t, "rb.jsonl", rewardBenchRow() + "\n" + rewardBenchRow({ subset: "alpacaeval-medium", id: 2 }) + "\n");
  await assert.rejects(loadAll(getBenchmark("rewardbench"), { data: v1 }), /rb\.jsonl:2: row 2 \(id "2"\): field "subset": "alpacaeval-medium" is not a RewardBench subset \(known: alpacaeval-easy/);
  const v2 = await tempFile(t, "rb2.jsonl", JSON.stringify({ id: "1", prompt: "p", chosen: ["c"], rejected: ["r1", "r2", "r3"], num_correct: 1, num_incorrect: 3, total_completions: 4, models: ["m"], subset: "Coding", additional_metadata: null }) + "\n");
  await assert.rejects(loadAll(getBenchmark("rewardbench2"), { data: v2 }), /field "subset": "Coding" is not a RewardBench 2 subset \(known: Factuality, Precise IF, Math, Safety, Focus, Ties\)/);
});

test("labels the official scripts compare with integers: LLMBar \"1\" or 1.0 and CodePrefBench \"0\" or 0.0 are refused", async (t) => {
  const llmbar = async (label: string) => tempFile(t, "dataset.json", `[{"input": "q", "output_1": "x", "output_2": "y", "label": ${label}}]`);
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data: await llmbar('"1"') }), /field "label": must be the integer 1 or 2 \(as the official scripts compare it\), found the string "1"/);
  await assert.rejects(loadAll(getBenchmark("llmbar"), { data: await llmbar("1.0") }), /field "label": must be the integer 1 or 2 \(as the official scripts compare it\), found a float \(1\.0\)/);
  assert.equal((await loadAll(getBenchmark("llmbar"), { data: await llmbar("2") })).items[0].label, "B");
  const codepref = async (choice: string) => tempFile(t, "security-alignment.jsonl", `{"task_id": "t", "instruction": "i", "choices": ["x = 1", "x = 2"], "gt_choice": ${choice}}\n`);
  await assert.rejects(loadAll(getBenchmark("codepref"), { data: await codepref('"0"') }), /field "gt_choice": must be the integer 0 or 1 .*found the string "0"/);
  await assert.rejects(loadAll(getBenchmark("codepref"), { data: await codepref("0.0") }), /field "gt_choice": must be the integer 0 or 1 .*found a float/);
  assert.equal((await loadAll(getBenchmark("codepref"), { data: await codepref("1") })).items[0].label, "B");
});

test("a pair whose responses are identical is kept (as the official code keeps it) and counted in a data warning", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const file = await tempFile(t, "jb.jsonl", [judgeBenchRow(), judgeBenchRow({ pair_id: "p2", response_B: "a" })].join("\n") + "\n");
  const run = spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), "eval", "--bench", "judgebench", "--data", file, "--dry-run", "--json"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { items: number; benchmarks: Array<{ warning?: string }> };
  assert.equal(summary.items, 2, "both pairs kept");
  assert.match(summary.benchmarks[0].warning ?? "", /judgebench has 1 pair whose two responses are identical; kept/);
});

test("j1 eval on data the official code would mis-score exits 2 naming file, row and field", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const file = await tempFile(t, "rb.jsonl", rewardBenchRow({ subset: "made-up" }) + "\n");
  const run = spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), "eval", "--bench", "rewardbench", "--data", file, "--model", "tiny"], { encoding: "utf8" });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /rb\.jsonl:1: row 1 \(id "1"\): field "subset": "made-up" is not a RewardBench subset/);
});
