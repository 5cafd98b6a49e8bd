/**
 * Benchmark: j1 on model-shaped GGUFs (the real Qwen3 tokenizer, 151,936-token vocabulary, constructed
 * weights), each figure against its baseline measured in the same process.
 *
 *   node dist/bench/real-models.js [--sections 1,2,3,4,5] [--samples K] [--threads N] [--reps N] [--answer-reps N]
 *                                  [--batch-tokens N] [--rounds N] [--http-waits N] [--no-serialized]
 *
 * 1. Thinking: ms per thinking token in j1 (Judge over createLlamaCppEngine, waits 0/2/8, greedy)
 *    against node-llama-cpp evaluating the same prompt tokens and generating the same number of tokens
 *    with a plain `sequence.evaluate` loop; interleaved, medians (as bench/judge-waits.ts). The model's
 *    next-token table is the default one with longer thinking chains (15 + 20 extra single-token words,
 *    63 states: still the default 64-wide shape), so a judgment thinks 21 + 24 x waits tokens (the
 *    model's own closing "</think>" counts as thinking).
 * 2. The answer step: `session.answer()` after a fixed prefix (choices A/B, and 1..10 where Qwen3 writes
 *    "10" as "1" "0": one extra full-vocabulary branch probe) against a plain evaluate loop that feeds
 *    the same pending tokens and generates the same number of tokens. Ratio and absolute ms, with the
 *    answer's time split into its parts.
 * 3. Batched samples on the wide build (512 wide, 4 layers): K sessions of one engine with sequences K,
 *    each generating the same number of tokens at once (budget-forced: the wait text replaces each end of
 *    thinking, so every step is one token per sequence), against the same K runs one by one on one
 *    sequence. Prompts are fed before timing. Also ms per batch step against K, and how many sequences
 *    left the table's greedy trajectory. Then (3b) the same in a child process with UV_THREADPOOL_SIZE=1
 *    (--no-serialized skips it): node-llama-cpp samples a batch's sequences on parallel libuv threads,
 *    and llama.cpp reorders a multi-sequence batch's logits lazily, in place, inside the first
 *    llama_get_logits_ith() call; the parallel samplers race on that reorder and read wrong rows (seen
 *    with this 151,936-token vocabulary from K = 4 on, not with the tiny model's; llama-server, which
 *    samples on one thread, gives the right tokens with 16 slots).
 * 4. Over HTTP: the real llama-server on the Qwen3-shaped model, Judge over createEngine({engine:
 *    "openai"}), waits 0..8 on one pair: trace tokens, evaluated, cached and the prefix-cache hit rate;
 *    then three judgments whose prompt the server has not seen (the cold case).
 * 5. Samples that share their prompt: K samples of one pair with 1 and K sequences (and llama-server slots):
 *    evaluated tokens against one prompt plus the samples' continuations.
 *
 * Token counts do not depend on the machine; times do (and on what else runs on it).
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { verdictChoices, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, type JudgeTemplate, type PromptSegment } from "../src/core/template.js";
import { traceTokens } from "../src/core/usage.js";
import { createEngine } from "../src/engines/create-engine.js";
import type { AnswerRequest, Engine, EngineSession } from "../src/engines/engine.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { LlamaCppSession } from "../src/engines/llamacpp/llamacpp-session.js";
import { defaultShapedSpec, type ShapedModelSpec } from "../src/engines/shaped/families.js";
import { loadShapedVocabulary } from "../src/engines/shaped/shaped-model.js";
import { Judge } from "../src/judge/judge.js";
import { findLlamaServer, startLlamaServer } from "../test/helpers/llama-server.js";
import { shapedModelPath } from "../test/helpers/shaped-models.js";
import { batchFill } from "./batch-fill.js";
import { median, numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => numberFlag(args, name, fallback);
const threads = flag("--threads", 1);
const reps = flag("--reps", 20);
const answerReps = flag("--answer-reps", 25);
const batchTokens = flag("--batch-tokens", 24);
const rounds = flag("--rounds", 3);
const httpWaits = flag("--http-waits", 8);
const sectionsIndex = args.indexOf("--sections");
const sections = new Set((sectionsIndex >= 0 ? args[sectionsIndex + 1] : "1,2,3,4,5").split(",").map(Number));

// ---- helpers ---------------------------------------------------------------------------------------


const f = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(String).join(" | ")} |`);
  return lines.join("\n");
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The session's node-llama-cpp sequence (private in the engine; read here for the baselines only). */
function sequenceOf(session: EngineSession): LlamaContextSequence {
  return (session as unknown as { parts: { sequence: LlamaContextSequence } }).parts.sequence;
}

