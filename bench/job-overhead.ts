/**
 * The judging job's own overhead: `runEval` (the job under `j1 eval`: checking pass, session budget, key
 * lookups, store writes, progress) against the judge called in a plain loop over the same items with the
 * same store writes, on the tiny model in the same process. Rounds alternate (loop, job, loop, job, …) so
 * a drift of the machine hits both; each round gets a fresh store, so the job reuses nothing.
 *
 *   node dist/bench/job-overhead.js [--items 120] [--rounds 3] [--json]
 *
 * Machine-independent check: the evaluated tokens of both are printed and must be equal (the job does no
 * model work the loop does not).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import type { EvalSettings } from "../src/eval/eval-settings.js";
import { runItems, scoredItem } from "../src/eval/item-stream.js";
import { runEval } from "../src/eval/runner.js";
import { asPair } from "../src/eval/types.js";
import { keyOf } from "../src/jobs/judgment-key.js";
import { Judge } from "../src/judge/judge.js";
import { namedPromptFormat } from "../src/judge/prompt-format.js";
import { openRunStore } from "../src/store/run-store.js";
import { DEFAULT_SCALING } from "../src/core/budget.js";
import { DEFAULT_PAIRWISE_TEMPLATE } from "../src/core/template.js";
import { median, numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const count = numberFlag(args, "--items", 120);
const rounds = numberFlag(args, "--rounds", 3);
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-job-"));

// Our own pairs (no shared data needed): distinct questions so no two prompts share a cache beyond the
// template's head.
const data = path.join(work, "pairs.jsonl");
writeFileSync(
  data,
  Array.from({ length: count }, (_, index) => JSON.stringify({ id: `p${index}`, question: `What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1), label: "A" })).join("\n") + "\n",
);

const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 2048, sequences: 1 });
const scaling = { ...DEFAULT_SCALING, waits: 1 };
const settings: EvalSettings = {
  benchmarks: ["pairs"],
  data: { pairs: [data] },
  order: "as-given",
  skipBad: false,
  engine: { engine: "llamacpp", model: "tiny", threads: 1 },
  chatFormat: "chatml",
  scaling,
  samples: 1,
  swap: false,
  allowTie: false,
  temperature: 0,
  seed: 0,
};

async function plainLoop(): Promise<{ seconds: number; tokens: number }> {
  const store = openRunStore(path.join(mkdtempSync(path.join(work, "loop-")), "runs.sqlite"));
  const items = [];
  for await (const item of runItems(getBenchmark("pairs"), { data: [data] })) items.push(asPair(item));
  const started = performance.now();
  const run = store.createRun({ benchmark: "pairs", label: "loop", settings: {} });
  store.setRunItems(run.id, items.map(scoredItem), 0);
  const judge = new Judge({ engine, template: DEFAULT_PAIRWISE_TEMPLATE, promptFormat: namedPromptFormat("chatml"), scaling });
  let tokens = 0;
  for (const item of items) {
    const judgment = await judge.judgePair(item, { samples: 1, seed: 0, itemKey: item.id });
    tokens += judgment.usage.evaluatedTokens;
    const key = keyOf({ engine, template: DEFAULT_PAIRWISE_TEMPLATE, chatFormat: "chatml", scaling, samples: 1, swap: false, allowTie: false, temperature: 0, seed: 0, item, placement: false });
    store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key, judgment });
  }
  store.setRunStatus(run.id, "done");
  const seconds = (performance.now() - started) / 1000;
  store.close();
  return { seconds, tokens };
}

async function job(): Promise<{ seconds: number; tokens: number }> {
  const store = openRunStore(path.join(mkdtempSync(path.join(work, "job-")), "runs.sqlite"));
  let tokens = 0;
  const started = performance.now();
  await runEval({ settings, store, engine, label: "job", progress: { setTotal: () => undefined, tick: (update) => void (tokens += update.tokens ?? 0) } });
  const seconds = (performance.now() - started) / 1000;
  store.close();
  return { seconds, tokens };
}

await plainLoop(); // warm-up: model pages, statement caches
const loops: number[] = [];
const jobs: number[] = [];
let loopTokens = 0;
let jobTokens = 0;
for (let round = 0; round < rounds; round++) {
  const loop = await plainLoop();
  const viaJob = await job();
  loops.push(count / loop.seconds);
  jobs.push(count / viaJob.seconds);
  loopTokens = loop.tokens;
  jobTokens = viaJob.tokens;
}
await engine.dispose();

const figures = {
  items: count,
  rounds,
  plainLoopJudgmentsPerSecond: median(loops),
  jobJudgmentsPerSecond: median(jobs),
  ratio: median(jobs) / median(loops),
  evaluatedTokens: { plainLoop: loopTokens, job: jobTokens },
};
if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else {
  console.log(`judging job overhead, tiny model, ${count} pairs, waits 1, median of ${rounds} alternating rounds`);
  console.log(`  plain loop (judge + store writes)  ${figures.plainLoopJudgmentsPerSecond.toFixed(1)} judgments/s`);
  console.log(`  j1 eval's job (runEval)            ${figures.jobJudgmentsPerSecond.toFixed(1)} judgments/s`);
  console.log(`  ratio job / loop                   ${figures.ratio.toFixed(3)}  (goal >= 0.95)`);
  console.log(`  evaluated tokens                   loop ${loopTokens}, job ${jobTokens}${loopTokens === jobTokens ? " (equal)" : " (DIFFERENT)"}`);
}
