import { createHash } from "node:crypto";
import type { ScalingOptions } from "../core/budget.js";
import type { ChatFormatChoice } from "../judge/prompt-format.js";
import { J1Error, errorMessage } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import type { JudgeTemplate } from "../core/template.js";
import type { EngineConfig } from "../engines/create-engine.js";
import type { Engine } from "../engines/engine.js";
import { Judge } from "../judge/judge.js";
import { judgmentKey } from "../store/judgment-key.js";
import { itemPointKey, type RunStore } from "../store/types.js";
import type { ReflectionRule } from "./reflection.js";
import type { PreferencePair } from "./rl-pairs.js";
import { selectExamples, type SftFilterOptions, type SftSelection } from "./sft-filters.js";
import { buildSftStats, type SftStats } from "./sft-stats.js";
import { toCandidate, type LengthUnit, type SftCandidate } from "./sft-trace.js";

/** The run store's point for every `j1 data sft` judgment: one judgment (all orders and samples) per pair. */
export const SFT_POINT = "sft";
/** The run store's `benchmark` for data-sft runs, so `j1 runs` tells them apart from evaluations. */
export const SFT_RUN_KIND = "data-sft";

/**
 * Everything that defines a `j1 data sft` build, saved with the run so `--resume RUN` rebuilds exactly
 * the same data. `source` and `output` are the command's business (how to read the pairs again, where
 * to write); this layer keeps them untouched.
 */
export interface SftSettings {
  kind: typeof SFT_RUN_KIND;
  source: Record<string, unknown>;
  limit?: number;
  /** Engine identity and speed settings (never an API key). */
  engine: Omit<EngineConfig, "apiKey" | "onDownloadProgress">;
  template: JudgeTemplate;
  chatFormat: ChatFormatChoice;
  chatTemplateFile?: string;
  reasoning?: string;
  scaling: Partial<ScalingOptions>;
  samples: number;
  temperature: number;
  seed: number;
  reflection: ReflectionRule;
  filters: Omit<SftFilterOptions, "seed">;
  output: Record<string, unknown>;
}

export interface SftProgress {
  setTotal(total: number): void;
  tick(update: { tokens?: number }): void;
}

export interface SftBuildOptions {
  settings: SftSettings;
  store: RunStore;
  /** The teacher's engine, or a factory called once the pairs are checked (a bad file fails before a model loads). */
  engine: Engine | (() => Promise<Engine>);
  /** Reads the pairs; called twice (check everything first, then judge), so it must give the same pairs. */
  pairs: () => AsyncIterable<PreferencePair>;
  resumeRunId?: string;
  label: string;
  progress?: SftProgress;
  signal?: AbortSignal;
  /** What the user should know about the run (the chat template fallback taken, …). */
  onNote?: (note: string) => void;
}

export interface SftBuildResult {
  runId: string;
  pairs: number;
  /** Pairs judged by the engine in this process; the rest were done before in this run or reused by key. */
  judged: number;
  reused: number;
  alreadyDone: number;
  interrupted: boolean;
  /** Present unless interrupted. */
  selection?: SftSelection;
  stats?: SftStats;
}

function shortHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

async function* limited(pairs: AsyncIterable<PreferencePair>, limit: number | undefined): AsyncGenerator<{ pair: PreferencePair; index: number }> {
  let index = 0;
  for await (const pair of pairs) {
    if (limit !== undefined && index >= limit) return;
    yield { pair, index: index++ };
  }
}

export function lengthUnitOf(engine: Engine): LengthUnit {
  return engine.countTokens ? "tokens" : "chars";
}

/**
 * Builds (or resumes) reflection-enhanced SFT data by rejection sampling: the teacher judges every pair
 * K times in both orders; each judgment is committed to the run store the moment it is done (point
 * "sft"), keyed so that the same computation is never made twice, by this run or any other. Then the
 * candidate traces go through the filters (sft-filters.ts) in input order, so an interrupted and resumed
 * run selects exactly what an uninterrupted one would.
 */