function meter(sequence: LlamaContextSequence): number {
  return sequence.tokenMeter.usedInputTokens + sequence.tokenMeter.usedOutputTokens;
}

/**
 * Qwen3's default table with longer thinking: "Let me compare both" goes on through 15 more words before
 * ".", and "Wait, check again" through 20 more. 63 states in all: the default 64-wide shape holds them.
 */
async function longThinkingSpec(): Promise<{ spec: ShapedModelSpec; start: number; afterWait: number }> {
  const vocabulary = await loadShapedVocabulary("qwen3");
  const spec = defaultShapedSpec("qwen3");
  const sure = (to: string) => [{ to, logit: 30 }];
  const startWords = [" the", " two", " answers", " carefully", " and", " see", " which", " one", " is", " more", " accurate", " helpful", " clear", " complete", " correct"];
  const waitWords = [" whether", " each", " claim", " holds", " up", " under", " closer", " scrutiny", " because", " details", " matter", " here", " too", " first", " second", " seems", " better", " overall", " response", " question"];
  for (const word of [...startWords, ...waitWords]) {
    if (vocabulary.idOf(word) === undefined || word in spec.transitions) throw new Error(`bench: ${JSON.stringify(word)} is not a free single Qwen3 token`);
  }
  const chain = (from: string, words: string[], to: string) => {
    const path = [from, ...words, to];
    for (let i = 0; i + 1 < path.length; i++) spec.transitions[path[i]] = sure(path[i + 1]);
  };
  chain(" both", startWords, ".");
  chain(" again", waitWords, ".");
  spec.name = "j1-shaped-qwen3-long-thinking";
  // 5 + 15 before the first end of thinking; "," " check" " again" + 20 + "." after each wait.
  return { spec, start: 5 + startWords.length, afterWait: 4 + waitWords.length };
}

// ---- 1. thinking: j1 vs node-llama-cpp directly --------------------------------------------------------

async function directRun(sequence: LlamaContextSequence, promptTokens: Token[], generate: number): Promise<{ total: number; prompt: number }> {
  const started = performance.now();
  await sequence.clearHistory();
  let generated = 0;
  let firstAt = started;
  for await (const token of sequence.evaluate(promptTokens, { temperature: 0, yieldEogToken: true })) {
    void token;
    if (generated === 0) firstAt = performance.now();
    if (++generated >= generate) break;
  }
  const ended = performance.now();
  return { total: ended - started, prompt: firstAt - started };
}

