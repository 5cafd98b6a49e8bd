/**
 * Benchmark: peak memory of `j1 eval` over a large generated pairs file (loaders stream; goal under
 * 300 MB resident, the model aside): a --dry-run over every row, and a tiny-model run.
 *
 *   node dist/bench/eval-memory.js [--rows 100000] [--run-limit N]
 *
 * --run-limit caps the judged items (the dry run always reads every row); without it the tiny-model run
 * judges all rows (about 10-20 minutes for 100,000 on 2 cores). Each measurement is a real CLI process.
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const rows = Number(option("--rows") ?? 100000);
const runLimit = option("--run-limit");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-memory-"));
const data = path.join(work, "pairs.jsonl");

const out = createWriteStream(data);
for (let index = 0; index < rows; index++) {
  const line = JSON.stringify({ id: `row-${index}`, question: `Question ${index}: which answer explains the idea better?`, a: `Answer A for ${index}. `.repeat(4), b: `Answer B for ${index}. `.repeat(4), label: index % 2 ? "A" : "B" });
  if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
}
await new Promise<void>((resolve) => out.end(() => resolve()));

function measure(label: string, extra: string[]) {
  const rssFile = path.join(work, `${label}.rss`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ["--import", path.join(root, "dist/bench/rss-hook.js"), path.join(root, "bin/j1"), "eval", "--bench", "pairs", "--data", data, "--store", path.join(work, `${label}.sqlite`), "--progress", "quiet", "--json", ...extra], {
    env: { ...process.env, J1_RSS_FILE: rssFile },
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`${label} failed: ${result.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  return { label, peakMB: Number(readFileSync(rssFile, "utf8")) / 1024, seconds };
}

const results = [measure("dry-run", ["--dry-run"]), measure("tiny-run", ["--model", "tiny", "--parallel", "2", ...(runLimit ? ["--limit", runLimit] : [])])];
console.log(`generated pairs file: ${rows} rows`);
for (const result of results) console.log(`  ${result.label.padEnd(9)} peak RSS ${result.peakMB.toFixed(0).padStart(5)} MB   ${result.seconds.toFixed(1)} s${result.label === "tiny-run" && runLimit ? ` (${runLimit} items judged)` : ""}`);
