/**
 * Benchmark: what budget forcing costs on the real engine (node-llama-cpp, the project's tiny model).
 *
 *   node dist/bench/judge-waits.js [--reps N] [--threads N] [--json]
 *
 * For waits = 0, 1, 2, 4, 8: tokens the engine evaluated per judgment, prompt tokens, and the ratio
 * evaluated / (prompt + generated + injected) — 1.00 means no token was ever evaluated twice (the last
 * sampled token is never fed, so slightly under 1 is exact). Then judgments/s and tokens/s, and j1's
 * throughput against node-llama-cpp evaluating the same prompt and generating the same number of tokens
 * directly, in the same process, interleaved (goal >= 0.95). Last, total tokens/s for samples = 1, 4, 16
 * as batched sequences of one context against the same judgments one after another on one sequence.
 * Token counts do not depend on the machine; rates do (and on what else runs on it).
 */
import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { createLlamaCppEngine, type LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { Judge } from "../src/judge/judge.js";
import { DEFAULT_PAIRWISE_TEMPLATE } from "../src/core/template.js";
import { traceTokens } from "../src/core/usage.js";
import { median, numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => numberFlag(args, name, fallback);
const reps = flag("--reps", 20);
const threads = flag("--threads", 1);
const asJson = args.includes("--json");

interface WaitsRow {
  waits: number;
  promptTokens: number;
  traceTokens: number;
  evaluatedPerJudgment: number;
  cachedPerJudgment: number;
  /** (evaluated + reused from cache) / (prompt + generated + injected): 1.00 = nothing evaluated twice. */
  ratio: number;
  judgmentsPerSecond: number;
  tokensPerSecond: number;
  directTokensPerSecond: number;
  throughputVsDirect: number;
  medianThroughputVsDirect: number;
}

async function directRun(sequence: LlamaContextSequence, promptTokens: Token[], generate: number): Promise<number> {
  // The baseline: node-llama-cpp alone, same prompt length, same count of generated tokens, greedy.
  // Clearing the previous prompt is timed, as j1's engine times dropping the part of its cached prompt
  // that the next one does not share.
  const started = performance.now();
  await sequence.clearHistory();
  let generated = 0;
  // yieldEogToken: the tiny model ends its text after "[[A]]"; the baseline keeps generating (end tokens
  // included) until it has produced as many tokens as the judgment did.
  for await (const token of sequence.evaluate(promptTokens, { temperature: 0, yieldEogToken: true })) {
    void token;
    if (++generated >= generate) break;
  }
  return (performance.now() - started) / 1000;
}


async function main() {
  const engine = await createLlamaCppEngine({ model: "tiny", threads, contextSize: 2048, sequences: 1 });
  const directContext = await engine.model.createContext({ contextSize: 2048, threads });
  const directSequence = directContext.getSequence();
  const rows: WaitsRow[] = [];
  for (const waits of [0, 1, 2, 4, 8]) {
    let j1Seconds = 0;
    let directSeconds = 0;
    const j1Times: number[] = [];
    const directTimes: number[] = [];
    let evaluated = 0;
    let cached = 0;
    let trace = 0;
    let prompt = 0;
    for (let rep = 0; rep < reps; rep++) {
      // A system prompt that differs from its first words on, so (almost) no prefix is reused from the
      // cache: every judgment pays for its whole prompt, as the direct baseline does.
      const template = { ...DEFAULT_PAIRWISE_TEMPLATE, system: `Run ${waits}/${rep}. ${DEFAULT_PAIRWISE_TEMPLATE.system}` };
      const judge = new Judge({ engine, template, scaling: { waits } });
      const pair = { question: `bench ${waits}/${rep}: which is better?`, a: "first answer", b: "second answer" };
      const started = performance.now();
      const judgment = await judge.judgePair(pair);
      const j1Time = (performance.now() - started) / 1000;
      j1Seconds += j1Time;
      j1Times.push(j1Time);
      evaluated += judgment.usage.evaluatedTokens;
      cached += judgment.usage.cachedTokens;
      trace += traceTokens(judgment.usage);
      prompt += judgment.usage.promptTokens;
      const promptTokens = await engine.tokenizePrompt(judge.renderPair(pair));
      const generate = traceTokens(judgment.usage) - judgment.usage.promptTokens;
      const directTime = await directRun(directSequence, promptTokens, generate);
      directSeconds += directTime;
      directTimes.push(directTime);
    }
    rows.push({
      waits,
      promptTokens: prompt / reps,
      traceTokens: trace / reps,
      evaluatedPerJudgment: evaluated / reps,
      cachedPerJudgment: cached / reps,
      ratio: (evaluated + cached) / trace,
      judgmentsPerSecond: reps / j1Seconds,
      tokensPerSecond: evaluated / j1Seconds,
      directTokensPerSecond: (evaluated + cached) / directSeconds,
      throughputVsDirect: directSeconds / j1Seconds,
      // Medians of per-judgment times: robust to the pauses a shared machine inflicts on single runs.
      medianThroughputVsDirect: median(directTimes) / median(j1Times),
    });
  }
  await directContext.dispose();
  await engine.dispose();

  const batched: Array<{ samples: number; batchedTokensPerSecond: number; sequentialTokensPerSecond: number; speedup: number }> = [];
  for (const samples of [1, 4, 16]) {
    const wide = await createLlamaCppEngine({ model: "tiny", threads, contextSize: 2048, sequences: samples });
    const narrow = await createLlamaCppEngine({ model: "tiny", threads, contextSize: 2048, sequences: 1 });
    const pair = (tag: string) => ({ question: `samples ${samples} ${tag}`, a: "first answer", b: "second answer" });
    const batchedRates: number[] = [];
    const sequentialRates: number[] = [];
    // Three rounds, median of each: single runs on a shared machine are noisy.
    for (let round = 0; round < 3; round++) {
      let started = performance.now();
      const together = await new Judge({ engine: wide, scaling: { waits: 2 } }).judgePair(pair(`batched ${round}`), { samples, temperature: 0.7, seed: 1 });
      batchedRates.push(together.usage.evaluatedTokens / ((performance.now() - started) / 1000));
      started = performance.now();
      let sequentialTokens = 0;
      const narrowJudge = new Judge({ engine: narrow, scaling: { waits: 2 } });
      for (let sample = 0; sample < samples; sample++) {
        const one = await narrowJudge.judgePair(pair(`one-by-one ${round} ${sample}`), { temperature: 0.7, seed: sample });
        sequentialTokens += one.usage.evaluatedTokens;
      }
      sequentialRates.push(sequentialTokens / ((performance.now() - started) / 1000));
    }
    batched.push({
      samples,
      batchedTokensPerSecond: median(batchedRates),
      sequentialTokensPerSecond: median(sequentialRates),
      speedup: median(batchedRates) / median(sequentialRates),
    });
    await wide.dispose();
    await narrow.dispose();
  }

  if (asJson) {
    console.log(JSON.stringify({ reps, threads, waits: rows, samples: batched }, null, 2));
    return;
  }
  console.log(`j1 budget forcing on the tiny model (node-llama-cpp, threads ${threads}, ${reps} judgments per row)`);
  console.log("waits  prompt  trace  evaluated  cached  ratio   judg/s  tok/s   direct tok/s  j1/direct  (medians)");
  for (const row of rows) {
    console.log(
      [
        String(row.waits).padStart(5),
        row.promptTokens.toFixed(0).padStart(7),
        row.traceTokens.toFixed(0).padStart(6),
        row.evaluatedPerJudgment.toFixed(1).padStart(10),
        row.cachedPerJudgment.toFixed(1).padStart(7),
        row.ratio.toFixed(4).padStart(7),
        row.judgmentsPerSecond.toFixed(2).padStart(8),
        row.tokensPerSecond.toFixed(0).padStart(6),
        row.directTokensPerSecond.toFixed(0).padStart(13),
        row.throughputVsDirect.toFixed(3).padStart(10),
        row.medianThroughputVsDirect.toFixed(3).padStart(10),
      ].join(" "),
    );
  }
  console.log("\nsamples  batched tok/s  one-by-one tok/s  speedup");
  for (const row of batched) {
    console.log(`${String(row.samples).padStart(7)} ${row.batchedTokensPerSecond.toFixed(0).padStart(14)} ${row.sequentialTokensPerSecond.toFixed(0).padStart(17)} ${row.speedup.toFixed(2).padStart(8)}`);
  }
}

await main();