async function sectionThinking(): Promise<void> {
  const { spec, start, afterWait } = await longThinkingSpec();
  const modelPath = await shapedModelPath("qwen3", { spec });
  const engine = await createLlamaCppEngine({ model: modelPath, threads, contextSize: 4096, sequences: 1 });
  const directContext = await engine.model.createContext({ contextSize: 4096, threads });
  const directSequence = directContext.getSequence();
  const rows: Array<Array<string | number>> = [];
  const ratios: number[] = [];
  try {
    for (const waits of [0, 2, 8]) {
      const j1Times: number[] = [];
      const directTimes: number[] = [];
      const promptTimes: number[] = [];
      let thinking = 0;
      let generatedCount = 0;
      let prompt = 0;
      let evaluated = 0;
      let cached = 0;
      const renderTimes: number[] = [];
      // One untimed judgment first (grammar compiled, sampler and buffers warm), then interleaved reps.
      for (let rep = -1; rep < reps; rep++) {
        // A system prompt that differs from its first words on: every judgment pays for its whole prompt,
        // as the direct baseline does.
        const template: JudgeTemplate = { ...DEFAULT_PAIRWISE_TEMPLATE, system: `Run ${waits}/${rep}. ${DEFAULT_PAIRWISE_TEMPLATE.system}` };
        const judge = await Judge.create({ engine, template, scaling: { waits } });
        const pair = { question: `bench ${waits}/${rep}: which is better?`, a: "first answer", b: "second answer" };
        const started = performance.now();
        const judgment = await judge.judgePair(pair, { temperature: 0 });
        const j1Time = performance.now() - started;
        if (judgment.status !== "ok") throw new Error(`judgment failed: ${judgment.error}`);
        // What j1 does before its first token and the direct run does not time: render (the GGUF's Jinja
        // chat template) and tokenize.
        const renderStarted = performance.now();
        const promptTokens = await engine.tokenizePrompt(judge.renderPair(pair));
        const renderMs = performance.now() - renderStarted;
        const generate = traceTokens(judgment.usage) - judgment.usage.promptTokens;
        const direct = await directRun(directSequence, promptTokens, generate);
        if (rep < 0) continue;
        j1Times.push(j1Time);
        directTimes.push(direct.total);
        promptTimes.push(direct.prompt);
        renderTimes.push(renderMs);
        thinking = judgment.usage.thinkingTokens;
        generatedCount = generate;
        prompt = judgment.usage.promptTokens;
        evaluated = judgment.usage.evaluatedTokens;
        cached = judgment.usage.cachedTokens;
      }
      const j1 = median(j1Times);
      const direct = median(directTimes);
      const promptMs = median(promptTimes);
      const renderMs = median(renderTimes);
      ratios.push(direct / j1);
      rows.push([
        waits,
        prompt,
        // The model's own "</think>" at the end counts as a thinking token (it is generated text).
        `${thinking}${thinking === start + waits * afterWait + 1 ? "" : ` (expected ${start + waits * afterWait + 1})`}`,
        generatedCount,
        `${evaluated} + ${cached}`,
        f(j1, 1),
        f(direct, 1),
        f(j1 / thinking, 3),
        f(direct / thinking, 3),
        f((j1 - promptMs) / generatedCount, 3),
        f((direct - promptMs) / generatedCount, 3),
        f(direct / j1, 3),
        f(renderMs, 1),
        f(direct / (j1 - renderMs), 3),
      ]);
    }
  } finally {
    await directContext.dispose();
    await engine.dispose();
  }
  console.log(`## 1. Thinking: j1 vs node-llama-cpp directly (Qwen3-shaped, ${engine.describe().model.split("/").pop()}, 64 wide x 2 layers, vocabulary 151,936)\n`);
  console.log(`threads ${threads}; ${reps} interleaved judgments per row (after one untimed), medians; greedy. "after prompt" = tokens j1 put in the sequence after the prompt (thinking + injected + answer); the direct run generates exactly that many from the same prompt tokens. "decode ms/tok" subtracts the direct run's prompt time (to its first token) from both. j1's time includes rendering the prompt with the GGUF's Jinja template and tokenizing it (timed alone in "render+tokenize ms"); the direct run gets the tokens.\n`);
  console.log(
    table(
      ["waits", "prompt", "thinking tok", "after prompt", "j1 evaluated + cached", "j1 ms", "direct ms", "j1 ms/thinking tok", "direct ms/same tok", "j1 decode ms/tok", "direct decode ms/tok", "j1/direct tok/s", "render+tokenize ms", "j1/direct without render"],
      rows,
    ),
  );
  console.log(`\nj1/direct (tokens/s, median of per-row medians): ${f(median(ratios), 3)} (goal >= 0.95)\n`);
}

// ---- 2. the answer step vs a plain evaluate loop ------------------------------------------------------

interface AnswerFigures {
  label: string;
  pending: number;
  answerTokens: number;
  j1Evaluated: number;
  plainEvaluated: number;
  j1Ms: number;
  plainMs: number;
  parts: Record<string, number>;
  verdict: string;
  /** One step at the verdict position, by what it hands back: the sampled token, the top 64, or all probabilities. */
  reads: Record<string, number>;
}

/**
 * Times the session's private answer parts (distribution reads, off-path probes; a probe's read counts in
 * both) and counts the probability entries node-llama-cpp hands to JavaScript ("entries read").
 */
function instrumentAnswerParts(): { parts: Map<string, number[]>; restore: () => void; start: () => void; take: () => Record<string, number> } {
  const proto = LlamaCppSession.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const names = { readDistribution: "distribution reads", probe: "off-path probes" } as const;
  const originals = new Map<string, (...a: unknown[]) => Promise<unknown>>();
  const current = new Map<string, number>();
  const feedAndRead = proto.feedAndRead;
  originals.set("feedAndRead", feedAndRead);
  proto.feedAndRead = async function (this: unknown, ...a: unknown[]) {
    const read = (await feedAndRead.apply(this, a)) as Map<number, number>;
    current.set("entries read", (current.get("entries read") ?? 0) + read.size);
    return read;
  };
  for (const [method, label] of Object.entries(names)) {
    const original = proto[method];
    originals.set(method, original);
    proto[method] = async function (this: unknown, ...a: unknown[]) {
      const started = performance.now();
      try {
        return await original.apply(this, a);
      } finally {
        current.set(label, (current.get(label) ?? 0) + performance.now() - started);
      }
    };
  }
  const parts = new Map<string, number[]>();
  return {
    parts,
    restore: () => {
      for (const [method, original] of originals) proto[method] = original;
    },
    start: () => current.clear(),
    take: () => {
      const out: Record<string, number> = {};
      for (const label of [...Object.values(names), "entries read"]) out[label] = current.get(label) ?? 0;
      return out;
    },
  };
}

