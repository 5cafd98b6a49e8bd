/**
 * `j1 data rl`: preference pairs -> both orders, balanced labels, rendered with the judge template ->
 * OpenRLHF JSONL and verl Parquet. Every export is read back with a real reader (JSON.parse per line;
 * hyparquet for Parquet), and an exported prompt plus a judge output goes through the reward service.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { registerDataRl } from "../src/cli/commands/data-rl.js";
import { DEFAULT_PAIRWISE_TEMPLATE } from "../src/core/template.js";
import { writeOpenRlhfJsonl } from "../src/data/export-openrlhf.js";
import { writeVerlParquet } from "../src/data/export-verl.js";
import { buildRlExamples } from "../src/data/rl-examples.js";
import { readPreferencePairs } from "../src/data/rl-pairs.js";
import { RewardScorer } from "../src/reward/reward-batch.js";
import { resolveRewardOptions } from "../src/reward/reward-options.js";

let dir: string;
let pairsFile: string;

const PAIRS = [
  { id: "p1", question: "What is 2+2?", a: "4", b: "5", label: "A" },
  { question: "Capital of France?", a: "Lyon", b: "Paris", label: "B", category: "geography" },
  { id: 7, question: "Continue the story.", context: "User: Once upon a time\nAssistant: there was a fox.", a: "The fox slept.", b: "ok", label: "a" },
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "j1-data-rl-"));
  pairsFile = join(dir, "pairs.jsonl");
  await writeFile(pairsFile, `${PAIRS.map((pair) => JSON.stringify(pair)).join("\n")}\n\n`);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function build() {
  return buildRlExamples(readPreferencePairs(pairsFile), { template: DEFAULT_PAIRWISE_TEMPLATE, chatFormat: "chatml" });
}

async function readJsonl(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function readParquet(file: string) {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { rows: (await parquetReadObjects({ file: buffer })) as Array<Record<string, any>>, metadata: parquetMetadata(buffer) };
}

test("data rl: both orders of every pair, balanced, labels flipped with the responses", async () => {
  const { examples, summary } = await build();
  assert.deepEqual(summary, { pairs: 3, examples: 6, labels: { A: 3, B: 3 }, specialTokenText: 0 });
  assert.deepEqual(
    examples.map((example) => [example.id, example.label]),
    [["p1:AB", "A"], ["p1:BA", "B"], ["2:AB", "B"], ["2:BA", "A"], ["7:AB", "A"], ["7:BA", "B"]],
  );
  const [ab, ba] = examples;
  assert.match(ab.messages[1].content, /\[Response A\]\n4\n\[End of Response A\][\s\S]*\[Response B\]\n5\n/);
  assert.match(ba.messages[1].content, /\[Response A\]\n5\n\[End of Response A\][\s\S]*\[Response B\]\n4\n/);
  assert.match(examples[4].messages[1].content, /\[Conversation so far\]\nUser: Once upon a time/);
  assert.equal(examples[2].category, "geography");
  assert.deepEqual(examples.map((example) => example.index), [0, 1, 2, 3, 4, 5]);
});

test("data rl: OpenRLHF JSONL reads back: templated input ending in the <think> prefill, plain labels", async () => {
  const { examples } = await build();
  const file = join(dir, "openrlhf.jsonl");
  await writeOpenRlhfJsonl(file, examples, { labels: "plain" });
  const rows = await readJsonl(file);
  assert.equal(rows.length, 6);
  for (const row of rows) {
    assert.equal(typeof row.input, "string");
    assert.ok((row.input as string).startsWith("<|im_start|>system\nYou are an impartial judge."));
    assert.ok((row.input as string).endsWith("<|im_start|>assistant\n<think>\n"));
    assert.ok(row.label === "A" || row.label === "B");
  }
  assert.deepEqual(rows.map((row) => row.label), ["A", "B", "B", "A", "A", "B"]);
  assert.deepEqual(rows[0], { ...rows[0], id: "p1:AB", pair: "p1", order: "AB" });
  await assert.rejects(writeOpenRlhfJsonl(file, examples, { labels: "plain" }), /exists already/);
});

test("data rl: OpenRLHF pair labels carry pair and order", async () => {
  const { examples } = await build();
  const file = join(dir, "openrlhf-pairs.jsonl");
  await writeOpenRlhfJsonl(file, examples, { labels: "pair" });
  const rows = await readJsonl(file);
  assert.deepEqual(rows[1].label, { verdict: "B", pair: "p1", order: "BA" });
});

test("data rl: verl Parquet reads back with hyparquet: nested prompt, reward_model, extra_info", async () => {
  const { examples } = await build();
  const file = join(dir, "verl.parquet");
  await writeVerlParquet(file, examples, { dataSource: "j1/pairs", ability: "judge", split: "train" });
  const { rows, metadata } = await readParquet(file);
  assert.equal(rows.length, 6);
  assert.equal(Number(metadata.num_rows), 6);
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  assert.deepEqual(columns, ["data_source", "prompt", "ability", "reward_model", "extra_info"]);
  const first = rows[0];
  assert.equal(first.data_source, "j1/pairs");
  assert.equal(first.ability, "judge");
  assert.deepEqual(first.prompt.map((message: { role: string }) => message.role), ["system", "user"]);
  assert.equal(first.prompt[0].content, examples[0].messages[0].content);
  assert.equal(first.prompt[1].content, examples[0].messages[1].content);
  assert.deepEqual(first.reward_model, { style: "rule", ground_truth: "A" });
  assert.deepEqual({ ...first.extra_info, index: Number(first.extra_info.index) }, { index: 0, id: "p1:AB", pair_id: "p1", order: "AB", category: "", split: "train" });
  assert.deepEqual(rows.map((row) => row.reward_model.ground_truth), ["A", "B", "B", "A", "A", "B"]);
  assert.equal(rows[2].extra_info.category, "geography");
});

test("data rl: an exported prompt plus a right answer earns 1 from the reward service", async () => {
  const { examples } = await build();
  const scorer = new RewardScorer(resolveRewardOptions());
  const ba = examples[1];
  // What OpenRLHF would send: the prompt text, and query = prompt + generation + end token.
  const batch = scorer.scoreBatch([`${ba.promptText}5 is wrong, so the second response is right.\n</think>\n[[B]]<|im_end|>`], [ba.promptText], [ba.label]);
  assert.deepEqual(batch.rewards, [1]);
  // The verl side: the response alone, with its own <think>, against ground_truth.
  assert.equal(scorer.scoreOne("<think>\n4 is right.\n</think>\n[[A]]", examples[0].label).reward, 1);
});

test("data rl: judged text that looks like special tokens is counted", async () => {
  const file = join(dir, "special.jsonl");
  await writeFile(file, `${JSON.stringify({ question: "q", a: "fine<|im_end|>", b: "ok", label: "A" })}\n`);
  const { summary } = await buildRlExamples(readPreferencePairs(file), { template: DEFAULT_PAIRWISE_TEMPLATE, chatFormat: "chatml" });
  assert.equal(summary.specialTokenText, 2);
});

test("data rl: bad pairs are refused with file, line and field", async () => {
  const cases: Array<[string, RegExp]> = [
    [`${JSON.stringify({ question: "q", a: "x", b: "y", label: "tie" })}`, /:1: row 1: field "label": a tie carries no preference/],
    [`${JSON.stringify({ question: "q", a: "x", b: "y" })}`, /:1: row 1: field "label": missing/],
    [`${JSON.stringify({ question: "q", a: "x", b: "y", label: "C" })}`, /:1: row 1: field "label": label the string "C" is not understood/],
    [`\n${JSON.stringify({ question: "q", a: 3, b: "y", label: "A" })}`, /:2: row 1: field "a": must be a string/],
    [`{"question": "q",`, /:1: row 1: not valid JSON/],
    [`${JSON.stringify({ question: "q", a: "x", b: "y", label: "A", category: 3 })}`, /:1: row 1: field "category"/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, "bad.jsonl");
    await writeFile(file, `${text}\n`);
    await assert.rejects(buildRlExamples(readPreferencePairs(file), { template: DEFAULT_PAIRWISE_TEMPLATE, chatFormat: "chatml" }), (error: Error) => {
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(file), error.message);
      return true;
    });
  }
  await assert.rejects(buildRlExamples(readPreferencePairs(join(dir, "missing.jsonl")), { template: DEFAULT_PAIRWISE_TEMPLATE, chatFormat: "chatml" }), /field "--input": no such file/);
});

test("data rl: the command writes both exports", async () => {
  const program = new Command().exitOverride();
  registerDataRl(program);
  const openrlhf = join(dir, "cli.jsonl");
  const verl = join(dir, "cli.parquet");
  const log = console.log;
  const error = console.error;
  const printed: string[] = [];
  console.log = (line: string) => printed.push(line);
  console.error = (line: string) => printed.push(line);
  try {
    await program.parseAsync(["data", "rl", "--input", pairsFile, "--openrlhf", openrlhf, "--verl", verl, "--limit", "2", "--data-source", "mine"], { from: "user" });
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.equal((await readJsonl(openrlhf)).length, 4);
  const { rows } = await readParquet(verl);
  assert.deepEqual(rows.map((row) => row.data_source), ["mine", "mine", "mine", "mine"]);
  assert.ok(printed.some((line) => /2 pairs -> 4 examples \(both orders; labels A 2, B 2\)/.test(line)), printed.join("\n"));
});
