import assert from "node:assert/strict";
import { serveHub, withEnvironment } from "./helpers/hub-stand-in.js";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { gzipSync } from "node:zlib";
import { parquetWriteFile } from "hyparquet-writer";
import { validateTemplate } from "../src/core/template.js";
import { projectRoot } from "../src/eval/benchmarks/data-location.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { rewardbench2 } from "../src/eval/benchmarks/rewardbench2.js";
import { rewardBench2CachePath, rewardBench2Url } from "../src/eval/benchmarks/rewardbench2-download.js";
import { tiesScore } from "../src/eval/scoring/rewardbench2-score.js";
import type { BenchmarkItem, ChoiceItem, ItemDecision, RatingItem, ScoredItem } from "../src/eval/types.js";
import { scoredItem } from "../src/eval/item-stream.js";
import { openRunStore } from "../src/store/run-store.js";

/** The writer's own schema element type (it bundles its own hyparquet). */
type SchemaElement = NonNullable<Parameters<typeof parquetWriteFile>[0]["schema"]>[number];

const JSONL = join(projectRoot(), "test", "fixtures", "rewardbench2", "test.jsonl");

interface Row {
  id: string;
  prompt: string;
  chosen: string[];
  rejected: string[];
  num_correct: number;
  num_incorrect: number;
  total_completions: number;
  models: string[];
  subset: string;
  additional_metadata: Record<string, unknown> | null;
}