async function answerFigures(engine: LlamaCppEngine, judge: Judge, prompt: PromptSegment[], choices: string[], label: string): Promise<AnswerFigures> {
  const session = await engine.open(prompt);
  const plainContext = await engine.model.createContext({ contextSize: 4096, threads });
  const parts = instrumentAnswerParts();
  try {
    // The fixed prefix: the prompt, the model's thinking up to its end, then what j1 injects before the verdict.
    const thought = await session.generate({ stopAt: judge.template.thinkEnd, temperature: 0, seed: 1 });
    if (thought.stop !== "delimiter") throw new Error(`thinking ended with ${thought.stop}`);
    await session.append(judge.template.thinkEnd);
    await session.append(judge.template.answerPrefix);
    const mark = session.mark();
    const pendingTokens = [...(mark as unknown as { pending: Token[] }).pending];
    const sequence = sequenceOf(session);
    const prefix = [...sequence.contextTokens];
    const plain = plainContext.getSequence();
    await plain.evaluateWithoutGeneratingNewTokens(prefix);
    const request: AnswerRequest = { choices, suffix: judge.template.answerSuffix, maxTokens: 16, temperature: 0, seed: 1 };

    const j1Times: number[] = [];
    const plainTimes: number[] = [];
    const partTimes = new Map<string, number[]>();
    let answerTokens = 0;
    let j1Evaluated = 0;
    let plainEvaluated = 0;
    let verdict = "";
    for (let rep = -2; rep < answerReps; rep++) {
      // j1: the answer from the mark, then back to the mark (untimed).
      const before = meter(sequence);
      parts.start();
      let started = performance.now();
      const answer = await session.answer(request);
      const j1Time = performance.now() - started;
      const split = parts.take();
      j1Evaluated = meter(sequence) - before;
      answerTokens = answer.tokens;
      verdict = answer.text;
      await session.rollback(mark);

      // Plain: feed the same pending tokens and generate as many tokens as the answer did, greedy.
      const plainBefore = meter(plain);
      started = performance.now();
      let generated = 0;
      for await (const token of plain.evaluate(pendingTokens, { temperature: 0, yieldEogToken: true })) {
        void token;
        if (++generated >= answer.tokens) break;
      }
      const plainTime = performance.now() - started;
      plainEvaluated = meter(plain) - plainBefore;
      await plain.eraseContextTokenRanges([{ start: prefix.length, end: plain.nextTokenIndex }]);
      if (rep < 0) continue; // warm-up (grammar compiled, buffers allocated)
      j1Times.push(j1Time);
      plainTimes.push(plainTime);
      for (const [name, ms] of Object.entries(split)) partTimes.set(name, [...(partTimes.get(name) ?? []), ms]);
    }
    // What one read at the verdict position costs by what it returns (feeding the same pending tokens).
    const reads: Record<string, number> = {};
    const modes: Array<[string, Record<string, unknown>]> = [
      ["token", { token: true, options: { temperature: 0 } }],
      ["top-64 probabilities", { probabilities: true, options: { temperature: 1, topK: 64, topP: 1, minP: 0 } }],
      ["all 151,936 probabilities", { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } }],
    ];
    for (const [name, generateNext] of modes) {
      const times: number[] = [];
      for (let rep = -1; rep < answerReps; rep++) {
        const last = pendingTokens.length - 1;
        const items = pendingTokens.map((token, index) => (index === last ? [token, { generateNext }] : token));
        const started = performance.now();
        await plain.controlledEvaluate(items as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
        const ms = performance.now() - started;
        await plain.eraseContextTokenRanges([{ start: prefix.length, end: plain.nextTokenIndex }]);
        if (rep >= 0) times.push(ms);
      }
      reads[name] = median(times);
    }
    return {
      reads,
      label,
      pending: pendingTokens.length,
      answerTokens,
      j1Evaluated,
      plainEvaluated,
      j1Ms: median(j1Times),
      plainMs: median(plainTimes),
      parts: Object.fromEntries([...partTimes].map(([name, ms]) => [name, median(ms)])),
      verdict,
    };
  } finally {
    parts.restore();
    await session.close();
    await plainContext.dispose();
  }
}

