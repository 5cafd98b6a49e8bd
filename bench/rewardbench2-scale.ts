/**
 * RewardBench 2 at its real size: 1,865 rows in the hub's schema (the subsets' real counts; texts of a
 * realistic length, written here, since no copy of the data can be brought to this machine), loaded and
 * validated by the real loader, saved as judgments to a real store (one commit each), then scored from the
 * store by the report, as `j1 report` does. Baseline in the same process: reading the same file as plain
 * JSON lines, which is what any loader must at least pay.
 *
 *   node dist/bench/rewardbench2-scale.js [--json]
 */
import { createReadStream, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Judgment } from "../src/core/judgment.js";
import { emptyUsage } from "../src/core/usage.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { runItems, scoredItem } from "../src/eval/item-stream.js";
import { buildRunReport } from "../src/eval/run-report.js";
import type { BenchmarkItem } from "../src/eval/types.js";
import { judgmentKey, openRunStore } from "../src/store/run-store.js";

const args = process.argv.slice(2);
const SUBSETS: Array<[string, number]> = [["Factuality", 475], ["Precise IF", 160], ["Math", 183], ["Safety", 450], ["Focus", 495], ["Ties", 102]];
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-rb2-"));
const file = path.join(work, "rewardbench2.jsonl");

const text = (seed: number, length: number) => `Answer ${seed}: ` + "the reasoning goes step by step and checks each claim. ".repeat(Math.ceil(length / 55)).slice(0, length);
const rows: string[] = [];
for (const [subset, count] of SUBSETS) {
  for (let index = 0; index < count; index++) {
    const isTies = subset === "Ties";
    // Ties: alternating ref / tied rows of the same prompt number, as the official data pairs them.
    const id = isTies ? `${index % 2 === 0 ? "ref" : "tied"}:${Math.floor(index / 2)}` : `${subset.length * 1000 + index}`;
    const chosen = isTies && index % 2 === 1 ? [text(index, 300), text(index + 1, 320), text(index + 2, 280)] : [text(index, 1500)];
    const rejected = [text(index + 10, 1400), text(index + 11, 1600), text(index + 12, 1500)];
    rows.push(
      JSON.stringify({
        id,
        prompt: `Question ${index} of ${subset}: explain the result carefully.`,
        chosen,
        rejected,
        num_correct: chosen.length,
        num_incorrect: rejected.length,
        total_completions: chosen.length + rejected.length,
        models: [...chosen, ...rejected].map((_, at) => `writer-${at}`),
        subset,
        additional_metadata: { category: null, correct: null, index: null, instruction_id_list: null, label: null, method: "synthetic", models: null, prompt_norm: null, subcategory: null, valid: null },
      }),
    );
  }
}
writeFileSync(file, `${rows.join("\n")}\n`);

let started = performance.now();
let plainRows = 0;
for await (const line of createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity })) if (line.trim()) plainRows += JSON.parse(line) ? 1 : 0;
const plainSeconds = (performance.now() - started) / 1000;

started = performance.now();
const items: BenchmarkItem[] = [];
for await (const item of runItems(getBenchmark("rewardbench2"), { data: [file], seed: 0 })) items.push(item);
const loadSeconds = (performance.now() - started) / 1000;

const store = openRunStore(path.join(work, "runs.sqlite"));
const run = store.createRun({ benchmark: "rewardbench2", label: "bench", settings: { benchmarks: ["rewardbench2"], seed: 0 } });
started = performance.now();
store.setRunItems(run.id, items.map(scoredItem), 0);
const base = { score: null, status: "ok" as const, waitsUsed: 0, forcedEnd: false, trace: [], usage: emptyUsage(), wallMs: 1, runs: [] };
items.forEach((item, index) => {
  // A judge that is right on two thirds of the items: the correct letter, or a 9 for a correct answer.
  const right = index % 3 !== 0;
  const judgment: Judgment =
    item.kind === "rating"
      ? { ...base, kind: "pointwise", verdict: null, score: right === (item.label === "correct") ? 9 : 2 }
      : { ...base, kind: "choice", verdict: right ? item.label : item.label === "A" ? "B" : "A" };
  store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key: judgmentKey({ item: item.id }), judgment });
});
const saveSeconds = (performance.now() - started) / 1000;
store.setRunStatus(run.id, "done");
started = performance.now();
const report = buildRunReport(store, run.id);
const scoreSeconds = (performance.now() - started) / 1000;
store.close();

const bench = report.benchmarks[0];
const figures = {
  rows: plainRows,
  items: items.length,
  plainJsonLinesSeconds: plainSeconds,
  loadAndValidateSeconds: loadSeconds,
  saveJudgmentsSeconds: saveSeconds,
  scoreFromStoreSeconds: scoreSeconds,
  peakRssMB: process.resourceUsage().maxRSS / 1024,
  score: bench.score.score,
  subsets: Object.fromEntries(bench.score.categories.map((category) => [category.category, Number(category.score.toFixed(2))])),
};
if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else {
  console.log(`RewardBench 2 at full size: ${plainRows} rows -> ${items.length} items (four-way choices and Ties ratings)`);
  console.log(`  baseline: read the file as plain JSON lines  ${plainSeconds.toFixed(3)} s`);
  console.log(`  load + validate (the rewardbench2 loader)    ${loadSeconds.toFixed(3)} s`);
  console.log(`  save ${items.length} judgments, one commit each      ${saveSeconds.toFixed(3)} s`);
  console.log(`  score from the store (the run report)        ${scoreSeconds.toFixed(3)} s  (leaderboard ${figures.score.toFixed(2)})`);
  console.log(`  peak resident memory                         ${figures.peakRssMB.toFixed(0)} MB`);
}
