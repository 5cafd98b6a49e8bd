import assert from "node:assert/strict";
import { serveHub, withEnvironment } from "./helpers/hub-stand-in.js";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parquetWriteFile } from "hyparquet-writer";
import { projectRoot } from "../src/eval/benchmarks/data-location.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { readRows } from "../src/eval/benchmarks/read-rows.js";
import { rewardbench } from "../src/eval/benchmarks/rewardbench.js";
import { downloadParquet, rewardBenchCachePath, rewardBenchUrl } from "../src/eval/benchmarks/rewardbench-download.js";

const JSONL = join(projectRoot(), "test", "fixtures", "benchmarks", "rewardbench", "filtered.jsonl");

interface RewardBenchRow {
  prompt: string;
  chosen: string;
  chosen_model: string;
  rejected: string;
  rejected_model: string;
  subset: string;
  id: number;
}

async function fixtureRows(): Promise<RewardBenchRow[]> {
  return (await readFile(JSONL, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as RewardBenchRow);
}

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "j1-rb-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

/**
 * Writes rows in RewardBench's Parquet schema (strings, int64 id, as on the hub), two rows per row group so
 * that reading one group at a time is exercised. `nullSubsetAt` blanks one subset to make a bad row.
 */
function writeParquet(file: string, rows: RewardBenchRow[], nullSubsetAt?: number): void {
  const column = (name: keyof RewardBenchRow) => rows.map((row, index) => (name === "subset" && index === nullSubsetAt ? null : row[name]));
  parquetWriteFile({
    filename: file,
    rowGroupSize: 2,
    columnData: [
      { name: "prompt", data: column("prompt"), type: "STRING" },
      { name: "chosen", data: column("chosen"), type: "STRING" },
      { name: "chosen_model", data: column("chosen_model"), type: "STRING" },
      { name: "rejected", data: column("rejected"), type: "STRING" },
      { name: "rejected_model", data: column("rejected_model"), type: "STRING" },
      { name: "subset", data: column("subset"), type: "STRING", nullable: true },
      { name: "id", data: rows.map((row) => BigInt(row.id)), type: "INT64" },
    ],
  });
}

test("rewardbench: a Parquet copy loads the same items as the JSONL copy", async (t) => {
  const parquet = join(await tempFolder(t), "filtered.parquet");
  writeParquet(parquet, await fixtureRows());
  const fromParquet = await loadAll(rewardbench, { data: parquet });
  const fromJsonl = await loadAll(rewardbench, { data: JSONL });
  assert.equal(fromParquet.items.length, 6);
  assert.deepEqual(fromParquet.items, fromJsonl.items);
});

test("rewardbench: a bad Parquet row is named by row number and field", async (t) => {
  const parquet = join(await tempFolder(t), "filtered.parquet");
  writeParquet(parquet, await fixtureRows(), 2);
  await assert.rejects(loadAll(rewardbench, { data: parquet }), /filtered\.parquet: row 3 \(id "412"\): field "subset": must be a string, found null/);
  const skipping = await loadAll(rewardbench, { data: parquet, skipBad: true });
  assert.equal(skipping.items.length, 5);
  assert.equal(skipping.skipped, 1);
});

test("rewardbench: without --data the split is downloaded once into the j1 cache, then read from there", async (t) => {
  const folder = await tempFolder(t);
  const served = join(folder, "served.parquet");
  writeParquet(served, await fixtureRows());
  const body = await readFile(served);
  const { endpoint, hits } = await serveHub(t, (path) => (path.endsWith("/filtered-00000-of-00001.parquet") ? { status: 200, body } : { status: 404 }));
  withEnvironment(t, { J1_CACHE_DIR: join(folder, "cache"), HF_ENDPOINT: endpoint, J1_BENCHMARKS_DIR: join(folder, "no-shared-copy") });
  assert.equal(rewardBenchUrl(), `${endpoint}/datasets/allenai/reward-bench/resolve/main/data/filtered-00000-of-00001.parquet`);
  assert.equal(rewardBenchCachePath(), join(folder, "cache", "datasets", "reward-bench", "filtered-00000-of-00001.parquet"));

  const first = await loadAll(rewardbench);
  assert.equal(first.items.length, 6);
  assert.ok(existsSync(rewardBenchCachePath()));
  assert.deepEqual(await readdir(join(folder, "cache", "datasets", "reward-bench")), ["filtered-00000-of-00001.parquet"]);
  const second = await loadAll(rewardbench);
  assert.deepEqual(second.items, first.items);
  assert.equal(hits.length, 1, "the second load reads the cache");
});

test("rewardbench download: progress is reported, and a response that is not Parquet leaves no file behind", async (t) => {
  const folder = await tempFolder(t);
  const served = join(folder, "served.parquet");
  writeParquet(served, await fixtureRows());
  const body = await readFile(served);
  const { endpoint } = await serveHub(t, (path) => (path === "/good" ? { status: 200, body } : { status: 200, body: Buffer.from("<html>login</html>") }));
  const progress: Array<{ receivedBytes: number; totalBytes?: number }> = [];
  const destination = join(folder, "out", "split.parquet");
  await downloadParquet(`${endpoint}/good`, destination, { onProgress: (update) => progress.push(update) });
  assert.ok(progress.length > 0);
  assert.deepEqual(progress.at(-1), { receivedBytes: body.length, totalBytes: body.length });
  assert.deepEqual(await readFile(destination), body);

  const html = join(folder, "out", "html.parquet");
  await assert.rejects(downloadParquet(`${endpoint}/html`, html), /not a Parquet file.*--data FILE/s);
  assert.ok(!existsSync(html) && !existsSync(`${html}.part`));
});

test("rewardbench offline: the error says to pass --data FILE", async (t) => {
  const folder = await tempFolder(t);
  const { endpoint } = await serveHub(t, () => ({ status: 404 }));
  withEnvironment(t, { J1_CACHE_DIR: join(folder, "cache"), HF_ENDPOINT: endpoint, J1_BENCHMARKS_DIR: join(folder, "no-shared-copy") });
  await assert.rejects(loadAll(rewardbench), /could not download RewardBench .*HTTP 404.*pass --data FILE/s);

  // No server at all (a closed port), as on a machine without network access.
  withEnvironment(t, { HF_ENDPOINT: "http://127.0.0.1:9" });
  await assert.rejects(loadAll(rewardbench), (error: Error) => /could not download RewardBench/.test(error.message) && /pass --data FILE/.test(error.message));
  assert.ok(!existsSync(rewardBenchCachePath()));
});

test("rewardbench: int64 ids decode as plain numbers from Parquet", async (t) => {
  const parquet = join(await tempFolder(t), "filtered.parquet");
  writeParquet(parquet, await fixtureRows());
  const ids: unknown[] = [];
  for await (const row of readRows(parquet)) ids.push((row.value as { id: unknown }).id);
  assert.deepEqual(ids, [0, 1, 412, 1205, 2001, 3300]);
});