async function sectionAnswer(): Promise<void> {
  const modelPath = await shapedModelPath("qwen3");
  const engine = await createLlamaCppEngine({ model: modelPath, threads, contextSize: 4096, sequences: 1 });
  const figures: AnswerFigures[] = [];
  try {
    const pairJudge = await Judge.create({ engine });
    const pointJudge = await Judge.create({ engine, template: DEFAULT_POINTWISE_TEMPLATE });
    const pairPrompt = pairJudge.renderPair({ question: "Which answer is better?", a: "first answer", b: "second answer" });
    const pointPrompt = pointJudge.renderPoint({ question: "How good is this answer?", response: "an answer" });
    figures.push(await answerFigures(engine, pairJudge, pairPrompt, verdictChoices(pairJudge.template, false), "pairwise A/B"));
    figures.push(await answerFigures(engine, pointJudge, pointPrompt, verdictChoices(pointJudge.template, false), "pointwise 1..10"));
  } finally {
    await engine.dispose();
  }
  console.log(`## 2. The answer step vs a plain evaluate loop (Qwen3-shaped, 64 wide x 2 layers, vocabulary 151,936)\n`);
  console.log(`threads ${threads}; ${answerReps} reps each (after 2 untimed), medians. Both feed the same pending tokens after the same prefix and produce as many tokens as the answer did; j1 walks the choices' tokens: a top-64 read of the untempered distribution at the verdict position and after each verdict token a choice continues, the next token drawn from it among those a choice allows (no grammar); prefixes off the chosen path are probed (top-64) and erased. "probability entries read" = entries handed to JavaScript (machine-independent; the whole vocabulary is 151,936).\n`);
  console.log(
    table(
      ["choices", "pending fed", "answer tokens", "verdict", "j1 evaluated", "plain evaluated", "probability entries read", "j1 answer() ms", "plain ms", "j1/plain", "distribution reads ms", "of which off-path probes ms"],
      figures.map((x) => [
        x.label,
        x.pending,
        x.answerTokens,
        JSON.stringify(x.verdict),
        x.j1Evaluated,
        x.plainEvaluated,
        x.parts["entries read"] ?? 0,
        f(x.j1Ms),
        f(x.plainMs),
        `${f(x.j1Ms / x.plainMs)}x`,
        f(x.parts["distribution reads"] ?? 0),
        f(x.parts["off-path probes"] ?? 0),
      ]),
    ),
  );
  console.log(`\ngoal: j1/plain <= 1.5x\n`);
  console.log("One step at the verdict position (node-llama-cpp controlledEvaluate, the same pending tokens), by what it hands back to JavaScript:\n");
  console.log(table(["prefix", ...Object.keys(figures[0]?.reads ?? {}).map((name) => `${name} ms`)], figures.map((x) => [x.label, ...Object.values(x.reads).map((ms) => f(ms))])));
  console.log("");
}

// ---- 3. batched samples on the wide build -------------------------------------------------------------

/** The greedy thinking of the default table after "Let", with the wait text replacing each end of thinking. */
function expectedThinking(count: number): string {
  const pieces = [" me", " compare", " both", "."];
  while (pieces.length < count) pieces.push(",", " check", " again", ".");
  return pieces.slice(0, count).join("");
}

/**
 * Generates `count` thinking tokens on a session, replacing each end of thinking with the wait text, and
 * checks them against the table's greedy trajectory (a wrong token shows wrong logits).
 */
async function think(session: EngineSession, count: number, seed: number): Promise<{ tokens: number; ok: boolean; text: string }> {
  let generated = 0;
  let text = "";
  while (generated < count) {
    const step = await session.generate({ stopAt: "</think>", maxTokens: count - generated, temperature: 0, seed });
    generated += step.tokens;
    text += step.text;
    if (step.stop === "delimiter") await session.append("Wait");
    else if (step.stop !== "length") break; // "end": the model produced an end of turn (wrong logits); no way on
  }
  return { tokens: generated, ok: generated === count && text === expectedThinking(count), text };
}

function shortPrompt(tag: string): PromptSegment[] {
  return [{ text: `<|im_start|>user\nJudge ${tag}.<|im_end|>\n<|im_start|>assistant\n<think>\n`, trusted: true }];
}

const poolNote = () => (process.env.UV_THREADPOOL_SIZE ? `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}` : "default libuv pool (4 threads)");

