/**
 * Benchmark: building a run's report from the store as the run grows (10k to 100k judgments of Anthropic
 * Harmless shape: one category, accuracy, the 1,000-resample bootstrap), and its parts. Baseline in the
 * same process: reading the same decisions from the store (what any report must pay). Each size gets its
 * own real SQLite store; the judgments are one small real judgment saved under every item.
 *
 *   node dist/bench/report-scale.js [--sizes 10000,20000,50000,100000]
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Judgment } from "../src/core/judgment.js";
import { emptyUsage } from "../src/core/usage.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import type { ScoredItem } from "../src/eval/types.js";
import { judgmentKey, openRunStore } from "../src/store/run-store.js";

const args = process.argv.slice(2);
const sizesIndex = args.indexOf("--sizes");
const sizes = (sizesIndex >= 0 ? args[sizesIndex + 1] : "10000,20000,50000,100000").split(",").map(Number);
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-report-"));

function judgmentWith(verdict: "A" | "B", confidence: number): Judgment {
  const usage = { ...emptyUsage(), promptTokens: 300, thinkingTokens: 40, answerTokens: 2, evaluatedTokens: 342 };
  const trace = [{ kind: "generated" as const, text: "<think>short</think>[[A]]", tokens: 42 }];
  const run = { order: "AB" as const, sample: 0, seed: 1, verdict, rawVerdict: verdict, score: null, status: "ok" as const, confidence, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1 };
  return { kind: "pairwise", verdict, score: null, status: "ok", confidence, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1, runs: [run] } as unknown as Judgment;
}

console.log(`# Report from the store at scale (node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"})\n`);
console.log("| judgments | save s | read decisions s (baseline) | report s | report / baseline | report ms per 1k | score (official, accuracy) |");
console.log("|---|---|---|---|---|---|---|");
const benchmark = getBenchmark("harmless");
for (const size of sizes) {
  const store = openRunStore(path.join(work, `runs-${size}.sqlite`));
  const run = store.createRun({ benchmark: "harmless", label: `scale ${size}`, settings: { benchmarks: ["harmless"], seed: 0 } });
  const items: ScoredItem[] = Array.from({ length: size }, (_, index) => ({ id: `harmless:${index}`, category: "harmless", label: "A" }));
  let started = performance.now();
  store.setRunItems(run.id, items, 0);
  const judgments = [judgmentWith("A", 0.9), judgmentWith("B", 0.6), judgmentWith("A", 0.55)];
  items.forEach((item, index) => store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key: judgmentKey({ item: item.id }), judgment: judgments[index % 3] }));
  const saveSeconds = (performance.now() - started) / 1000;
  store.setRunStatus(run.id, "done");
  started = performance.now();
  const decisions = store.decisions(run.id, "final");
  const readSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const report = buildRunReport(store, run.id);
  const reportSeconds = (performance.now() - started) / 1000;
  if (decisions.size !== size) throw new Error(`read ${decisions.size} decisions of ${size}`);
  void benchmark;
  console.log(`| ${size} | ${saveSeconds.toFixed(2)} | ${readSeconds.toFixed(3)} | ${reportSeconds.toFixed(3)} | ${(reportSeconds / readSeconds).toFixed(1)}x | ${((1000 * reportSeconds * 1000) / size).toFixed(1)} | ${report.benchmarks[0].score.score.toFixed(2)} |`);
  store.close();
}
console.log("\ngoal: linear in judgments, <= 1 s at 100k");
