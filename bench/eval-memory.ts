/**
 * Benchmark: peak memory of `j1 eval` over large generated pairs files (loaders stream): a --dry-run over
 * every row at several sizes, against the same command over 1,000 rows in the same run (the process's
 * floor: Node, the modules, the heap's young generation), and optionally a tiny-model run.
 *
 *   node dist/bench/eval-memory.js [--rows 10000,100000,300000] [--run-limit N]
 *
 * Goal: flat in the rows, under 150 MiB at 300k. Printed per size: peak RSS, its growth over the floor and
 * that growth per 1,000 rows (machine-independent enough to compare: a row held costs bytes, not time).
 * --run-limit N adds a tiny-model run judging N items of the largest file (without it, none: judging every
 * row takes 10-20 minutes per 100,000 on 2 cores). Each measurement is a real CLI process.
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const FLOOR_ROWS = 1000;
const sizes = (option("--rows") ?? "10000,100000,300000").split(",").map(Number);
const runLimit = option("--run-limit");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-memory-"));

async function writePairs(rows: number): Promise<string> {
  const file = path.join(work, `pairs-${rows}.jsonl`);
  const out = createWriteStream(file);
  for (let index = 0; index < rows; index++) {
    const line = JSON.stringify({ id: `row-${index}`, question: `Question ${index}: which answer explains the idea better?`, a: `Answer A for ${index}. `.repeat(4), b: `Answer B for ${index}. `.repeat(4), label: index % 2 ? "A" : "B" });
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return file;
}

function measure(label: string, data: string, extra: string[]) {
  const rssFile = path.join(work, `${label}.rss`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ["--import", path.join(root, "dist/bench/rss-hook.js"), path.join(root, "bin/j1"), "eval", "--bench", "pairs", "--data", data, "--store", path.join(work, `${label}.sqlite`), "--progress", "quiet", "--json", ...extra], {
    env: { ...process.env, J1_RSS_FILE: rssFile },
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`${label} failed: ${result.stderr}`);
  return { peakMiB: Number(readFileSync(rssFile, "utf8")) / 1024, seconds: (performance.now() - started) / 1000 };
}

try {
  const floorFile = await writePairs(FLOOR_ROWS);
  console.log(`# j1 eval --dry-run peak memory (node ${process.version})\n`);
  console.log("| rows | peak RSS MiB | floor MiB (1,000 rows, same run) | growth MiB | growth KiB per 1,000 rows | s |");
  console.log("|---|---|---|---|---|---|");
  let largest = { rows: 0, file: floorFile, peak: 0 };
  for (const rows of sizes) {
    const file = await writePairs(rows);
    // The floor is measured next to each size, so both see the same load on the machine.
    const floor = measure(`floor-${rows}`, floorFile, ["--dry-run"]);
    const dry = measure(`dry-${rows}`, file, ["--dry-run"]);
    const growth = dry.peakMiB - floor.peakMiB;
    console.log(`| ${rows} | ${dry.peakMiB.toFixed(0)} | ${floor.peakMiB.toFixed(0)} | ${growth.toFixed(0)} | ${((1024 * growth) / (rows / 1000)).toFixed(1)} | ${dry.seconds.toFixed(1)} |`);
    if (rows >= largest.rows) largest = { rows, file, peak: dry.peakMiB };
  }
  console.log(`\ngoal: flat, under 150 MiB at 300,000 rows; largest here: ${largest.rows} rows at ${largest.peak.toFixed(0)} MiB`);
  if (runLimit) {
    const run = measure("tiny-run", largest.file, ["--model", "tiny", "--parallel", "2", "--limit", runLimit]);
    console.log(`tiny-model run over the ${largest.rows}-row file, ${runLimit} items judged: peak RSS ${run.peakMiB.toFixed(0)} MiB, ${run.seconds.toFixed(1)} s`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