async function sectionBatched(): Promise<void> {
  const modelPath = await shapedModelPath("qwen3", { width: 512, layers: 4 });
  const contextSize = 512;
  const narrow = await createLlamaCppEngine({ model: modelPath, threads, contextSize, sequences: 1 });
  const rows: Array<Array<string | number>> = [];
  const wrongExamples: string[] = [];
  let singleStepMs = Number.NaN;
  try {
    for (const samples of [1, 4, 16]) {
      const wide = await createLlamaCppEngine({ model: modelPath, threads, contextSize, sequences: samples });
      const fill = batchFill(wide);
      const fills: number[] = [];
      const batchedRates: number[] = [];
      const sequentialRates: number[] = [];
      const stepTimes: number[] = [];
      let wrongBatched = 0;
      let wrongSequential = 0;
      let runs = 0;
      try {
        for (let round = -1; round < rounds; round++) {
          // Batched: K sessions at once; prompts fed (and one token generated) before the clock starts.
          const sessions = await Promise.all(Array.from({ length: samples }, (_, k) => wide.open(shortPrompt(`batched ${samples}/${round}/${k}`))));
          await Promise.all(sessions.map((session, k) => session.generate({ stopAt: "</think>", maxTokens: 1, temperature: 0, seed: k })));
          fill.take();
          let started = performance.now();
          const results = await Promise.all(sessions.map((session, k) => think(session, batchTokens, k)));
          const batchedMs = performance.now() - started;
          const filled = fill.take();
          if (round >= 0) fills.push(filled.sequences / filled.batches);
          await Promise.all(sessions.map((session) => session.close()));
          // One by one on one sequence: the same work, each prompt fed before its clock starts.
          let sequentialMs = 0;
          let sequentialTokens = 0;
          for (let k = 0; k < samples; k++) {
            const session = await narrow.open(shortPrompt(`one-by-one ${samples}/${round}/${k}`));
            await session.generate({ stopAt: "</think>", maxTokens: 1, temperature: 0, seed: k });
            started = performance.now();
            const one = await think(session, batchTokens, k);
            sequentialMs += performance.now() - started;
            sequentialTokens += one.tokens;
            if (!one.ok && round >= 0) wrongSequential++;
            await session.close();
          }
          if (round < 0) continue; // warm-up
          runs += samples;
          for (const result of results) {
            if (result.ok) continue;
            wrongBatched++;
            if (wrongExamples.length < 3) wrongExamples.push(`K=${samples}: ${JSON.stringify(result.text)} (${result.tokens} tokens)`);
          }
          const batchedTokens = results.reduce((sum, result) => sum + result.tokens, 0);
          batchedRates.push(batchedTokens / (batchedMs / 1000));
          sequentialRates.push(sequentialTokens / (sequentialMs / 1000));
          stepTimes.push(batchedMs / batchTokens);
        }
      } finally {
        await wide.dispose();
      }
      const step = median(stepTimes);
      if (samples === 1) singleStepMs = step;
      rows.push([
        samples,
        f(median(batchedRates), 1),
        f(median(sequentialRates), 1),
        `${f(median(batchedRates) / median(sequentialRates))}x`,
        f(step, 1),
        f(step / samples, 2),
        f(step / singleStepMs, 2),
        f(median(fills), 1),
        `${wrongBatched}/${runs}`,
        `${wrongSequential}/${runs}`,
      ]);
    }
  } finally {
    await narrow.dispose();
  }
  console.log(`## 3. Batched samples (Qwen3-shaped wide build: 512 wide x 4 layers, vocabulary 151,936; ${poolNote()})\n`);
  console.log(`threads ${threads}; ${batchTokens} generated tokens per sequence (the wait text replaces each end of thinking: one token per sequence per step), ${rounds} rounds after one untimed, medians; prompts fed before timing. "step" = one decode of K tokens (one per sequence) plus sampling K distributions. "wrong" = sequences whose greedy tokens left the table's trajectory (wrong logits).\n`);
  console.log(table(["K", "batched tok/s", "one-by-one tok/s", "speedup", "ms per batch step", "ms per token in batch", "step time vs K=1", "sequences per batch", "wrong batched", "wrong one-by-one"], rows));
  if (wrongExamples.length > 0) console.log(`\nwrong sequences, e.g.: ${wrongExamples.join("; ")}; expected ${JSON.stringify(expectedThinking(batchTokens))}`);
  console.log(`\ngoal: speedup >= 2.5x at K = 16\n`);
}

/**
 * Section 3 again in a child process with UV_THREADPOOL_SIZE=1. node-llama-cpp samples each sequence of
 * a batch on its own libuv worker thread, and llama.cpp's llama_get_logits_ith() reorders the batch's
 * output rows lazily, in place, on the first call after a multi-sequence decode: concurrent samplers
 * race on that reorder. One pool thread serializes them. The variable must be set before the pool starts,
 * hence a new process.
 */