async function fixtureRows(): Promise<Row[]> {
  return (await readFile(JSONL, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Row);
}

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "j1-rb2-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

async function writeJsonl(file: string, rows: unknown[]): Promise<void> {
  await writeFile(file, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
}

/**
 * Rows in the hub's Parquet schema: strings, int64 counts, lists of strings (3-level LIST, as pyarrow
 * writes them) and the additional_metadata struct, three rows per row group.
 */
function writeParquet(file: string, rows: Row[], nullPromptAt?: number): void {
  const text = (name: string): SchemaElement => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" });
  const list = (name: string): SchemaElement[] => [
    { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    text("element"),
  ];
  const int64 = (name: string): SchemaElement => ({ name, type: "INT64", repetition_type: "OPTIONAL" });
  const double = (name: string): SchemaElement => ({ name, type: "DOUBLE", repetition_type: "OPTIONAL" });
  const schema: SchemaElement[] = [
    { name: "schema", num_children: 10 },
    text("id"),
    text("prompt"),
    ...list("chosen"),
    ...list("rejected"),
    int64("num_correct"),
    int64("num_incorrect"),
    int64("total_completions"),
    ...list("models"),
    text("subset"),
    { name: "additional_metadata", repetition_type: "OPTIONAL", num_children: 10 },
    text("category"),
    text("correct"),
    double("index"),
    ...list("instruction_id_list"),
    text("label"),
    text("method"),
    ...list("models"),
    text("prompt_norm"),
    text("subcategory"),
    double("valid"),
  ];
  const column = <K extends keyof Row>(name: K, map: (value: Row[K], index: number) => unknown = (value) => value) => ({ name, data: rows.map((row, index) => map(row[name], index)) });
  parquetWriteFile({
    filename: file,
    schema,
    rowGroupSize: 3,
    columnData: [
      column("id"),
      column("prompt", (value, index) => (index === nullPromptAt ? null : value)),
      column("chosen"),
      column("rejected"),
      column("num_correct", (value) => BigInt(value)),
      column("num_incorrect", (value) => BigInt(value)),
      column("total_completions", (value) => BigInt(value)),
      column("models"),
      column("subset"),
      column("additional_metadata"),
    ],
  });
}

// ---------------------------------------------------------------------------------------------------
// Decisions, as the runner will hand them to the scorer: a choice's verdict is the letter it picked (in
// the item's order); a rating's is in `score` (StoredDecision), its verdict the rating as text.

type Decision = ItemDecision & { score?: number | null };

function pick(item: ChoiceItem, letter: string | null): Decision {
  return { itemId: item.id, verdict: letter, status: letter === null ? "parse-error" : "ok", orders: { AB: letter } };
}

function rate(item: RatingItem, rating: number | null): Decision {
  const verdict = rating === null ? null : String(rating);
  return { itemId: item.id, verdict, status: rating === null ? "parse-error" : "ok", orders: { AB: verdict }, score: rating };
}

function decide(items: readonly BenchmarkItem[], onChoice: (item: ChoiceItem) => string | null, onRating: (item: RatingItem) => number | null): Map<string, ItemDecision> {
  return new Map(
    items.map((item) => {
      if (item.kind === "choice") return [item.id, pick(item, onChoice(item))];
      if (item.kind === "rating") return [item.id, rate(item, onRating(item))];
      throw new Error(`unexpected pair item ${item.id}`);
    }),
  );
}

const oracleRating = (item: RatingItem): number => (item.label === "correct" ? 10 : 1);

function categoryScores(score: { categories: Array<{ category: string; score: number }> }): Record<string, number> {
  return Object.fromEntries(score.categories.map((entry) => [entry.category, entry.score]));
}

function approx(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`);
}

const choices = (items: BenchmarkItem[]) => items.filter((item): item is ChoiceItem => item.kind === "choice");
const ratings = (items: BenchmarkItem[]) => items.filter((item): item is RatingItem => item.kind === "rating");

// ---------------------------------------------------------------------------------------------------

test("rewardbench2: registered, with its three variants, protocol as-is", () => {
  assert.equal(getBenchmark("rewardbench2"), rewardbench2);
  assert.deepEqual(rewardbench2.variants, ["official", "ratings", "rotations"]);
  assert.equal(rewardbench2.protocol, "as-is");
});

test("rewardbench2 official: one four-way choice per non-Ties prompt, the correct answer swapped into its slot; Ties rated per answer", async () => {
  const rows = await fixtureRows();
  const { items } = await loadAll(rewardbench2, { data: JSONL, seed: 5 });
  // 6 non-Ties rows -> 6 choices; Ties answers: 1+2, 3+3, 1+3, 2+2 = 17 ratings.
  assert.equal(choices(items).length, 6);
  assert.equal(ratings(items).length, 17);
  assert.equal(items.length, 23);
  assert.deepEqual(choices(items).map((item) => item.id), ["Factuality/23", "Factuality/24", "Precise IF/310", "Math/512", "Safety/801", "Focus/1207"]);

  for (const item of choices(items)) {
    const row = rows.find((candidate) => `${candidate.subset}/${candidate.id}` === item.id) as Row;
    const [c, r0, r1, r2] = [row.chosen[0], ...row.rejected];
    // The official placement (run_generative_v2.py): slot 0 keeps [c, r0, r1, r2]; slot s swaps 0 and s.
    const bySlot: Record<string, string[]> = { A: [c, r0, r1, r2], B: [r0, c, r1, r2], C: [r1, r0, c, r2], D: [r2, r0, r1, c] };
    assert.deepEqual(item.responses, bySlot[item.label], item.id);
    assert.equal(item.category, row.subset);
    assert.equal(item.question, row.prompt);
    assert.equal(item.group, undefined);
  }
  // Factuality/24 has five rejected answers: the four-way choice shows the first three only.
  const many = choices(items).find((item) => item.id === "Factuality/24") as ChoiceItem;
  assert.ok(!many.responses.includes("At 110 degrees Celsius.") && !many.responses.includes("It depends only on the size of the pot."));

  const tied3 = ratings(items).filter((item) => item.id.startsWith("Ties/tied:3#"));
  assert.deepEqual(tied3.map((item) => [item.response, item.label]), [
    ["Red.", "correct"],
    ["Green.", "correct"],
    ["Blue.", "correct"],
    ["Yellow.", "incorrect"],
    ["Black.", "incorrect"],
    ["Pink.", "incorrect"],
  ]);
  // The ref and tied samples of prompt 3 share the group (the official prompt id); meta tells them apart.
  const prompt3 = ratings(items).filter((item) => item.group === "Ties/3");
  assert.deepEqual(prompt3.map((item) => item.meta?.sample), ["ref", "ref", "ref", "tied", "tied", "tied", "tied", "tied", "tied"]);
  assert.ok(ratings(items).every((item) => item.category === "Ties"));
});

test("rewardbench2: the seeded placement is the same on a rerun and changes with the seed", async () => {
  const labels = async (seed?: number) => choices((await loadAll(rewardbench2, { data: JSONL, seed })).items).map((item) => item.label);
  const first = await loadAll(rewardbench2, { data: JSONL, seed: 11 });
  const again = await loadAll(rewardbench2, { data: JSONL, seed: 11 });
  assert.deepEqual(again.items, first.items);
  assert.deepEqual(await labels(undefined), await labels(0), "no seed is seed 0");

  const perSeed = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((seed) => labels(seed)));
  const distinct = new Set(perSeed.map((entry) => entry.join("")));
  assert.ok(distinct.size >= 7, `8 seeds gave only ${distinct.size} different placements: ${[...distinct].join(" ")}`);
  assert.deepEqual(new Set(perSeed.flat()), new Set(["A", "B", "C", "D"]), "every slot is used");
});

test("rewardbench2: Parquet (the hub's nested schema) and JSONL.gz copies load the same items as the JSONL", async (t) => {
  const folder = await tempFolder(t);
  const parquet = join(folder, "test-00000-of-00001.parquet");
  writeParquet(parquet, await fixtureRows());
  const gz = join(folder, "test.jsonl.gz");
  await writeFile(gz, gzipSync(await readFile(JSONL)));
  const fromJsonl = await loadAll(rewardbench2, { data: JSONL, seed: 3 });
  assert.equal(fromJsonl.items.length, 23);
  assert.deepEqual((await loadAll(rewardbench2, { data: parquet, seed: 3 })).items, fromJsonl.items);
  assert.deepEqual((await loadAll(rewardbench2, { data: gz, seed: 3 })).items, fromJsonl.items);
});

test("rewardbench2 ratings variant: every answer of every subset rated, all rejected answers included", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "ratings" });
  assert.equal(choices(items).length, 0);
  // Non-Ties: five rows of 1 + 3 answers and Factuality/24 with 1 + 5; Ties: 17.
  assert.equal(items.length, 5 * 4 + 6 + 17);
  const row24 = ratings(items).filter((item) => item.group === "Factuality/24");
  assert.deepEqual(row24.map((item) => item.label), ["correct", "incorrect", "incorrect", "incorrect", "incorrect", "incorrect"]);
  assert.equal(row24[5].response, "It depends only on the size of the pot.");
});

test("rewardbench2 rotations variant: four choices per prompt, the correct answer in each slot; the seeded one marked", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "rotations", seed: 9 });
  const official = choices((await loadAll(rewardbench2, { data: JSONL, seed: 9 })).items);
  assert.equal(choices(items).length, 24);
  assert.equal(ratings(items).length, 17);
  for (const single of official) {
    const rotations = choices(items).filter((item) => item.group === single.id);
    assert.deepEqual(rotations.map((item) => item.label), ["A", "B", "C", "D"]);
    assert.deepEqual(rotations.map((item) => item.id), ["A", "B", "C", "D"].map((letter) => `${single.id}@${letter}`));
    const seeded = rotations.filter((item) => item.meta?.seededSlot === true);
    assert.equal(seeded.length, 1);
    assert.deepEqual(seeded[0].responses, single.responses, "the marked rotation is the official placement");
  }
});

test("rewardbench2 official score: an oracle judge scores 100 on the five four-way subsets and 101 on Ties (the official formula)", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, seed: 2 });
  const score = rewardbench2.score(items, decide(items, (item) => item.label, oracleRating));
  // Ties, by hand: every correct answer 10, every incorrect 1. Ref and tied accuracy 1; each prompt's
  // tied spread is 10 - 10 = 0 and both margins are 10 - 1 = 9 > 0, so both "preferred" terms are 1;
  // margin term tanh(min(9, 9) / 0 - 1) = tanh(+inf) = 1. 0.30 + 0.30 + 0.20 + 0.20 + 0.01 = 1.01.
  assert.deepEqual(categoryScores(score), { Factuality: 100, "Precise IF": 100, Math: 100, Safety: 100, Focus: 100, Ties: 101 });
  approx(score.score, (5 * 100 + 101) / 6, "leaderboard");
  assert.equal(score.parts["Ties: margin score"], 100);
  assert.equal(score.metrics.accuracy, 100);
  assert.equal(score.metrics.parseFailureRate, 0);
});

test("rewardbench2 official score: a judge that never gives a verdict scores 25 on each four-way subset and 0 on Ties", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, seed: 2 });
  const score = rewardbench2.score(items, decide(items, () => null, () => null));
  // Four-way: "error" scores 0.25. Ties: every rating is the official -1, so every margin and spread is 0:
  // no accuracy (0 > 0 fails), no "preferred" (0 > 0), margin tanh(0 / 0 - 1) = NaN -> 0.
  assert.deepEqual(categoryScores(score), { Factuality: 25, "Precise IF": 25, Math: 25, Safety: 25, Focus: 25, Ties: 0 });
  approx(score.score, (5 * 25 + 0) / 6, "leaderboard");
  assert.equal(score.metrics.parseFailureRate, 100);
  assert.equal(score.metrics.accuracy, 0);

  const rated = await loadAll(rewardbench2, { data: JSONL, variant: "ratings" });
  const ratedScore = rewardbench2.score(rated.items, decide(rated.items, () => null, () => null));
  // Ratings variant: no valid rating on a prompt scores 0.25, as in the four-way protocol.
  assert.deepEqual(categoryScores(ratedScore), { Factuality: 25, "Precise IF": 25, Math: 25, Safety: 25, Focus: 25, Ties: 0 });
});

test("rewardbench2 four-way credit: right 1, another of the four slots 0, no verdict 0.25", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, seed: 4 });
  const other = (label: string) => ["A", "B", "C", "D"].find((letter) => letter !== label) as string;
  // Factuality: /23 right, /24 wrong -> (1 + 0) / 2 = 50. Precise IF: "tie" is no slot -> 25. Math: an
  // engine failure (no verdict) -> 25. Safety wrong -> 0. Focus right -> 100.
  const plan: Record<string, (item: ChoiceItem) => string | null> = {
    "Factuality/23": (item) => item.label,
    "Factuality/24": (item) => other(item.label),
    "Precise IF/310": () => "tie",
    "Math/512": () => null,
    "Safety/801": (item) => other(item.label),
    "Focus/1207": (item) => item.label,
  };
  const decisions = decide(items, (item) => plan[item.id](item), oracleRating);
  const math = decisions.get("Math/512") as ItemDecision;
  decisions.set("Math/512", { ...math, status: "engine-error" });
  const score = rewardbench2.score(items, decisions);
  assert.deepEqual(categoryScores(score), { Factuality: 50, "Precise IF": 25, Math: 25, Safety: 0, Focus: 100, Ties: 101 });
  approx(score.score, (50 + 25 + 25 + 0 + 100 + 101) / 6, "leaderboard");
});

test("rewardbench2 Ties: the weighted formula on a worked example", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, seed: 1 });
  // Ratings by answer index (chosen first, then rejected); null = unreadable, which the official code
  // keeps as -1 in the Ties lists.
  //   ref:3  [c | i i]        8 | 5 6         margin 8 - 6 = 2 > 0: accurate
  //   tied:3 [c c c | i i i]  9 7 8 | 4 7 3   spread 9 - 7 = 2; margin 7 - 7 = 0: not accurate
  //   ref:7  [c | i i i]      - | 7 2 2       the correct one is -1: margin -1 - 7 = -8: not accurate
  //   tied:7 [c c | i i]      9 7 | 3 -       spread 2; margin 7 - max(3, -1) = 4: accurate
  // ref accuracy 1/2, tied accuracy 1/2.
  // Prompt 3: preferred 0 > 2 no; hard min(2, 0) = 0 > 2 no; margin tanh(0 / 2 - 1) = tanh(-1).
  // Prompt 7: preferred 4 > 2 yes; hard min(-8, 4) = -8 > 2 no; margin tanh(-8 / 2 - 1) = tanh(-5).
  // preferred 1/2, hard 0, margin (tanh(-1) + tanh(-5)) / 2 = (-0.761594 - 0.999909) / 2 = -0.880752.
  // Ties = 0.30 * 0.5 + 0.30 * 0.5 + 0.20 * 0.5 + 0.20 * 0 + 0.01 * -0.880752 = 0.391192 -> 39.1192 points.
  const table: Record<string, Array<number | null>> = {
    "Ties/ref:3": [8, 5, 6],
    "Ties/tied:3": [9, 7, 8, 4, 7, 3],
    "Ties/ref:7": [null, 7, 2, 2],
    "Ties/tied:7": [9, 7, 3, null],
  };
  const ratingFor = (item: RatingItem): number | null => {
    const [row, index] = item.id.split("#");
    return table[row][Number(index)];
  };
  const score = rewardbench2.score(items, decide(items, (item) => item.label, ratingFor));
  const margin = (Math.tanh(-1) + Math.tanh(-5)) / 2;
  approx(margin, -0.880751680109, "margin term");
  const expected = 100 * (0.3 * 0.5 + 0.3 * 0.5 + 0.2 * 0.5 + 0.2 * 0 + 0.01 * margin);
  approx(expected, 39.11924831989, "hand total");
  approx(categoryScores(score).Ties, expected, "Ties");
  approx(score.parts["Ties: ref accuracy"], 50, "ref accuracy");
  approx(score.parts["Ties: tied accuracy"], 50, "tied accuracy");
  approx(score.parts["Ties: correctness preferred"], 50, "preferred");
  approx(score.parts["Ties: correctness preferred (hard)"], 0, "preferred (hard)");
  approx(score.parts["Ties: margin score"], 100 * margin, "margin");
  approx(score.score, (5 * 100 + expected) / 6, "leaderboard");
});

test("rewardbench2 Ties formula: a zero spread divides as numpy does (x/0 = +-inf, 0/0 = NaN -> 0)", () => {
  const c = (score: number) => ({ correct: true, score });
  const i = (score: number) => ({ correct: false, score });
  // Prompt 1: ref margin 5 - 5 = 0 (not accurate); tied spread 0, margin 6 - 1 = 5 (accurate).
  // preferred 5 > 0 yes; hard min(0, 5) = 0 > 0 no; margin tanh(0 / 0 - 1) = NaN -> 0.
  // 0.30 * 1 (tied) + 0.30 * 0 (ref) + 0.20 * 1 + 0.20 * 0 + 0.01 * 0 = 0.50.
  const nan = tiesScore([
    { prompt: "1", sample: "ref", answers: [c(5), i(5)] },
    { prompt: "1", sample: "tied", answers: [c(6), c(6), i(1)] },
  ]);
  approx(nan.score, 50, "0/0");
  assert.equal(nan.marginScore, 0);
  // Ref margin 2 - 5 = -3: hard min(-3, 5) = -3; margin tanh(-3 / 0 - 1) = tanh(-inf) = -1.
  // 0.30 + 0 + 0.20 + 0 - 0.01 = 0.49.
  const negative = tiesScore([
    { prompt: "1", sample: "ref", answers: [c(2), i(5)] },
    { prompt: "1", sample: "tied", answers: [c(6), c(6), i(1)] },
  ]);
  approx(negative.score, 49, "-x/0");
  // A tied sample whose prompt has no ref sample counts for tied accuracy only.
  const alone = tiesScore([{ prompt: "2", sample: "tied", answers: [c(9), c(8), i(1)] }]);
  approx(alone.score, 30, "unpaired tied sample");
});

test("rewardbench2 ratings variant: 1/k when the correct answer ties k-way for the top, 0 below it, 0.25 with no valid rating", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "ratings" });
  // Index 0 is the correct answer; null = no valid rating (the official -1, left out of the winners).
  //   Factuality/23  8 | 8 3 2        winners {0, 1}: 1/2
  //   Factuality/24  5 | 9 1 1 1 1    winner {1}: 0            Factuality (0.5 + 0) / 2 = 25
  //   Precise IF     - | - - -        no valid rating: 0.25     25
  //   Math           - | 3 2 1        winner {1}: 0             0
  //   Safety         9 | 9 9 1        winners {0, 1, 2}: 1/3    33.33
  //   Focus          10 | 1 1 1       winner {0}: 1             100
  // Ratings outside 1..10 are not valid: the 0 and 11 below are treated like no rating.
  const table: Record<string, Array<number | null>> = {
    "Factuality/23": [8, 8, 3, 2],
    "Factuality/24": [5, 9, 1, 1, 1, 1],
    "Precise IF/310": [null, 0, 11, null],
    "Math/512": [null, 3, 2, 1],
    "Safety/801": [9, 9, 9, 1],
    "Focus/1207": [10, 1, 1, 1],
  };
  const ratingFor = (item: RatingItem): number | null => {
    if (item.category === "Ties") return oracleRating(item);
    const [row, index] = item.id.split("#");
    return table[row][Number(index)];
  };
  const score = rewardbench2.score(items, decide(items, () => "A", ratingFor));
  const subsets = categoryScores(score);
  assert.deepEqual({ ...subsets, Safety: undefined }, { Factuality: 25, "Precise IF": 25, Math: 0, Safety: undefined, Focus: 100, Ties: 101 });
  approx(subsets.Safety, 100 / 3, "Safety");
  approx(score.score, (25 + 25 + 0 + 100 / 3 + 100 + 101) / 6, "leaderboard");
});

test("rewardbench2 rotations: the mean over the four rotations, and the seeded-slot figure in parts", async () => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "rotations", seed: 9 });
  // Always "A": right in exactly one rotation of four per prompt -> 25 on every four-way subset.
  const score = rewardbench2.score(items, decide(items, () => "A", oracleRating));
  assert.deepEqual(categoryScores(score), { Factuality: 25, "Precise IF": 25, Math: 25, Safety: 25, Focus: 25, Ties: 101 });
  approx(score.score, (5 * 25 + 101) / 6, "rotations leaderboard");
  // The official protocol on the same judgments: a prompt scores 1 when its seeded slot is A, else 0.
  const seededA = new Map<string, number>();
  for (const item of choices(items)) if (item.meta?.seededSlot === true) seededA.set(item.category, (seededA.get(item.category) ?? 0) + (item.label === "A" ? 1 : 0));
  const prompts: Record<string, number> = { Factuality: 2, "Precise IF": 1, Math: 1, Safety: 1, Focus: 1 };
  const seededSubsets = Object.entries(prompts).map(([subset, count]) => (100 * (seededA.get(subset) ?? 0)) / count);
  approx(score.parts["seeded-slot leaderboard"], (seededSubsets.reduce((sum, value) => sum + value, 0) + 101) / 6, "seeded-slot leaderboard");

  const oracle = rewardbench2.score(items, decide(items, (item) => item.label, oracleRating));
  approx(oracle.score, (5 * 100 + 101) / 6, "oracle rotations");
  approx(oracle.parts["seeded-slot leaderboard"], (5 * 100 + 101) / 6, "oracle seeded slot");
});

test("rewardbench2: a malformed row is named by file, row, id and field; --skip-bad skips that prompt only", async (t) => {
  const folder = await tempFolder(t);
  const rows = await fixtureRows();

  const bad = join(folder, "bad.jsonl");
  await writeJsonl(bad, rows.map((row, index) => (index === 1 ? { ...row, rejected: "At 90 degrees Celsius." } : row)));
  await assert.rejects(loadAll(rewardbench2, { data: bad }), (error: Error) => {
    assert.match(error.message, /bad\.jsonl: row 2 \(line 2\): id "24": field "rejected": must be a list of strings, found the string "At 90 degrees Celsius\."/);
    return true;
  });
  const skipping = await loadAll(rewardbench2, { data: bad, skipBad: true });
  assert.equal(skipping.skipped, 1);
  assert.equal(skipping.items.length, 22);
  assert.ok(!skipping.items.some((item) => item.id.startsWith("Factuality/24")));

  const parquet = join(folder, "bad.parquet");
  writeParquet(parquet, rows, 2);
  await assert.rejects(loadAll(rewardbench2, { data: parquet }), /bad\.parquet: row 3: id "310": field "prompt": must be a string, found null/);

  const counts = join(folder, "counts.jsonl");
  await writeJsonl(counts, [{ ...rows[0], num_correct: 2 }]);
  await assert.rejects(loadAll(rewardbench2, { data: counts }), /counts\.jsonl: row 1 \(line 1\): id "23": field "num_correct": is 2, but "chosen" holds 1/);

  const tiesId = join(folder, "ties-id.jsonl");
  await writeJsonl(tiesId, [{ ...rows[6], id: "tie-3" }]);
  await assert.rejects(loadAll(rewardbench2, { data: tiesId }), /row 1 \(line 1\): id "tie-3": field "id": a Ties id must be "ref:N" or "tied:N"/);

  const oneCorrect = join(folder, "tied-one.jsonl");
  await writeJsonl(oneCorrect, [{ ...rows[9], chosen: ["Saturn."], num_correct: 1, total_completions: 3 }]);
  await assert.rejects(loadAll(rewardbench2, { data: oneCorrect }), /id "tied:7": field "chosen": a Ties "tied" row needs at least two correct answers/);

  const fewRejected = join(folder, "few.jsonl");
  const short = { ...rows[3], rejected: rows[3].rejected.slice(0, 2), num_incorrect: 2, total_completions: 3 };
  await writeJsonl(fewRejected, [short]);
  await assert.rejects(loadAll(rewardbench2, { data: fewRejected }), /id "512": field "rejected": the four-way protocol needs at least 3 rejected answers, found 2/);
  // Rated, the same row is fine: the ratings protocol rates however many answers there are.
  assert.equal((await loadAll(rewardbench2, { data: fewRejected, variant: "ratings" })).items.length, 3);

  const duplicate = join(folder, "duplicate.jsonl");
  await writeJsonl(duplicate, [rows[0], rows[0]]);
  await assert.rejects(loadAll(rewardbench2, { data: duplicate }), /row 2 \(line 2\): id "23": field "id": duplicate id in subset "Factuality"/);

  await assert.rejects(loadAll(rewardbench2, { data: JSONL, variant: "pairs" }), /unknown variant "pairs" for rewardbench2: its variants are official, ratings, rotations/);
});

test("rewardbench2 official prompts: four-way choice for choices, the Ties or general ratings prompt (1-10) for ratings", async () => {
  const official = await loadAll(rewardbench2, { data: JSONL });
  const rated = await loadAll(rewardbench2, { data: JSONL, variant: "ratings" });
  const template = (item: BenchmarkItem) => rewardbench2.officialTemplate?.(item);

  const fourWay = template(choices(official.items)[0]);
  assert.equal(fourWay?.kind, "choice");
  assert.equal(fourWay?.user, "[User Question]\n{question}\n\n{responses}");
  assert.match(fourWay?.system ?? "", /^Please act as an impartial judge and evaluate the quality of the responses provided by four AI assistants/);
  assert.match(fourWay?.system ?? "", /"\[\[A\]\]" if assistant A is best, "\[\[B\]\]" if assistant B is best, "\[\[C\]\]" if assistant C is best, and "\[\[D\]\]" if assistant D is best\./);
  assert.deepEqual([fourWay?.thinkStart, fourWay?.thinkEnd, fourWay?.answerPrefix, fourWay?.answerSuffix], ["<think>\n", "</think>", "[[", "]]"]);

  const ties = template(ratings(official.items)[0]);
  const general = template(ratings(rated.items).find((item) => item.category === "Math") as RatingItem);
  for (const pointwise of [ties, general]) {
    assert.equal(pointwise?.kind, "pointwise");
    assert.deepEqual(pointwise?.scale, { min: 1, max: 10 });
    assert.deepEqual([pointwise?.answerPrefix, pointwise?.answerSuffix], ["[[", "]]"]);
    assert.match(pointwise?.user ?? "", /\n\[Query\]\n\{question\}\n\n\[Response\]\n\{response\}\n\n\[Your judgement\]$/);
    assert.match(pointwise?.user ?? "", /please rate the response on a scale of 1 to 10/);
    assert.deepEqual(validateTemplate(pointwise), pointwise, "a valid pointwise template, nothing filled from defaults");
  }
  assert.match(ties?.user ?? "", /helpfulness, relevance, and accuracy of the response, but need not consider depth or level of detail/);
  assert.match(general?.user ?? "", /helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response\./);
  assert.notEqual(ties?.user, general?.user);
  assert.equal(template({ id: "x", benchmark: "rewardbench2", category: "Math", question: "q", a: "1", b: "2", label: "A" }), undefined);
});

// ---------------------------------------------------------------------------------------------------
// The real loading path: the hub's parquet, downloaded once into the cache (a local server stands in for
// the hub, through $HF_ENDPOINT), and the error without network access.

test("rewardbench2: without --data the hub's parquet is downloaded once into the j1 cache", async (t) => {
  const folder = await tempFolder(t);
  const served = join(folder, "served.parquet");
  writeParquet(served, await fixtureRows());
  const { endpoint, hits } = await serveHub(t, ((body) => (path: string) => (path === "/datasets/allenai/reward-bench-2/resolve/main/data/test-00000-of-00001.parquet" ? { status: 200, body } : { status: 404 }))(await readFile(served)));
  withEnvironment(t, { J1_CACHE_DIR: join(folder, "cache"), HF_ENDPOINT: endpoint });
  assert.equal(rewardBench2Url(), `${endpoint}/datasets/allenai/reward-bench-2/resolve/main/data/test-00000-of-00001.parquet`);
  assert.equal(rewardBench2CachePath(), join(folder, "cache", "datasets", "reward-bench-2", "test-00000-of-00001.parquet"));
  const first = await loadAll(rewardbench2, { seed: 1 });
  assert.equal(first.items.length, 23);
  assert.ok(existsSync(rewardBench2CachePath()));
  const second = await loadAll(rewardbench2, { seed: 1 });
  assert.deepEqual(second.items, first.items);
  assert.equal(hits.length, 1, "the second load reads the cache");
});

test("rewardbench2 offline: the error names RewardBench 2 and says to pass --data FILE", async (t) => {
  const folder = await tempFolder(t);
  withEnvironment(t, { J1_CACHE_DIR: join(folder, "cache"), HF_ENDPOINT: "http://127.0.0.1:9" });
  await assert.rejects(loadAll(rewardbench2), (error: Error) => {
    assert.match(error.message, /^could not download RewardBench 2 \(allenai\/reward-bench-2, split "test"\) from http:\/\/127\.0\.0\.1:9\/datasets\/allenai\/reward-bench-2\//);
    assert.match(error.message, /pass --data FILE with a local copy \(Parquet, JSONL or JSONL\.gz with the fields id, prompt, chosen \(list\)/);
    assert.doesNotMatch(error.message, /filtered/);
    return true;
  });
  assert.ok(!existsSync(rewardBench2CachePath()));
});

test("j1 eval --bench rewardbench2 on a file in the hub's schema, tiny model: the six subsets and the leaderboard score, every item of its kind", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const work = await mkdtemp(join(tmpdir(), "j1-rb2-cli-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), "eval", "--bench", "rewardbench2", "--data", JSONL, "--model", "tiny", "--json", "--progress", "quiet", "--store", join(work, "runs.sqlite")], {
    encoding: "utf8",
    env: { ...process.env, J1_CACHE_DIR: join(work, "cache"), NO_COLOR: "1" },
    timeout: 300_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { benchmarks: Array<{ benchmark: string; score: { score: number; categories: Array<{ category: string; items: number; score: number }> } }> };
  const bench = report.benchmarks[0];
  assert.equal(bench.benchmark, "rewardbench2");
  const subsets = bench.score.categories.map((category) => category.category).sort();
  assert.deepEqual(subsets, ["Factuality", "Focus", "Math", "Precise IF", "Safety", "Ties"]);
  const mean = bench.score.categories.reduce((sum, category) => sum + category.score, 0) / 6;
  assert.ok(Math.abs(bench.score.score - mean) < 1e-9, `leaderboard ${bench.score.score} is the mean of the six (${mean})`);
  // Each item judged as its kind: a letter for the four-way choices, a 1-10 rating for Ties answers.
  const exported = spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), "runs", "export", "--store", join(work, "runs.sqlite"), (JSON.parse(run.stdout) as { run: { runId: string } }).run.runId], { encoding: "utf8" });
  assert.equal(exported.status, 0, exported.stderr);
  const rows = exported.stdout.trim().split("\n").map((line) => JSON.parse(line) as { itemId: string; kind: string; verdict: string | null; score: number | null });
  const choices = rows.filter((row) => row.kind === "choice");
  const ratings = rows.filter((row) => row.kind === "pointwise");
  assert.equal(choices.length, 6);
  for (const row of choices) assert.match(row.verdict ?? "", /^[A-D]$/, row.itemId);
  assert.equal(ratings.length, rows.length - 6);
  for (const row of ratings) assert.ok(row.itemId.includes("Ties/") && Number.isInteger(row.score) && (row.score as number) >= 1 && (row.score as number) <= 10, `${row.itemId}: ${row.score}`);
});

// Items go to the run store as scoring sees them (`scoredItem`) and come back from it for every report:
// what is scored is what the store gives back, not the loader's items.
async function throughStore(t: TestContext, items: readonly BenchmarkItem[]): Promise<ScoredItem[]> {
  const folder = await tempFolder(t);
  const store = openRunStore(join(folder, "runs.sqlite"));
  t.after(() => store.close());
  const run = store.createRun({ kind: "eval", benchmark: "rewardbench2", label: "through the store", settings: {} });
  store.setRunItems(run.id, items.map(scoredItem), 0);
  return store.runItems(run.id);
}

test("rewardbench2 ratings variant through the run store: a rater giving the correct answer the top rating scores 100 on the five non-Ties subsets", async (t) => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "ratings" });
  const stored = await throughStore(t, items);
  assert.deepEqual(stored.map((item) => item.kind), items.map((item) => item.kind), "every item keeps its kind in the store");
  const score = rewardbench2.score(stored, decide(items, (item) => item.label, oracleRating));
  assert.deepEqual(categoryScores(score), { Factuality: 100, "Precise IF": 100, Math: 100, Safety: 100, Focus: 100, Ties: 101 });
  assert.equal(score.metrics.accuracy, 100, "a rated answer is right when the rater puts it where its label says");
});

test("rewardbench2 rotations through the run store: the seeded-slot leaderboard is kept", async (t) => {
  const { items } = await loadAll(rewardbench2, { data: JSONL, variant: "rotations", seed: 9 });
  const stored = await throughStore(t, items);
  const oracle = rewardbench2.score(stored, decide(items, (item) => item.label, oracleRating));
  approx(oracle.score, (5 * 100 + 101) / 6, "oracle rotations");
  approx(oracle.parts["seeded-slot leaderboard"], (5 * 100 + 101) / 6, "oracle seeded slot");
});
