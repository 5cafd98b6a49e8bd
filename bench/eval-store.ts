/**
 * Benchmark: reading a finished run back. The real 2,312-row Anthropic Harmless file is loaded (streamed,
 * gunzipped, split into prompt/context/responses), its items saved to a real SQLite store with one real
 * judgment per item (judged once by the tiny model, then saved under every item with verdicts varied),
 * and then the report is built from the store alone: load items and decisions, official score, uniform
 * figures with the 1,000-resample bootstrap interval, worst items with traces.
 *
 *   node dist/bench/eval-store.js [--data ../shared/benchmarks/hh-rlhf-harmless-base/test.jsonl.gz]
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Judgment } from "../src/core/judgment.js";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { runItems, scoredItem } from "../src/eval/item-stream.js";
import { asPair } from "../src/eval/types.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { Judge } from "../src/judge/judge.js";
import { judgmentKey, openRunStore } from "../src/store/run-store.js";

const args = process.argv.slice(2);
const dataIndex = args.indexOf("--data");
const data = dataIndex >= 0 ? args[dataIndex + 1] : path.resolve("../shared/benchmarks/hh-rlhf-harmless-base/test.jsonl.gz");

const benchmark = getBenchmark("harmless");
let started = performance.now();
const items = [];
for await (const item of runItems(benchmark, { data })) items.push(asPair(item));
const loadSeconds = (performance.now() - started) / 1000;

const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 4096 });
const template: Judgment = await new Judge({ engine, scaling: { waits: 1 } }).judgePair(items[0]);
await engine.dispose();

const store = openRunStore(path.join(mkdtempSync(path.join(os.tmpdir(), "j1-bench-store-")), "runs.sqlite"));
const run = store.createRun({ benchmark: "harmless", label: "bench", settings: { benchmarks: ["harmless"], seed: 0 } });
started = performance.now();
store.setRunItems(run.id, items.map(scoredItem), 0);
items.forEach((item, index) => {
  const verdict = index % 3 === 0 ? "B" : "A";
  const judgment = { ...template, verdict, runs: template.runs.map((r) => ({ ...r, verdict })) } as Judgment;
  store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key: judgmentKey({ item: item.id }), judgment });
});
const saveSeconds = (performance.now() - started) / 1000;
store.setRunStatus(run.id, "done");

started = performance.now();
const report = buildRunReport(store, run.id);
const reportSeconds = (performance.now() - started) / 1000;
store.close();

const figures = { rows: items.length, loadSeconds, saveSecondsOneCommitEach: saveSeconds, reportFromStoreSeconds: reportSeconds, score: report.benchmarks[0].score.score };
if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else {
  console.log(`Anthropic Harmless, ${items.length} rows`);
  console.log(`  load + parse the .jsonl.gz              ${loadSeconds.toFixed(3)} s`);
  console.log(`  save ${items.length} judgments, one commit each  ${saveSeconds.toFixed(3)} s (${(items.length / saveSeconds).toFixed(0)}/s)`);
  console.log(`  load from the store and score (report)  ${reportSeconds.toFixed(3)} s  (score ${figures.score.toFixed(2)})`);
}
