import { capabilityNotes } from "../engines/engine-registry.js";
import { formatNotes, resolvePromptFormat } from "../judge/prompt-format.js";
import { buildItemPlan, passesFor, templateFor, type JudgingOptions, type PlannedItem } from "../jobs/item-plan.js";
import { storedSettings } from "../jobs/run-settings.js";
import { runJudgingJob, type JobProgress, type JobResult } from "../jobs/judging-job.js";
import type { Engine, ServerFigures } from "../engines/engine.js";
import type { RunRecord, RunStore } from "../store/types.js";
import { dataFiles, effectiveProtocol, itemLimitOf, type EvalSettings } from "./eval-settings.js";
import { runItems, scoredItem, type Population } from "./item-stream.js";
import { getBenchmark } from "./benchmarks/registry.js";
import { ShardDealer } from "./shard.js";
import type { Benchmark, BenchmarkItem, LoadOptions, ScoredItem } from "./types.js";

export type EvalProgress = JobProgress;

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
  /** Called once the run is recorded (its id known), before any judging. */
  onRun?: (run: RunRecord) => void;
  /** Run even when the data holds no items (`--allow-empty`); otherwise that is bad input, as everywhere. */
  allowEmpty?: boolean;
}

export type EvalRunResult = JobResult & {
  /** Per server, when the engine judged over a fleet (engine.servers()). */
  servers?: ServerFigures[];
};

export function loadOptionsFor(settings: EvalSettings, benchmark: string, onSkip?: (error: Error) => void): LoadOptions {
  return { data: dataFiles(settings, benchmark), skipBad: settings.skipBad, map: settings.map, onSkip, seed: settings.seed, variant: settings.variants?.[benchmark] };
}

/** Pass one: every item is read and checked before any judging, so bad data stops a run before it starts. */
export async function collectItems(
  settings: EvalSettings,
  onSkip?: (error: Error) => void,
  /** Each item as it streams by; with `keep: false` the items are not kept (a dry run counts, flat in memory). */
  stream?: { keep: boolean; onItem: (benchmark: string, item: ScoredItem) => void },
): Promise<{ items: ScoredItem[]; skipped: number; perBenchmark: Map<string, number>; judgments: Map<string, number>; population: Record<string, Population> }> {
  const items: ScoredItem[] = [];
  let skipped = 0;
  const perBenchmark = new Map<string, number>();
  const judgments = new Map<string, number>();
  const dealer = settings.shard ? new ShardDealer(settings.shard) : undefined;
  const population: Record<string, Population> = {};
  for (const name of settings.benchmarks) {
    const benchmark = getBenchmark(name);
    const count = { items: 0 };
    const onPopulation = (counted: Population) => { population[name] = counted; };
    for await (const item of runItems(benchmark, loadOptionsFor(settings, name, (error) => { skipped++; onSkip?.(error); }), itemLimitOf(settings), onPopulation)) {
      if (dealer && !dealer.take(item)) continue;
      // The template check the real run makes, so --dry-run refuses what the run would refuse.
      const planned = plannedItem(settings, benchmark, item);
      templateFor(planned, settings.template);
      judgments.set(name, (judgments.get(name) ?? 0) + passesFor(planned, settings));
      const scored = scoredItem(item);
      stream?.onItem(name, scored);
      if (stream?.keep !== false) items.push(scored);
      count.items++;
    }
    perBenchmark.set(name, count.items);
  }
  return { items, skipped, perBenchmark, judgments, population };
}

/** An item with the placement and official prompt this run's settings give it. */
export function plannedItem(settings: EvalSettings, benchmark: Benchmark, item: BenchmarkItem): PlannedItem {
  // A user's template replaces the benchmark's official prompts (and is checked against each item's kind).
  return { item, protocol: effectiveProtocol(settings, benchmark), officialTemplate: settings.template === undefined ? benchmark.officialTemplate?.(item) : undefined };
}

