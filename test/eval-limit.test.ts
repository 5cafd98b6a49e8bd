import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { projectRoot, sharedBenchmarksDir } from "../src/eval/benchmarks/data-location.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { runItems, type ItemLimit, type Population } from "../src/eval/item-stream.js";
import { rewardBenchSection } from "../src/eval/scoring/rewardbench-sections.js";
import type { BenchmarkItem } from "../src/eval/types.js";

// --limit: a stratified seeded sample across subsets and sections (or the first rows with --limit-first),
// and every partial figure labelled "N of M items".

const SHARED = sharedBenchmarksDir();
const REWARDBENCH = join(SHARED, "rewardbench", "filtered.jsonl.gz");
const REWARDMATH = join(SHARED, "rewardmath", "RewardMATH_direct.json");

function sharedPresent(t: TestContext): boolean {
  if (existsSync(SHARED)) return true;
  if (process.env.CI) assert.fail(`${SHARED} is absent, but CI must test on the real benchmark files`);
  t.skip("../shared/benchmarks absent");
  return false;
}

async function take(name: string, data: string, limit: ItemLimit): Promise<{ items: BenchmarkItem[]; population?: Population }> {
  const items: BenchmarkItem[] = [];
  let population: Population | undefined;
  for await (const item of runItems(getBenchmark(name), { data }, limit, (counted) => (population = counted))) items.push(item);
  return { items, population };
}

test("--limit 30 on RewardBench: a sample from all four sections and every subset, 30 of 2,985 items", async (t) => {
  if (!sharedPresent(t)) return;
  const { items, population } = await take("rewardbench", REWARDBENCH, { count: 30, mode: "sample", seed: 0 });
  assert.equal(items.length, 30);
  assert.deepEqual(population, { items: 30, of: 2985 });
  const sections = new Set(items.map((item) => rewardBenchSection(item.category)));
  assert.deepEqual([...sections].sort(), ["Chat", "Chat Hard", "Reasoning", "Safety"]);
  assert.equal(new Set(items.map((item) => item.category)).size, 23, "30 items reach each of the 23 subsets");
  // Seeded: the same seed draws the same items, another seed others.
  const again = await take("rewardbench", REWARDBENCH, { count: 30, mode: "sample", seed: 0 });
  assert.deepEqual(again.items.map((item) => item.id), items.map((item) => item.id));
  const other = await take("rewardbench", REWARDBENCH, { count: 30, mode: "sample", seed: 7 });
  assert.notDeepEqual(other.items.map((item) => item.id), items.map((item) => item.id));
});

test("--limit-first takes the first rows in file order (one subset of one section), still labelled of 2,985", async (t) => {
  if (!sharedPresent(t)) return;
  const { items, population } = await take("rewardbench", REWARDBENCH, { count: 30, mode: "first" });
  assert.equal(items.length, 30);
  assert.deepEqual(population, { items: 30, of: 2985 });
  assert.equal(new Set(items.map((item) => item.category)).size, 1);
});

test("--limit sample on a grouped benchmark keeps groups whole (RewardMATH: a problem's 9 pairs)", async (t) => {
  if (!sharedPresent(t)) return;
  const { items, population } = await take("rewardmath", REWARDMATH, { count: 3, mode: "sample", seed: 0 });
  assert.equal(items.length, 9, "one problem, completed");
  assert.equal(new Set(items.map((item) => item.group)).size, 1);
  assert.equal(population?.of, 18);
});

test("j1 eval --limit: the terminal, JSON and markdown reports label the figure \"N of M items\" and say it is not official", async (t) => {
  if (!sharedPresent(t)) return;
  const work = await mkdtemp(join(tmpdir(), "j1-limit-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const j1 = (...args: string[]) => spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), ...args], { encoding: "utf8", env: { ...process.env, J1_CACHE_DIR: join(work, "cache"), NO_COLOR: "1" }, timeout: 300_000 });
  const store = join(work, "runs.sqlite");
  const run = j1("eval", "--bench", "rewardbench", "--data", REWARDBENCH, "--limit", "30", "--model", "tiny", "--json", "--progress", "quiet", "--store", store);
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { run: { runId: string }; partial?: string; label: string; benchmarks: Array<{ partial?: { items: number; of: number; mode: string } }> };
  assert.equal(report.partial, "30 of 2,985 items");
  assert.deepEqual(report.benchmarks[0].partial, { items: 30, of: 2985, mode: "sample", text: "30 of 2,985 items" });
  assert.match(report.label, /sample of 30/, "the run's label says it is a sample");
  const terminal = j1("report", report.run.runId, "--store", store);
  assert.equal(terminal.status, 0, terminal.stderr);
  assert.match(terminal.stdout, /\(partial: 30 of 2,985 items\)/);
  assert.match(terminal.stdout, /not official figures: rewardbench 30 of 2,985 items/);
  const markdown = j1("report", report.run.runId, "--store", store, "--md", join(work, "report.md"));
  assert.equal(markdown.status, 0, markdown.stderr);
  const html = j1("report", report.run.runId, "--store", store, "--html", join(work, "report.html"));
  assert.equal(html.status, 0, html.stderr);
  const { readFile } = await import("node:fs/promises");
  assert.match(await readFile(join(work, "report.md"), "utf8"), /## rewardbench \(partial: 30 of 2,985 items\)/);
  assert.match(await readFile(join(work, "report.html"), "utf8"), /partial: 30 of 2,985 items/);
});
