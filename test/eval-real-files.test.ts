import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { sharedBenchmarksDir } from "../src/eval/benchmarks/data-location.js";
import { joinTranscript } from "../src/eval/benchmarks/hh-transcript.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { readRows } from "../src/eval/benchmarks/read-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { asPair, type PairItem } from "../src/eval/types.js";

// The real benchmark files (../shared/benchmarks, see its README). A fresh clone may lack them: then these
// tests say so and skip; in CI the folder is always there, so its absence fails.
const SHARED = sharedBenchmarksDir();

function sharedPresent(t: TestContext): boolean {
  if (existsSync(SHARED)) return true;
  if (process.env.CI) assert.fail(`${SHARED} is absent, but CI must test on the real benchmark files`);
  t.skip("../shared/benchmarks absent");
  return false;
}

/** Default location: no --data, so each loader finds its real file itself. */
async function loadDefault(name: string): Promise<PairItem[]> {
  const loaded = await loadAll(getBenchmark(name));
  assert.equal(loaded.skipped, 0);
  return loaded.items.map(asPair);
}

function countBy(list: readonly PairItem[], key: (item: PairItem) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of list) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

test("real harmless: 2312 pairs; every split rebuilds both transcripts exactly", async (t) => {
  if (!sharedPresent(t)) return;
  const list = await loadDefault("harmless");
  assert.equal(list.length, 2312);
  const rows: Array<{ chosen: string; rejected: string }> = [];
  for await (const row of readRows(join(SHARED, "hh-rlhf-harmless-base", "test.jsonl.gz"))) rows.push(row.value as { chosen: string; rejected: string });
  assert.equal(rows.length, 2312);
  list.forEach((item, index) => {
    assert.equal(joinTranscript(item, item.a), rows[index].chosen, `row ${index + 1} chosen`);
    assert.equal(joinTranscript(item, item.b), rows[index].rejected, `row ${index + 1} rejected`);
  });
  // The first row: a three-turn conversation; the last human turn is the question.
  assert.equal(list[0].question, "okay some of these do not have anything to do with pens");
  assert.ok(list[0].context?.startsWith("Human: what are some pranks with a pen i can do?\n\nAssistant: Are you looking for practical joke ideas?"));
  assert.ok(list[0].a.startsWith("No, sorry!  All of these involve a pen"));
  // Row 1255: the chosen final turn contains "\n\nAssistant:" itself; the split is where the two transcripts part.
  assert.equal(list[1254].question, "Isn't that drag kings?");
  assert.ok(list[1254].a.startsWith("No. Men who impersonate stereotypical women are called drag kings."));
  assert.ok(list[1254].b.startsWith("A drag king is the opposite of a drag queen"));
});

test("real codepref: 660 / 352 / 207 / 145 in the four categories", async (t) => {
  if (!sharedPresent(t)) return;
  const list = await loadDefault("codepref");
  assert.deepEqual(countBy(list, (item) => item.category), { correctness: 660, efficiency: 352, security: 207, "human-preference": 145 });
  assert.deepEqual(countBy(list, (item) => item.label), { A: 692, B: 672 });
  assert.equal(new Set(list.map((item) => item.id)).size, list.length);
});

test("real judgebench: 350 pairs, Knowledge 154 / Reasoning 98 / Math 56 / Coding 42", async (t) => {
  if (!sharedPresent(t)) return;
  const list = await loadDefault("judgebench");
  assert.equal(list.length, 350);
  assert.deepEqual(countBy(list, (item) => item.category), { Knowledge: 154, Reasoning: 98, Math: 56, Coding: 42 });
  assert.deepEqual(countBy(list, (item) => item.label), { A: 193, B: 157 });
});

test("real rmbench: chat 129 prompts -> 1161 items, code 228 -> 2052", async (t) => {
  if (!sharedPresent(t)) return;
  const list = await loadDefault("rmbench");
  assert.deepEqual(countBy(list, (item) => item.category), { chat: 1161, code: 2052 });
  assert.equal(new Set(list.map((item) => item.group)).size, 129 + 228);
  assert.deepEqual(countBy(list, (item) => `${item.meta?.i}${item.meta?.j}`), { "00": 357, "01": 357, "02": 357, "10": 357, "11": 357, "12": 357, "20": 357, "21": 357, "22": 357 });
  const chatOnly = await loadAll(getBenchmark("rmbench"), { data: join(SHARED, "rm-bench", "chat_filtered.json") });
  assert.equal(chatOnly.items.length, 1161);
});

test("real llmbar: Natural 100, Adversarial_Neighbor 134", async (t) => {
  if (!sharedPresent(t)) return;
  const list = await loadDefault("llmbar");
  assert.deepEqual(countBy(list, (item) => item.category), { Natural: 100, Adversarial_Neighbor: 134 });
  assert.deepEqual(countBy(list, (item) => `${item.category}:${item.label}`), {
    "Natural:A": 42, "Natural:B": 58, "Adversarial_Neighbor:A": 75, "Adversarial_Neighbor:B": 59,
  });
});

test("real rewardmath: direct 20 rows -> 2 problems, 18 pairs; pairwise 18 pairs", async (t) => {
  if (!sharedPresent(t)) return;
  const direct = await loadDefault("rewardmath");
  assert.equal(direct.length, 18);
  assert.deepEqual(countBy(direct, (item) => item.group ?? "none"), { "0": 9, "399": 9 });
  assert.ok(direct.every((item) => item.label === "A" && item.category === "Algebra"));
  const pairwise = await loadDefault("rewardmath-pairwise");
  assert.equal(pairwise.length, 18);
  assert.deepEqual(countBy(pairwise, (item) => item.group ?? "none"), { "0": 9, "399": 9 });
  assert.deepEqual(countBy(pairwise, (item) => item.label), { A: 8, B: 10 });
});

test("real files, no --data: --bench paper finds each of its four benchmarks (RewardBench's filtered split whole, 23 subsets)", async (t) => {
  if (!sharedPresent(t)) return;
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const bin = join(fileURLToPath(new URL("../..", import.meta.url)), "bin", "j1");
  const run = spawnSync(process.execPath, [bin, "eval", "--bench", "paper", "--dry-run", "--json"], { encoding: "utf8", env: { ...process.env, J1_CACHE_DIR: join(SHARED, "..", "no-cache-needed") } });
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { benchmarks: Array<{ benchmark: string; items: number; categories: Record<string, number> }> };
  const counts = Object.fromEntries(summary.benchmarks.map((bench) => [bench.benchmark, bench.items]));
  assert.deepEqual(counts, { rewardbench: 2985, rewardmath: 18, harmless: 2312, codepref: 1364 });
  assert.equal(Object.keys(summary.benchmarks[0].categories).length, 23);
});
