import { createHash } from "node:crypto";
import { J1Error } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import type { Engine } from "../engines/engine.js";
import { resolvePromptFormat, type PromptFormat } from "../judge/prompt-format.js";
import { Judge } from "../judge/judge.js";
import { judgmentKey } from "../store/run-store.js";
import type { RunStore } from "../store/types.js";
import type { EvalSettings } from "./eval-settings.js";
import { runItems, scoredItem } from "./item-stream.js";
import { isFlipped, presentedPair, toItemLabels } from "./positions.js";
import { getBenchmark } from "./benchmarks/registry.js";
import { FINAL_POINT, pointName } from "./sweep.js";
import { asPair, type Benchmark, type BenchmarkItem, type LoadOptions, type PairItem, type ScoredItem } from "./types.js";

export interface EvalProgress {
  setTotal(total: number): void;
  tick(update: { tokens?: number; correct?: boolean }): void;
}

export interface EvalRunOptions {
  settings: EvalSettings;
  store: RunStore;
  engine: Engine;
  /** Continue this run instead of starting a new one. */
  resumeRunId?: string;
  label: string;
  progress?: EvalProgress;
  signal?: AbortSignal;
  onSkip?: (error: Error) => void;
  /** What the user should know about the run (the chat template fallback taken, …). */
  onNote?: (note: string) => void;
  /** Judge again the items whose saved judgment recorded an engine error (a resumed run after an outage). */
  retryEngineErrors?: boolean;
}

export interface EvalRunResult {
  runId: string;
  items: number;
  skipped: number;
  /** Items judged by the engine in this process (the rest were done before, or reused by key). */
  judged: number;
  reused: number;
  alreadyDone: number;
  interrupted: boolean;
}

interface PointJudge {
  point: string;
  judge: Judge;
  /** The scaling that defines this point's judgments (what a separate run at this point would use). */
  scaling: Judge["scaling"];
}

export function loadOptionsFor(settings: EvalSettings, benchmark: string, onSkip?: (error: Error) => void): LoadOptions {
  return { data: settings.data[benchmark], skipBad: settings.skipBad, map: settings.map, onSkip };
}

/** Pass one: every item is read and checked before any judging, so bad data stops a run before it starts. */
export async function collectItems(settings: EvalSettings, onSkip?: (error: Error) => void): Promise<{ items: ScoredItem[]; skipped: number; perBenchmark: Map<string, number> }> {
  const items: ScoredItem[] = [];
  let skipped = 0;
  const perBenchmark = new Map<string, number>();
  for (const name of settings.benchmarks) {
    const benchmark = getBenchmark(name);
    const count = { items: 0 };
    for await (const item of runItems(benchmark, loadOptionsFor(settings, name, (error) => { skipped++; onSkip?.(error); }), settings.limit)) {
      items.push(scoredItem(item));
      count.items++;
    }
    perBenchmark.set(name, count.items);
  }
  return { items, skipped, perBenchmark };
}

/** Every judgment j1 would make: per item, both orders or one, times samples (a waits sweep is one pass). */
export function passesPerItem(settings: EvalSettings, benchmark: Benchmark): number {
  const orders = settings.swap || benchmark.protocol === "both" ? 2 : 1;
  const sweepPasses = settings.sweep?.setting === "max-thinking" ? settings.sweep.values.length : 1;
  return orders * settings.samples * sweepPasses;
}

function templateHash(settings: EvalSettings): string {
  return createHash("sha256").update(JSON.stringify(settings.template)).digest("hex").slice(0, 16);
}

function itemHash(item: PairItem): string {
  return createHash("sha256").update(JSON.stringify([item.question, item.context ?? null, item.a, item.b, item.label])).digest("hex").slice(0, 16);
}

/**
 * Runs (or resumes) an evaluation: items are streamed a second time and judged by a pool of workers;
 * each judgment is committed to the store the moment it is done, so a killed run loses nothing finished.
 * A judgment whose key (model, template, options, item, order, sample, seed) is already in the store, from
 * this run or any other, is reused instead of computed again.
 */
