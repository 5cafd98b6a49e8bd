import type { ScalingOptions } from "../core/budget.js";
import { formatNotes, type ChatFormatChoice } from "../judge/prompt-format.js";
import type { Judgment } from "../core/judgment.js";
import type { JudgeTemplate } from "../core/template.js";
import type { EngineConfig } from "../engines/create-engine.js";
import type { Engine } from "../engines/engine.js";
import { Judge } from "../judge/judge.js";
import { scoredItem } from "../eval/item-stream.js";
import type { PairItem } from "../eval/types.js";
import { buildItemPlan, type JudgingOptions, type PlannedItem } from "../jobs/item-plan.js";
import { runJudgingJob } from "../jobs/judging-job.js";
import { storedSettings } from "../jobs/run-settings.js";
import type { RunStore } from "../store/types.js";
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
  /** Run even when the source holds no pairs (`--allow-empty`); otherwise that is bad input. */
  allowEmpty?: boolean;
  /** The source, for the message that refuses an empty one. */
  sourceName?: string;
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

/** A preference pair as the judging job sees it: a pair item, judged as given, in both orders. */
function plannedPair(pair: PreferencePair): PlannedItem {
  const item: PairItem = { id: pair.id, benchmark: SFT_RUN_KIND, category: pair.category ?? "pairs", question: pair.question, context: pair.context, a: pair.a, b: pair.b, label: pair.label };
  return { item, protocol: "both" };
}

/**
 * Builds (or resumes) reflection-enhanced SFT data by rejection sampling: the teacher judges every pair
 * K times in both orders through the judging job (jobs/judging-job.ts), which commits each judgment the
 * moment it is done (point "sft") and never makes the same computation twice, in this run or any other.
 * Then the candidate traces go through the filters (sft-filters.ts) in input order, so an interrupted and
 * resumed run selects exactly what an uninterrupted one would.
 */
export async function buildSftData(options: SftBuildOptions): Promise<SftBuildResult> {
  const { settings, store } = options;
  const perPair: SftCandidate[][] = [];
  let unit: LengthUnit = "chars";
  const judging: JudgingOptions = {
    template: settings.template,
    scaling: settings.scaling,
    samples: settings.samples,
    swap: true,
    allowTie: false,
    temperature: settings.temperature,
    seed: settings.seed,
    finalPoint: SFT_POINT,
  };
  let toCandidates: ((pair: PreferencePair, index: number, judgment: Judgment) => Promise<SftCandidate[]>) | undefined;
  const result = await runJudgingJob<PlannedItem & { pair: PreferencePair }>({
    store,
    run: { kind: SFT_RUN_KIND, benchmark: SFT_RUN_KIND, label: options.label, settings: storedSettings(settings), resumeRunId: options.resumeRunId },
    items: async function* () {
      for await (const { pair } of limited(options.pairs(), settings.limit)) yield { ...plannedPair(pair), pair };
    },
    scored: (planned) => scoredItem(planned.item),
    emptySource: (count) => (count > 0 || options.allowEmpty ? undefined : `no pairs to judge in ${options.sourceName ?? "the source"}: pass --allow-empty to run anyway`),
    plan: async () => {
      const engine = typeof options.engine === "function" ? await options.engine() : options.engine;
      const judge = await Judge.create({ engine, template: settings.template, chatFormat: settings.chatFormat, chatTemplateFile: settings.chatTemplateFile, reasoning: settings.reasoning, scaling: settings.scaling });
      for (const note of formatNotes(judge.format, settings.temperature)) options.onNote?.(note);
      unit = lengthUnitOf(engine);
      const measure = engine.countTokens ? (text: string) => (engine.countTokens as (text: string) => Promise<number>)(text) : async (text: string) => text.length;
      toCandidates = (pair, index, judgment) => {
        const context = { pair, pairIndex: index, template: judge.template, format: judge.format, reflection: settings.reflection, measure };
        return Promise.all(judgment.runs.map((judgmentRun) => toCandidate(judgmentRun, context)));
      };
      return buildItemPlan({ engine, format: judge.format, options: judging });
    },
    readDone: true,
    signal: options.signal,
    progress: options.progress,
    onItem: async ({ item, index, judgments }) => {
      perPair[index] = await (toCandidates as NonNullable<typeof toCandidates>)(item.pair, index, judgments[0]);
    },
  });
  if (result.interrupted) return { runId: result.runId, pairs: result.items, judged: result.judged, reused: result.reused, alreadyDone: result.alreadyDone, interrupted: true };
  const candidates = perPair.flat();
  const selection = selectExamples(candidates, { ...settings.filters, seed: settings.seed });
  const stats = buildSftStats(result.items, candidates, selection, unit);
  store.setRunStatus(result.runId, "done", { examples: stats.examples, acceptanceRate: stats.acceptanceRate, reflectionRate: stats.reflectionRate });
  return { runId: result.runId, pairs: result.items, judged: result.judged, reused: result.reused, alreadyDone: result.alreadyDone, interrupted: false, selection, stats };
}