/** The judging part of an eval run's settings, as the job's item plan takes it. */
export function judgingOptions(settings: EvalSettings): JudgingOptions {
  return {
    template: settings.template,
    scaling: settings.scaling,
    sweep: settings.sweep,
    samples: settings.samples,
    earlyStop: settings.earlyStop,
    swap: settings.swap,
    allowTie: settings.allowTie,
    temperature: settings.temperature,
    sampling: settings.sampling,
    seed: settings.seed,
  };
}

/**
 * Runs (or resumes) an evaluation: the benchmarks' items, in order, through the judging job
 * (jobs/judging-job.ts), which checks them all first, judges each at the run's points, commits every
 * judgment the moment it is done and reuses any judgment already computed with the same key.
 */
export async function runEval(options: EvalRunOptions): Promise<EvalRunResult> {
  const { settings, store, engine } = options;
  let skipped = 0;
  let pass = 0;
  // --shard i/n: each pass deals the items again (the same way), and the last full pass's record is kept.
  let dealt: ShardDealer | undefined;
  const population: Record<string, Population> = {};
  const items = async function* (): AsyncGenerator<PlannedItem> {
    // Skipped rows are counted (and reported) on the first pass; the second passes over them quietly.
    const counting = pass++ === 0;
    const dealer = settings.shard ? new ShardDealer(settings.shard) : undefined;
    for (const name of settings.benchmarks) {
      const benchmark = getBenchmark(name);
      const onSkip = counting ? (error: Error) => { skipped++; options.onSkip?.(error); } : () => undefined;
      const onPopulation = (counted: Population) => { population[name] = counted; };
      for await (const item of runItems(benchmark, loadOptionsFor(settings, name, onSkip), itemLimitOf(settings), onPopulation)) {
        if (dealer && !dealer.take(item)) continue;
        yield plannedItem(settings, benchmark, item);
      }
    }
    dealt = dealer;
  };
  const resolved = await resolvePromptFormat(settings.chatFormat, engine, { chatTemplateFile: settings.chatTemplateFile, reasoning: settings.reasoning });
  const format = { ...resolved, notes: [...formatNotes(resolved, settings.temperature), ...capabilityNotes(engine)] };
  const judging = judgingOptions(settings);
  const result = await runJudgingJob<PlannedItem>({
    store,
    run: { kind: "eval", benchmark: settings.benchmarks.join("+"), label: options.label, settings: storedSettings(settings), resumeRunId: options.resumeRunId },
    items,
    // How many items each benchmark gave of how many it holds, known once the items are read: with a
    // limit, every report labels the run's figures "N of M items" from it.
    settingsAfterCheck: () => (settings.limit === undefined ? {} : { population }),
    emptySource: (count) => (count > 0 || options.allowEmpty ? undefined : `no items to judge in ${settings.benchmarks.map((name) => (settings.data[name] === undefined ? name : `${name} (${[settings.data[name]].flat().join(", ")})`)).join("; ")}: pass --allow-empty to run anyway`),
    scored: (planned) => {
      templateFor(planned, judging.template);
      return scoredItem(planned.item);
    },
    skipped: () => skipped,
    plan: async () => {
      for (const note of format.notes) options.onNote?.(note);
      return buildItemPlan({ engine, format, options: judging });
    },
    retryErrors: options.retryEngineErrors,
    signal: options.signal,
    progress: options.progress,
    correct: (planned, final) => (planned.item.kind === "rating" ? undefined : final.verdict === planned.item.label),
    onRun: options.onRun,
  });
  // What the engine could not do as asked and what the format fell back to, kept with the run for reports.
  // A fleet's figures per server (sessions, tokens, cache reuse, errors, failovers) are kept with the run too.
  const servers = engine.servers?.();
  const fleet = servers && servers.length > 1 ? { servers } : {};
  // A shard keeps where its items stand in the whole run, for `j1 runs merge`.
  const shard = dealt ? { shard: dealt.record() } : {};
  if (!result.interrupted) store.setRunStatus(result.runId, "done", { warnings: engine.warnings ?? [], notes: format.notes, engine: engine.describe(), ...fleet, ...shard });
  return { ...result, ...fleet };
}