export async function buildSftData(options: SftBuildOptions): Promise<SftBuildResult> {
  const { settings, store } = options;
  // Pass one: read and check every pair before anything else, so bad data stops the build before a run
  // is recorded or a model is loaded.
  const items: Array<{ id: string; category: string; label: "A" | "B" }> = [];
  for await (const { pair } of limited(options.pairs(), settings.limit)) items.push({ id: pair.id, category: pair.category ?? "pairs", label: pair.label });
  const run = options.resumeRunId
    ? store.getRun(options.resumeRunId)
    : store.createRun({ benchmark: SFT_RUN_KIND, label: options.label, settings: settings as unknown as Record<string, unknown> });
  store.setRunItems(run.id, items, 0);
  const engine = typeof options.engine === "function" ? await options.engine() : options.engine;
  store.setRunStatus(run.id, "running");
  options.progress?.setTotal(items.length);

  const judge = await Judge.create({ engine, template: settings.template, chatFormat: settings.chatFormat, chatTemplateFile: settings.chatTemplateFile, reasoning: settings.reasoning, scaling: settings.scaling });
  for (const note of judge.format.notes) options.onNote?.(note);
  const identity = engine.describe();
  const keyBase = {
    purpose: SFT_RUN_KIND,
    engine: { engine: identity.engine, model: identity.model, modelFile: identity.modelFile, baseUrl: identity.baseUrl },
    template: shortHash(settings.template),
    chatFormat: judge.format.id,
    scaling: judge.scaling,
    samples: settings.samples,
    swap: true,
    allowTie: false,
    temperature: settings.temperature,
    seed: settings.seed,
  };
  const unit = lengthUnitOf(engine);
  const measure = engine.countTokens ? (text: string) => (engine.countTokens as (text: string) => Promise<number>)(text) : async (text: string) => text.length;
  const done = store.doneItemPoints(run.id);
  const counts = { judged: 0, reused: 0, alreadyDone: 0 };
  const perPair: SftCandidate[][] = [];

  const judgePair = async (pair: PreferencePair, index: number) => {
    // The label is not in the key: the judgment does not depend on it, so relabelled data reuses it.
    const key = judgmentKey({ ...keyBase, item: pair.id, itemHash: shortHash([pair.question, pair.context ?? null, pair.a, pair.b]) });
    let judgment: Judgment | undefined;
    let tokens = 0;
    if (done.has(itemPointKey(pair.id, SFT_POINT))) {
      judgment = store.judgment(run.id, pair.id, SFT_POINT);
      counts.alreadyDone++;
    }
    if (judgment === undefined) {
      judgment = store.findJudgmentByKey(key);
      if (judgment !== undefined) counts.reused++;
      else {
        judgment = await judge.judgePair(pair, { samples: settings.samples, swap: true, temperature: settings.temperature, seed: settings.seed, itemKey: pair.id, signal: options.signal });
        tokens = judgment.usage.evaluatedTokens;
        counts.judged++;
      }
      store.saveJudgment({ runId: run.id, itemId: pair.id, point: SFT_POINT, key, judgment });
    }
    const context = { pair, pairIndex: index, template: judge.template, format: judge.format, reflection: settings.reflection, measure };
    perPair[index] = await Promise.all(judgment.runs.map((judgmentRun) => toCandidate(judgmentRun, context)));
    options.progress?.tick({ tokens });
  };

  const concurrency = Math.max(1, Math.floor(engine.capabilities.parallelSessions / (2 * settings.samples)));
  const stream = limited(options.pairs(), settings.limit)[Symbol.asyncIterator]();
  const worker = async () => {
    for (;;) {
      if (options.signal?.aborted) return;
      const next = await stream.next();
      if (next.done) return;
      await judgePair(next.value.pair, next.value.index);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (error) {
    const cancelled = options.signal?.aborted || (error instanceof J1Error && error.code === "cancelled");
    store.setRunStatus(run.id, cancelled ? "interrupted" : "failed", { error: errorMessage(error) });
    if (cancelled) return { runId: run.id, pairs: items.length, ...counts, interrupted: true };
    throw error;
  }
  if (options.signal?.aborted) {
    store.setRunStatus(run.id, "interrupted");
    return { runId: run.id, pairs: items.length, ...counts, interrupted: true };
  }

  const candidates = perPair.flat();
  const selection = selectExamples(candidates, { ...settings.filters, seed: settings.seed });
  const stats = buildSftStats(items.length, candidates, selection, unit);
  store.setRunStatus(run.id, "done", { examples: stats.examples, acceptanceRate: stats.acceptanceRate, reflectionRate: stats.reflectionRate });
  return { runId: run.id, pairs: items.length, ...counts, interrupted: false, selection, stats };
}
