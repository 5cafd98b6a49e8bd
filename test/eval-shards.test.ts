/**
 * `j1 eval --shard i/n` on separate stores, then `j1 runs merge`: the merged run's report equals the
 * unsharded run's (all but the run's own id and time); shards of other settings or data, unfinished or
 * missing shards are refused, naming what differs. The tiny model in process, through the real CLI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseShard, ShardDealer } from "../src/eval/shard.js";
import type { BenchmarkItem } from "../src/eval/types.js";
import { shellQuote } from "../src/core/shell-quote.js";
import { openRunStore } from "../src/store/run-store.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-shards-"));
const env = { ...process.env, NO_COLOR: "1" };

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const PAIRS = [
  ["2+2?", "4", "5", "A"],
  ["Capital of France?", "Lyon", "Paris", "B"],
  ["Colour of the sky?", "blue", "green", "A"],
  ["3*3?", "9", "6", "A"],
  ["Largest planet?", "Mars", "Jupiter", "B"],
  ["Water is?", "H2O", "NaCl", "A"],
  ["1+1?", "3", "2", "B"],
];
const data = path.join(work, "pairs.jsonl");
writeFileSync(data, PAIRS.map(([question, a, b, label], index) => JSON.stringify({ id: `p${index}`, question, a, b, label })).join("\n") + "\n");
const common = ["--bench", "pairs", "--data", data, "--model", "tiny", "--waits", "2", "--sweep", "waits=0,1,2", "--label", "tiny", "--progress", "quiet", "--json"];

/**
 * The report without what names the run itself (its id and when it was made) and the evaluated-token
 * means, which depend on each process's prefix cache (a shard starts with an empty one, as a resumed run
 * does: docs/architecture.md, "Run store"); `evaluated` lists those, to be compared apart.
 */
function reportOf(stdout: string): { report: Record<string, unknown>; evaluated: number[] } {
  const report = JSON.parse(stdout) as Record<string, unknown>;
  for (const field of ["runId", "createdAt", "run", "merged"]) delete report[field];
  const evaluated: number[] = [];
  const strip = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(strip);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (/evaluated/i.test(key) && typeof inner === "number") {
          evaluated.push(inner);
          delete (value as Record<string, unknown>)[key];
        } else strip(inner);
      }
    }
  };
  strip(report);
  return { report, evaluated };
}

test("shards are disjoint, complete and whole groups, the same on every pass", () => {
  const items: BenchmarkItem[] = Array.from({ length: 10 }, (_, index) => ({ kind: "pair", id: `i${index}`, group: `g${Math.floor(index / 2)}`, category: "c", label: "A", question: "q", a: "a", b: "b" }) as unknown as BenchmarkItem);
  const shares = [1, 2, 3].map((index) => {
    const dealer = new ShardDealer({ index, count: 3 });
    return items.filter((item) => dealer.take(item)).map((item) => item.id);
  });
  assert.deepEqual(shares.flat().sort(), items.map((item) => item.id).sort(), "complete and disjoint");
  for (const share of shares) for (const id of share) assert.ok(share.includes(`i${Number(id.slice(1)) ^ 1}`), `${id}'s group partner is in its shard`);
  const again = new ShardDealer({ index: 2, count: 3 });
  assert.deepEqual(items.filter((item) => again.take(item)).map((item) => item.id), shares[1]);
  assert.throws(() => parseShard("3/2"), /field "--shard"/);
  assert.throws(() => parseShard("0/2"), /field "--shard"/);
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
});

test("two shards merged give the unsharded run's report; mismatched shards are refused", () => {
  const whole = j1("eval", ...common, "--store", path.join(work, "whole.sqlite"));
  assert.equal(whole.code, 0, whole.stderr);
  const shardStores = [1, 2].map((index) => path.join(work, `shard${index}.sqlite`));
  for (const [index, store] of shardStores.entries()) {
    const shard = j1("eval", ...common, "--shard", `${index + 1}/2`, "--store", store);
    assert.equal(shard.code, 0, shard.stderr);
    const items = (JSON.parse(shard.stdout) as { run: { items: number } }).run.items;
    assert.equal(items, index === 0 ? 4 : 3, "seven items dealt 4 and 3");
  }
  // A missing share is refused before anything is written.
  const half = j1("runs", "merge", shardStores[0], "--store", path.join(work, "half.sqlite"));
  assert.equal(half.code, 2);
  assert.match(half.stderr, /shard 2\/2 missing/);

  const merged = j1("runs", "merge", ...shardStores, "--store", path.join(work, "merged.sqlite"), "--json");
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stderr, /merged 2 shards into run \S+: 7 items, 21 judgments/);
  const mergedReport = reportOf(merged.stdout);
  const wholeReport = reportOf(whole.stdout);
  assert.deepEqual(mergedReport.report, wholeReport.report);
  // Evaluated tokens are real costs: each shard paid for its own prompts' prefix (never less than the whole run did).
  assert.equal(mergedReport.evaluated.length, wholeReport.evaluated.length);
  mergedReport.evaluated.forEach((value, index) => assert.ok(value >= wholeReport.evaluated[index], `evaluated ${value} vs ${wholeReport.evaluated[index]}`));

  // A shard judged with other settings: the differing field is named.
  const other = path.join(work, "other.sqlite");
  assert.equal(j1("eval", ...common, "--shard", "2/2", "--seed", "5", "--store", other).code, 0);
  const refused = j1("runs", "merge", shardStores[0], other, "--store", path.join(work, "refused.sqlite"));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /other settings .*seed differs: 0 against 5/);

  // A shard cut from other data under the same file name (another machine's copy): refused as such.
  const original = PAIRS.map(([question, a, b, label], index) => JSON.stringify({ id: `p${index}`, question, a, b, label })).join("\n") + "\n";
  writeFileSync(data, original.replace("Lyon", "Marseille"));
  const otherStore = path.join(work, "other-data.sqlite");
  const cut = j1("eval", ...common, "--shard", "2/2", "--store", otherStore);
  writeFileSync(data, original);
  assert.equal(cut.code, 0, cut.stderr);
  const wrongData = j1("runs", "merge", shardStores[0], otherStore, "--store", path.join(work, "refused2.sqlite"));
  assert.equal(wrongData.code, 2);
  assert.match(wrongData.stderr, /cut from other data/);

  // An unfinished shard: the command suggested to finish it names the shard's own store, so it runs as printed.
  const unfinished = path.join(work, "unfinished shard.sqlite");
  copyFileSync(shardStores[1], unfinished);
  const copy = openRunStore(unfinished);
  const shardRun = copy.listRuns()[0].id;
  copy.setRunStatus(shardRun, "interrupted");
  copy.close();
  const early = j1("runs", "merge", shardStores[0], `${unfinished}@${shardRun}`, "--store", path.join(work, "refused3.sqlite"));
  assert.equal(early.code, 2);
  assert.ok(early.stderr.includes(`finish it first (j1 eval --resume ${shardRun} --store ${shellQuote(unfinished)})`), early.stderr);
});