export async function runEval(options: EvalRunOptions): Promise<EvalRunResult> {
  const { settings, store, engine } = options;
  const run = options.resumeRunId ? store.getRun(options.resumeRunId) : store.createRun({ benchmark: settings.benchmarks.join("+"), label: options.label, settings: settings as unknown as Record<string, unknown> });
  const collected = await collectItems(settings, options.onSkip);
  store.setRunItems(run.id, collected.items, collected.skipped);
  store.setRunStatus(run.id, "running");
  options.progress?.setTotal(collected.items.length);

  const identity = engine.describe();
  const engineIdentity = { engine: identity.engine, model: identity.model, modelFile: identity.modelFile, baseUrl: identity.baseUrl };
  const template = templateHash(settings);
  const format = await resolvePromptFormat(settings.chatFormat, engine, { chatTemplateFile: settings.chatTemplateFile, reasoning: settings.reasoning });
  for (const note of format.notes) options.onNote?.(note);
  const pointJudges = buildPointJudges(engine, settings, format);
  const done = store.doneItemPoints(run.id);
  if (options.retryEngineErrors) {
    for (const { point } of pointJudges) {
      for (const [itemId, decision] of store.decisions(run.id, point)) if (decision.status === "engine-error") done.delete(`${itemId}\u0000${point}`);
    }
  }
  const counts = { judged: 0, reused: 0, alreadyDone: 0 };

  const keyFor = (item: BenchmarkItem, flipped: boolean, swap: boolean, pointJudge: PointJudge) =>
    judgmentKey({
      engine: engineIdentity,
      template,
      chatFormat: format.id,
      scaling: pointJudge.scaling,
      samples: settings.samples,
      swap,
      allowTie: settings.allowTie,
      temperature: settings.temperature,
      sampling: settings.sampling,
      seed: settings.seed,
      item: item.id,
      itemHash: itemHash(asPair(item)),
      flipped,
    });

  const judgeItem = async (benchmark: Benchmark, item: BenchmarkItem) => {
    const flipped = isFlipped(benchmark.protocol, item, settings.seed);
    const swap = settings.swap || benchmark.protocol === "both";
    const keys = pointJudges.map((pointJudge) => keyFor(item, flipped, swap, pointJudge));
    const missing = pointJudges.filter((pointJudge) => !done.has(`${item.id}\u0000${pointJudge.point}`));
    let finalJudgment: Judgment | undefined;
    if (missing.length === 0) {
      counts.alreadyDone++;
      options.progress?.tick({});
      return;
    }
    const stored = pointJudges.map((_, index) => {
      const judgment = store.findJudgmentByKey(keys[index]);
      return options.retryEngineErrors && judgment?.status === "engine-error" ? undefined : judgment;
    });
    let judgments: Judgment[];
    let tokens = 0;
    if (stored.every((judgment) => judgment !== undefined)) {
      judgments = stored as Judgment[];
      counts.reused++;
    } else {
      judgments = await judgeAllPoints(pointJudges, settings, presentedPair(asPair(item), flipped), swap, item.id, options.signal);
      judgments = judgments.map((judgment) => toItemLabels(judgment, flipped));
      tokens = judgments.reduce((sum, judgment) => sum + judgment.usage.evaluatedTokens, 0);
      counts.judged++;
    }
    pointJudges.forEach((pointJudge, index) => {
      store.saveJudgment({ runId: run.id, itemId: item.id, point: pointJudge.point, key: keys[index], judgment: judgments[index], replaceEngineError: options.retryEngineErrors });
    });
    finalJudgment = judgments[judgments.length - 1];
    options.progress?.tick({ tokens, correct: finalJudgment.verdict === item.label });
  };

  let interrupted = false;
  try {
    for (const name of settings.benchmarks) {
      const benchmark = getBenchmark(name);
      const orders = settings.swap || benchmark.protocol === "both" ? 2 : 1;
      const concurrency = Math.max(1, Math.floor(engine.capabilities.parallelSessions / (orders * settings.samples)));
      // Skipped rows were counted in pass one; here they are passed over quietly.
      const stream = runItems(benchmark, loadOptionsFor(settings, name, () => undefined), settings.limit)[Symbol.asyncIterator]();
      const worker = async () => {
        for (;;) {
          if (options.signal?.aborted) return;
          const next = await stream.next();
          if (next.done) return;
          await judgeItem(benchmark, next.value);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
    }
  } catch (error) {
    const cancelled = options.signal?.aborted || (error instanceof J1Error && error.code === "cancelled");
    store.setRunStatus(run.id, cancelled ? "interrupted" : "failed", { error: error instanceof Error ? error.message : String(error) });
    if (cancelled) return { runId: run.id, items: collected.items.length, skipped: collected.skipped, ...counts, interrupted: true };
    throw error;
  }
  // What the engine could not do as asked and what the format fell back to, kept with the run for reports.
  store.setRunStatus(run.id, interrupted ? "interrupted" : "done", { warnings: engine.warnings ?? [], notes: format.notes });
  return { runId: run.id, items: collected.items.length, skipped: collected.skipped, ...counts, interrupted };
}

function buildPointJudges(engine: Engine, settings: EvalSettings, promptFormat: PromptFormat): PointJudge[] {
  const base = { engine, template: settings.template, promptFormat };
  const sweep = settings.sweep;
  if (!sweep) {
    const judge = new Judge({ ...base, scaling: settings.scaling });
    return [{ point: FINAL_POINT, judge, scaling: judge.scaling }];
  }
  if (sweep.setting === "waits") {
    // One judge at the largest wait count reads every smaller point on the way (judgePairSweep).
    const judge = new Judge({ ...base, scaling: { ...settings.scaling, waits: Math.max(...sweep.values) } });
    return sweep.values.map((waits) => ({ point: pointName("waits", waits), judge, scaling: { ...judge.scaling, waits } }));
  }
  return sweep.values.map((cap) => {
    const judge = new Judge({ ...base, scaling: { ...settings.scaling, maxThinkingTokens: cap } });
    return { point: pointName("max-thinking", cap), judge, scaling: judge.scaling };
  });
}

async function judgeAllPoints(pointJudges: PointJudge[], settings: EvalSettings, pair: ReturnType<typeof presentedPair>, swap: boolean, itemKey: string, signal?: AbortSignal): Promise<Judgment[]> {
  const call = { samples: settings.samples, swap, allowTie: settings.allowTie, temperature: settings.temperature, sampling: settings.sampling, seed: settings.seed, itemKey, signal };
  if (settings.sweep?.setting === "waits") {
    const judge = pointJudges[0].judge;
    const sweep = await judge.judgePairSweep(pair, { ...call, readAtWaits: settings.sweep.values });
    return settings.sweep.values.map((waits) => sweep.points.get(waits) as Judgment);
  }
  const judgments: Judgment[] = [];
  for (const pointJudge of pointJudges) judgments.push(await pointJudge.judge.judgePair(pair, call));
  return judgments;
}
