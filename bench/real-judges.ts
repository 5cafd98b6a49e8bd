/**
 * j1's first real-model results: real GGUF judges (fetched and verified by `npm run models:real`) on the
 * benchmarks, through the `j1 eval` command itself, resumable. Not in CI: hours of CPU.
 *
 *   node dist/bench/real-judges.js [--models smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b]
 *        [--benches rewardbench,llmbar,harmless,judgebench] [--cap 128] [--per-subset 14] [--harmless 200]
 *        [--judgebench-per-category 30] [--threads 1] [--server [--parallel 4] [--port-base 18400]]
 *        [--store FILE] [--tables-only] [--markdown FILE]
 *
 * For each model and benchmark: one `j1 eval` run with both orders (`--swap`), a one-pass sweep over waits
 * 0, 1, 2, 4 and adaptive points confidence=0.6…0.9 (`--waits 4`), thinking capped at `--cap` tokens. A run
 * that exists in the store (by its label) is resumed with `--resume`, so the script can be stopped at any
 * moment and started again until every run is done. RewardBench is a stratified seeded sample of every one
 * of its 23 subsets (`--per-subset` items each, one subset after another in turn, written as a RewardBench file so the official loader and its
 * section weights score it; the score is labelled as a sample); Harmless a seeded sample; JudgeBench a
 * seeded sample of each of its four categories (`--judgebench-per-category 0`: whole); LLMBar whole. Then it prints the tables of docs/results.md from the store: accuracy and the official score
 * at each point, position bias (how often both orders gave the same slot, so the verdict followed the slot
 * and not the response), parse failures, calibration (ECE, accuracy at coverage), thinking tokens per
 * judgment and the compute-accuracy frontier.
 */
import { spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { verifiedRealModelPath } from "../src/engines/real-models/fetch-real-models.js";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { openRunStore } from "../src/store/run-store.js";
import type { RunStore } from "../src/store/types.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHARED = process.env.J1_BENCHMARKS_DIR || path.resolve(ROOT, "../shared/benchmarks");
const USAGE = `usage: node dist/bench/real-judges.js [--models smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b]
     [--benches rewardbench,llmbar,harmless,judgebench] [--cap 128] [--per-subset 14] [--harmless 200]
     [--judgebench-per-category 30] [--threads 1] [--server [--parallel 4] [--port-base 18400]]
     [--store FILE] [--tables-only] [--markdown FILE]

Judges the benchmarks with real GGUF models through \`j1 eval\` (hours of CPU; resumable: run it again), then
prints the tables of docs/results.md from the store. --tables-only prints the tables and judges nothing.`;
/** Strict: an unknown flag (or a mistyped one) is refused before an hour of judging starts, never ignored. */
const parsed = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        models: { type: "string" },
        benches: { type: "string" },
        cap: { type: "string" },
        "per-subset": { type: "string" },
        harmless: { type: "string" },
        "judgebench-per-category": { type: "string" },
        threads: { type: "string" },
        server: { type: "boolean" },
        parallel: { type: "string" },
        "port-base": { type: "string" },
        store: { type: "string" },
        "tables-only": { type: "boolean" },
        markdown: { type: "string" },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`real-judges: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const option = (name: string, fallback: string): string => {
  const value = parsed[name.replace(/^--/, "") as keyof typeof parsed];
  return typeof value === "string" ? value : fallback;
};
const models = option("--models", "smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b").split(",");
const benches = option("--benches", "rewardbench,llmbar,harmless,judgebench").split(",");
const cap = Number(option("--cap", "128"));
const perSubset = Number(option("--per-subset", "14"));
const harmlessItems = Number(option("--harmless", "200"));
/** JudgeBench's pairs carry long responses (the costliest items here): a seeded sample per category. */
const judgebenchPerCategory = Number(option("--judgebench-per-category", "30"));
const threads = option("--threads", "1");
/**
 * `--server`: judge through j1's llama-server (scripts/build-llama-server.sh) with `--parallel` slots
 * instead of in process. Its generation loop runs inside the server, so a busy machine slows it far less
 * than the in-process loop, which hands each token between Node's main thread and a pool thread; and its
 * slots batch the judgments. One server per model on a fixed port, so a run resumes against the same URL.
 */
const viaServer = parsed.server === true;
const parallel = Number(option("--parallel", "4"));
const portBase = Number(option("--port-base", "18400"));
const work = path.join(j1CacheDir(), "real-judges");
const storeFile = option("--store", path.join(work, "runs.sqlite"));
const SWEEPS = ["waits=0,1,2,4", "confidence=0.6,0.7,0.8,0.9"];

/** A seeded shuffle (mulberry32), so the samples are the same on every machine. */
function seededShuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/**
 * One item of each group in turn (subsets, categories), so a run stopped early has judged every group about
 * equally instead of the first groups only; the loaders score by each row's own subset, not by file order.
 */
function interleave<T>(groups: T[][]): T[] {
  const longest = Math.max(0, ...groups.map((group) => group.length));
  return Array.from({ length: longest }, (_, index) => groups.flatMap((group) => (index < group.length ? [group[index]] : []))).flat();
}

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  const input = file.endsWith(".gz") ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const rows: Record<string, unknown>[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim()) rows.push(JSON.parse(line) as Record<string, unknown>);
  return rows;
}

/** The data file each benchmark reads: a sample written under the cache, or the shared file itself. */
async function dataFor(bench: string): Promise<string | undefined> {
  await mkdir(path.join(work, "data"), { recursive: true });
  if (bench === "rewardbench") {
    const file = path.join(work, "data", `rewardbench-stratified-${perSubset}-interleaved.jsonl`);
    if (!existsSync(file)) {
      const rows = await readJsonl(path.join(SHARED, "rewardbench/filtered.jsonl.gz"));
      const bySubset = new Map<string, Record<string, unknown>[]>();
      for (const row of rows) bySubset.set(String(row.subset), [...(bySubset.get(String(row.subset)) ?? []), row]);
      const groups = [...bySubset.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, subset]) => seededShuffle(subset, 20251206).slice(0, perSubset));
      await writeFile(file, interleave(groups).map((row) => JSON.stringify(row)).join("\n") + "\n");
    }
    return file;
  }
  if (bench === "harmless") {
    const file = path.join(work, "data", `harmless-${harmlessItems}.jsonl`);
    if (!existsSync(file)) {
      const rows = await readJsonl(path.join(SHARED, "hh-rlhf-harmless-base/test.jsonl.gz"));
      await writeFile(file, seededShuffle(rows, 20251206).slice(0, harmlessItems).map((row) => JSON.stringify(row)).join("\n") + "\n");
    }
    return file;
  }
  if (bench === "judgebench" && judgebenchPerCategory > 0) {
    const file = path.join(work, "data", `judgebench-${judgebenchPerCategory}-per-category-interleaved.jsonl`);
    if (!existsSync(file)) {
      const rows = await readJsonl(path.join(SHARED, "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"));
      // JudgeBench's categories by source: mmlu-pro-* knowledge, livebench-reasoning, livebench-math, livecodebench.
      const category = (source: string) => (source.startsWith("mmlu-pro") ? "knowledge" : source.startsWith("livecodebench") ? "coding" : source.replace(/^livebench-/, ""));
      const byCategory = new Map<string, Record<string, unknown>[]>();
      for (const row of rows) byCategory.set(category(String(row.source)), [...(byCategory.get(category(String(row.source))) ?? []), row]);
      // Interleaved (one of each category in turn), so a run stopped early still covers every category.
      const groups = [...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, group]) => seededShuffle(group, 20251206).slice(0, judgebenchPerCategory));
      await writeFile(file, interleave(groups).map((row) => JSON.stringify(row)).join("\n") + "\n");
    }
    return file;
  }
  return undefined;
}

const labelOf = (model: string, bench: string) => `real-judges ${model} ${bench} cap${cap} swap${viaServer ? " llama-server" : ""}`;

function findRun(store: RunStore, label: string) {
  return store.listRuns().find((run) => run.label === label);
}

function runJ1(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin/j1"), ...argv], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
    const stop = () => child.kill("SIGINT");
    process.once("SIGINT", stop);
    child.on("close", (code) => {
      process.off("SIGINT", stop);
      resolve(code ?? 1);
    });
  });
}

let interrupted = false;

async function judgeAll(): Promise<void> {
  for (const [index, model] of models.entries()) {
    if (interrupted) return;
    const modelPath = await verifiedRealModelPath(path.join(ROOT, "scripts/real-models.json"), model);
    const server = viaServer ? await startServer(modelPath, portBase + index) : undefined;
    try {
      await judgeModel(model, modelPath, server?.baseUrl);
    } finally {
      await server?.stop();
    }
  }
}

async function startServer(modelPath: string, port: number) {
  const { findLlamaServer, startLlamaServer } = await import("../test/helpers/llama-server.js");
  const binary = findLlamaServer();
  if (!binary) throw new Error("llama-server is not built: run scripts/build-llama-server.sh");
  return startLlamaServer({ modelPath, binary, port, contextSize: 4096 * parallel, parallel, threads: Number(threads) });
}

async function judgeModel(model: string, modelPath: string, serverUrl: string | undefined): Promise<void> {
  {
    for (const bench of benches) {
      const label = labelOf(model, bench);
      const store = openRunStore(storeFile);
      const existing = findRun(store, label);
      store.close();
      if (existing?.status === "done") continue;
      const data = await dataFor(bench);
      const common = ["--store", storeFile, "--progress", "lines", "--allow-errors", ...(serverUrl ? [] : ["--threads", threads])];
      const engine = serverUrl ? ["--base-url", `${serverUrl}/v1`, "--parallel", String(parallel)] : ["--model", modelPath, "--context-size", "4096"];
      // A JudgeBench request (a 2,000-token prompt and a chunk of thinking, 4 slots on one thread of a busy
      // machine) outlived the default 120 s: sent again, it found its prompt in the server's cache, and the
      // judgment counted none of it. 15 minutes lets every attempt finish, so the counts are whole.
      if (serverUrl) common.push("--timeout", String(15 * 60_000));
      const argv = existing
        ? ["eval", "--resume", existing.id, ...common]
        : [
            "eval", "--bench", bench, ...(data ? ["--data", data] : []), ...engine, "--swap",
            "--waits", "4", "--max-thinking", String(cap), ...SWEEPS.flatMap((sweep) => ["--sweep", sweep]),
            "--label", label, ...common,
          ];
      console.error(`real-judges: ${existing ? `resuming ${existing.id}` : "starting"}: ${label}`);
      const code = await runJ1(argv);
      if (code === 130) {
        // Interrupted (Ctrl-C): j1 eval saved what it judged; the same command resumes it.
        interrupted = true;
        console.error(`real-judges: interrupted during ${label}; run the same command again to resume`);
        return;
      }
      if (code !== 0 && code !== 3) throw new Error(`j1 ${argv.join(" ")} exited ${code}`);
    }
  }
}

const pct = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? "–" : value.toFixed(1));

/** Of the items judged in both orders, how often both orders picked the same slot (the verdict followed the position). */
function positionBias(store: RunStore, runId: string, point: string): { same: number; firstSlot: number; pairs: number } {
  let same = 0;
  let firstSlot = 0;
  let pairs = 0;
  for (const row of store.exportRun(runId)) {
    if (row.point !== point) continue;
    const raw = row.judgment.runs.map((run) => run.rawVerdict);
    if (raw.length !== 2 || (raw[0] !== "A" && raw[0] !== "B") || (raw[1] !== "A" && raw[1] !== "B")) continue;
    pairs++;
    if (raw[0] === raw[1]) {
      same++;
      if (raw[0] === "A") firstSlot++;
    }
  }
  return { same, firstSlot, pairs };
}

/** At the largest waits point: how each order-judgment's thinking ended, and how many waits it used. */
function thinkingEnds(store: RunStore, runId: string, point: string): string {
  const ends = new Map<string, number>();
  const waits = new Map<number, number>();
  let generatedEnds = 0;
  let total = 0;
  for (const row of store.exportRun(runId)) {
    if (row.point !== point) continue;
    for (const run of row.judgment.runs) {
      total++;
      ends.set(run.thinkingEnd ?? "unknown", (ends.get(run.thinkingEnd ?? "unknown") ?? 0) + 1);
      waits.set(run.waitsUsed, (waits.get(run.waitsUsed) ?? 0) + 1);
      if (run.trace.some((span) => span.role === "think-end" && span.source === "generated")) generatedEnds++;
    }
  }
  const list = (map: Map<string | number, number>) => [...map.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([key, count]) => `${key}: ${count}`).join(", ");
  return `${total} order-judgments at ${point}: thinking ended by ${list(ends)}; waits used ${list(waits)}; the model wrote the end of thinking itself in ${generatedEnds}`;
}

function tables(): string {
  const store = openRunStore(storeFile);
  const lines: string[] = [];
  try {
    for (const model of models) {
      lines.push(`### ${model}`, "");
      lines.push("| benchmark | items | point | official score | accuracy | both orders agree | same slot both orders (of which first) | parse failures | ECE (points) | thinking tok/judgment | evaluated tok/judgment |");
      lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
      const notes: string[] = [];
      for (const bench of benches) {
        const run = findRun(store, labelOf(model, bench));
        if (!run) {
          lines.push(`| ${bench} | not run yet | | | | | | | | | |`);
          continue;
        }
        const report = buildRunReport(store, run.id, { soFar: run.status !== "done" });
        const benchReport = report.benchmarks[0];
        if (!benchReport) continue;
        const done = store.runItems(run.id).length;
        const judged = new Set([...store.doneItemPoints(run.id)].map((key) => key.split("\u0000")[0])).size;
        const status = run.status === "done" ? `${judged}` : `${judged} of ${done} (${run.status})`;
        for (const point of benchReport.sweep ?? []) {
          const metrics = point.score.metrics;
          const name = `${point.setting}=${point.value}`;
          const bias = positionBias(store, run.id, name);
          lines.push(`| ${bench} | ${status} | ${name} | ${pct(point.score.score)} | ${pct(metrics.accuracy)} | ${pct(metrics.positionConsistency)} | ${bias.pairs ? `${pct((100 * bias.same) / bias.pairs)} (${pct((100 * bias.firstSlot) / bias.pairs)})` : "–"} | ${pct(metrics.parseFailureRate)} | ${pct(metrics.calibrationError)} | ${point.meanThinkingTokens.toFixed(1)} | ${point.meanEvaluatedTokens.toFixed(0)} |`);
        }
        // The adaptive points (from the frontier: official score and tokens per judgment, probes included).
        for (const series of benchReport.frontier?.series.filter((entry) => entry.adaptive) ?? []) {
          for (const point of series.points) {
            const name = `${series.setting}=${point.value}`;
            const bias = positionBias(store, run.id, name);
            lines.push(`| ${bench} | ${status} | ${name} | ${pct(point.score)} | | | ${bias.pairs ? `${pct((100 * bias.same) / bias.pairs)} (${pct((100 * bias.firstSlot) / bias.pairs)})` : "–"} | | | ${point.cost.toFixed(1)} (with probes) | |`);
          }
        }
        const final = benchReport.sweep?.find((point) => point.setting === "waits" && point.value === 0) ?? benchReport.sweep?.[0];
        const coverage = final?.score.metrics.accuracyCoverage;
        if (coverage?.length) notes.push(`${bench} (waits=0) accuracy at coverage: ${coverage.map((entry) => `≥${entry.threshold}: ${pct(entry.accuracy)}% of ${pct(entry.coverage)}%`).join(", ")}`);
        if (benchReport.frontier?.sentence) notes.push(`${bench} frontier: ${benchReport.frontier.sentence}`);
        notes.push(`${bench}: ${thinkingEnds(store, run.id, "waits=4")}`);
        if (bench === "rewardbench" && benchReport.score.parts) notes.push(`rewardbench sections (waits=4, on the ${perSubset}-per-subset sample): ${Object.entries(final ? (benchReport.sweep?.find((p) => p.setting === "waits" && p.value === 4) ?? final).score.parts : {}).map(([name, value]) => `${name} ${pct(value)}`).join(", ")}`);
      }
      lines.push("", ...notes.map((note) => `- ${note}`), "");
    }
  } finally {
    store.close();
  }
  return lines.join("\n");
}

if (!parsed["tables-only"]) await judgeAll();
const markdown = tables();
console.log(markdown);
const out = option("--markdown", "");
if (out) await writeFile(out, markdown + "\n");