async function sectionBatchedSerialized(): Promise<void> {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const childArgs = [fileURLToPath(import.meta.url), "--child", "--sections", "3", "--threads", String(threads), "--batch-tokens", String(batchTokens), "--rounds", String(rounds)];
  const child = spawn(process.execPath, childArgs, { env: { ...process.env, UV_THREADPOOL_SIZE: "1" }, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  process.stdout.write(output.replace(/^## 3\./m, "## 3b."));
  if (code !== 0) console.log(`(child exited with ${code})\n`);
}

// ---- 4. over HTTP: llama-server's prefix cache ---------------------------------------------------------

async function sectionHttp(): Promise<void> {
  console.log(`## 4. Over HTTP: llama-server prefix cache (Qwen3-shaped, 64 wide x 2 layers, openai engine)\n`);
  const binary = findLlamaServer();
  if (!binary) {
    console.log("llama-server not built (scripts/build-llama-server.sh): section skipped\n");
    return;
  }
  const modelPath = await shapedModelPath("qwen3");
  const server = await startLlamaServer({ modelPath, binary, contextSize: 4096, parallel: 1, threads });
  const rows: Array<Array<string | number>> = [];
  const freshRows: Array<Array<string | number>> = [];
  let totals = { evaluated: 0, cached: 0 };
  try {
    const engine = await createEngine({ engine: "openai", baseUrl: `${server.baseUrl}/v1`, timeoutMs: 60_000 });
    try {
      const pair = { question: "Which answer is better?", a: "first answer", b: "second answer" };
      const run = async (waits: number, template?: JudgeTemplate) => {
        const judge = await Judge.create({ engine, template, scaling: { waits } });
        const started = performance.now();
        const judgment = await judge.judgePair(pair, { temperature: 0 });
        const ms = performance.now() - started;
        if (judgment.status !== "ok") throw new Error(`waits ${waits}: ${judgment.error}`);
        const { evaluatedTokens: evaluated, cachedTokens: cached } = judgment.usage;
        return { judgment, ms, evaluated, cached, rate: cached / (evaluated + cached) };
      };
      for (let waits = 0; waits <= httpWaits; waits++) {
        const { judgment, ms, evaluated, cached, rate } = await run(waits);
        totals = { evaluated: totals.evaluated + evaluated, cached: totals.cached + cached };
        rows.push([waits, judgment.usage.promptTokens, judgment.usage.thinkingTokens, traceTokens(judgment.usage), evaluated, cached, `${f(100 * rate, 1)}%`, judgment.verdict ?? "-", f(ms, 0)]);
      }
      // The same with a prompt the server has not seen (a new system prompt each time): the cold case.
      for (const waits of [0, 2, httpWaits]) {
        const template: JudgeTemplate = { ...DEFAULT_PAIRWISE_TEMPLATE, system: `Fresh ${waits}. ${DEFAULT_PAIRWISE_TEMPLATE.system}` };
        const { judgment, ms, evaluated, cached, rate } = await run(waits, template);
        freshRows.push([waits, judgment.usage.promptTokens, traceTokens(judgment.usage), evaluated, cached, `${f(100 * rate, 1)}%`, f(ms, 0)]);
      }
    } finally {
      await engine.dispose();
    }
  } catch (error) {
    console.log(`error: ${errorText(error)}\n`);
  } finally {
    await server.stop();
  }
  if (rows.length > 0) {
    console.log(`llama-server ${binary.split("/").slice(-3, -2)[0]} (-np 1, -c 4096, -t ${threads}); one pair judged with waits 0..${httpWaits} in that order, greedy; hit rate = cached / (evaluated + cached) over the judgment's requests.\n`);
    console.log(table(["waits", "prompt", "thinking", "trace tokens", "evaluated", "cached", "hit rate", "verdict", "ms"], rows));
    console.log(`\nall ${rows.length} judgments: hit rate ${f((100 * totals.cached) / (totals.evaluated + totals.cached), 1)}% (goal >= 95%); the first one's prompt is cold\n`);
  }
  if (freshRows.length > 0) {
    console.log("A prompt the server has not seen (new system prompt per judgment):\n");
    console.log(table(["waits", "prompt", "trace tokens", "evaluated", "cached", "hit rate", "ms"], freshRows));
    console.log("");
  }
}

// ---- 5. samples that share their prompt -------------------------------------------------------------

/**
 * K samples of one pair (greedy, waits 2) with one sequence against K sequences, in process, and over
 * llama-server with 1 slot against K slots when it is built: evaluated tokens (the goal: prompt once plus
 * K continuations), the prompt's share, and wall time. Each judgment gets a prompt the engine has not seen.
 */
async function sectionSharedPrompt(): Promise<void> {
  const samples = flag("--samples", 16);
  const modelPath = await shapedModelPath("qwen3");
  const rows: Array<Array<string | number>> = [];
  const judgeOnce = async (engine: Engine, label: string, tag: string) => {
    const template: JudgeTemplate = { ...DEFAULT_PAIRWISE_TEMPLATE, system: `Shared ${tag}. ${DEFAULT_PAIRWISE_TEMPLATE.system}` };
    const judge = await Judge.create({ engine, template, scaling: { waits: 2 } });
    const started = performance.now();
    const judgment = await judge.judgePair({ question: "Which answer is better?", a: "first answer", b: "second answer" }, { samples, temperature: 0 });
    const ms = performance.now() - started;
    if (judgment.status !== "ok") throw new Error(`${label}: ${judgment.error}`);
    const prompt = judgment.runs[0].usage.promptTokens;
    const continuations = judgment.runs.reduce((sum, run) => sum + traceTokens(run.usage) - run.usage.promptTokens, 0);
    rows.push([label, samples, prompt, continuations, judgment.usage.evaluatedTokens, f(judgment.usage.evaluatedTokens / (prompt + continuations), 2), f(judgment.usage.evaluatedTokens / prompt, 2), f(ms, 0)]);
  };
  for (const sequences of [1, samples]) {
    const engine = await createLlamaCppEngine({ model: modelPath, threads, contextSize: 1024, sequences });
    try {
      await judgeOnce(engine, `in process, ${sequences} sequence${sequences > 1 ? "s" : ""}`, `local ${sequences}`);
    } finally {
      await engine.dispose();
    }
  }
  const binary = findLlamaServer();
  if (binary) {
    for (const slots of [1, samples]) {
      const server = await startLlamaServer({ modelPath, binary, contextSize: 1024 * slots, parallel: slots, threads });
      try {
        const engine = await createEngine({ engine: "openai", baseUrl: `${server.baseUrl}/v1`, timeoutMs: 60_000, parallel: slots });
        try {
          await judgeOnce(engine, `llama-server, ${slots} slot${slots > 1 ? "s" : ""}`, `http ${slots}`);
        } finally {
          await engine.dispose();
        }
      } finally {
        await server.stop();
      }
    }
  }
  console.log(`## 5. Samples that share their prompt (Qwen3-shaped, 64 wide x 2 layers; ${samples} greedy samples of one pair, waits 2)\n`);
  console.log(`threads ${threads}. "ideal" = one prompt + every sample's continuation (thinking, waits, answer). Before issue 19: 3,184 evaluated with 16 sequences against 499 with one, in process; 3,046 against 472 over llama-server with 16 slots.${binary ? "" : " llama-server not built (scripts/build-llama-server.sh): HTTP rows skipped."}\n`);
  console.log(table(["engine", "samples", "prompt", "continuations", "evaluated", "evaluated / ideal", "evaluated / prompt", "ms"], rows));
  console.log("\ngoal: evaluated / ideal ~ 1 whatever the parallelism (and below 2 prompts for `j1 judge --samples 8 --parallel 8`)\n");
}

// ---- main ----------------------------------------------------------------------------------------------

async function main() {
  const version = await readFile(new URL("../../node_modules/node-llama-cpp/package.json", import.meta.url), "utf8").then((text) => (JSON.parse(text) as { version: string }).version, () => "?");
  if (!args.includes("--child")) console.log(`# j1 on model-shaped GGUFs (node-llama-cpp ${version}, ${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, threads ${threads})\n`);
  const all: Array<[number, string, () => Promise<void>]> = [
    [1, "thinking", sectionThinking],
    [2, "answer", sectionAnswer],
    [3, "batched", sectionBatched],
    [3.5, "batched, sampling serialized", sectionBatchedSerialized],
    [4, "http", sectionHttp],
    [5, "shared prompt", sectionSharedPrompt],
  ];
  for (const [number, name, run] of all) {
    // 3b (the serialized re-run) goes with 3, unless this is that re-run or the pool is one thread already.
    const wanted = number === 3.5 ? sections.has(3) && !args.includes("--child") && process.env.UV_THREADPOOL_SIZE !== "1" && !args.includes("--no-serialized") : sections.has(number);
    if (!wanted) continue;
    const started = performance.now();
    try {
      await run();
    } catch (error) {
      console.log(`## ${number}. ${name}: error\n\n${errorText(error)}\n`);
    }
    console.error(`[section ${number} took ${f((performance.now() - started) / 1000, 1)} s]`);
  }
}

await main();
