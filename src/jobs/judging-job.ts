import { J1Error, errorMessage } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import type { ScoredItem } from "../eval/types.js";
import type { RunConfig, RunRecord, RunStore, StoredDecision } from "../store/types.js";
import { itemPointKey } from "../store/types.js";
import { SessionBudget } from "./session-budget.js";

/**
 * The one judging job under `j1 eval`, `j1 data sft` and `j1 judge --input` (docs/architecture.md,
 * "The judging job"): items are read and checked in full first (bad data stops the job before a model
 * loads or a run is recorded), then streamed again and judged by as many concurrent items as the engine
 * has free sequences; each item's judgments are committed to the run store the moment they are done, so a
 * killed job loses nothing finished, and a judgment whose key is already in the store (this run or any
 * other) is reused rather than computed again. Resume, `--retry-errors`, cancellation and progress live
 * here once; what differs between the commands (what an item is, how it is judged, what happens with the
 * result) comes in through `JobPlan` and `onItem`.
 */

/** How one item is judged, made once the items are checked and the engine is loaded. */
export interface JobPlan<T> {
  /** The points every item is judged at: "final", a sweep's "waits=2", …, or "sft". */
  readonly points: readonly string[];
  /** The judgment key of each point for this item (same order as `points`). */
  keys(item: T): string[];
  /** Judges the item at every point (one pass where the sweep allows), in the item's own labelling. */
  judge(item: T, signal?: AbortSignal): Promise<Judgment[]>;
  /** Engine sequences one item's judgment holds at once (orders × samples). */
  sessionsPerItem(item: T): number;
  /** The engine's parallel sequences: how many sessions may run at once. */
  readonly parallelSessions: number;
  /** Released when the job ends (the engine, when the plan loaded it). */
  dispose?(): Promise<void>;
}

export interface JobProgress {
  setTotal(total: number): void;
  /** `cached`: the item was done before or reused, not judged now (it does not count toward the rate). */
  tick(update: { tokens?: number; correct?: boolean; cached?: boolean }): void;
}

export type ItemOutcome = "judged" | "reused" | "done";

export interface JobItemEvent<T> {
  item: T;
  /** The item's position in the source. */
  index: number;
  /** One per point; for an item done before, read back only when `readDone` is set (else empty). */
  judgments: Judgment[];
  outcome: ItemOutcome;
}

export interface JobOptions<T> {
  store: RunStore;
  /** A new run, or the id of one to continue (its kind must be `run.kind`). */
  run: RunConfig & { resumeRunId?: string };
  /** Every item, streamed; called twice (checked, then judged), so it must give the same items in order. */
  items: () => AsyncIterable<T>;
  /** Settings known only once the items are read (an eval run's population), stored with a new run's. */
  settingsAfterCheck?: () => object;
  /** What the store keeps of an item for scoring (no texts). */
  scored: (item: T) => ScoredItem;
  /** Rows the source skipped as malformed while it was read the first time (--skip-bad). */
  skipped?: () => number;
  /** Called once the items are checked and the run is recorded: loads the engine, builds the judges. */
  plan: () => Promise<JobPlan<T>>;
  /** Judge again the items whose saved judgment recorded an engine error (a resumed run after an outage). */
  retryErrors?: boolean;
  /** Also read back the judgments of items done before, for `onItem` (data sft builds its examples from them). */
  readDone?: boolean;
  signal?: AbortSignal;
  progress?: JobProgress;
  /** Whether an item's final judgment is right, for the progress line (eval knows the label). */
  correct?: (item: T, final: Judgment) => boolean | undefined;
  /** Every item as it is finished (in completion order; `index` gives the source order). */
  onItem?: (event: JobItemEvent<T>) => void | Promise<void>;
  /** Called when the run is recorded (new or resumed), before any judging. */
  onRun?: (run: RunRecord) => void;
  /**
   * One rule for empty data everywhere (eval, judge --input, data sft, j1 serve's runs): after the check,
   * the reason an empty source is refused, or undefined to go on (`--allow-empty`, or items there). A
   * refusal is bad input, thrown before any run is recorded.
   */
  emptySource?: (checkedItems: number) => string | undefined;
}

export interface JobResult {
  runId: string;
  items: number;
  skipped: number;
  /** Items judged by the engine in this process. */
  judged: number;
  /** Items whose judgments were all found by key (computed before, by this run or another). */
  reused: number;
  /** Items this run had already finished before it was resumed. */
  alreadyDone: number;
  interrupted: boolean;
}

/** A saved judgment with any run that failed in the engine (one order of a pair included): --retry-errors judges it again. */
function failedInEngine(decision: StoredDecision): boolean {
  return decision.status === "engine-error" || (decision.engineErrors ?? 0) > 0;
}

/** Checks that a run being resumed is one this command made; the message says which command to use. */
export function checkRunKind(run: RunRecord, expected: RunConfig["kind"]): void {
  const kind = expected ?? "eval";
  if (run.kind === kind) return;
  const command = run.kind === "data-sft" ? "j1 data sft --resume" : run.kind === "judge" ? "j1 judge --input … --resume" : "j1 eval --resume";
  throw new J1Error("bad-input", `run ${run.id} is a ${run.kind} run, not a ${kind} run: continue it with ${command} ${run.id}`, { context: { run: run.id, field: "--resume" } });
}

export async function runJudgingJob<T>(options: JobOptions<T>): Promise<JobResult> {
  const { store } = options;
  // Pass one: every item read and checked before anything is recorded or loaded.
  const checked: ScoredItem[] = [];
  for await (const item of options.items()) checked.push(options.scored(item));
  const skipped = options.skipped?.() ?? 0;
  const empty = options.emptySource?.(checked.length);
  if (empty !== undefined) throw new J1Error("bad-input", empty, { context: { field: "--allow-empty" } });
  let run: RunRecord;
  if (options.run.resumeRunId !== undefined) {
    run = store.getRun(options.run.resumeRunId);
    checkRunKind(run, options.run.kind);
  } else {
    const settings = { ...options.run.settings, ...options.settingsAfterCheck?.() };
    run = store.createRun({ kind: options.run.kind ?? "eval", benchmark: options.run.benchmark, label: options.run.label, settings });
  }
  store.setRunItems(run.id, checked, skipped);
  options.onRun?.(run);
  const counts = { judged: 0, reused: 0, alreadyDone: 0 };
  const result = (interrupted: boolean): JobResult => ({ runId: run.id, items: checked.length, skipped, ...counts, interrupted });

  let plan: JobPlan<T>;
  try {
    plan = await options.plan();
  } catch (error) {
    store.setRunStatus(run.id, "failed", { error: errorMessage(error) });
    throw error;
  }
  try {
    store.setRunStatus(run.id, "running");
    options.progress?.setTotal(checked.length);
    const done = store.doneItemPoints(run.id);
    if (options.retryErrors) {
      for (const point of plan.points) {
        for (const [itemId, decision] of store.decisions(run.id, point)) if (failedInEngine(decision)) done.delete(itemPointKey(itemId, point));
      }
    }

    const finishItem = async (item: T, index: number): Promise<void> => {
      const itemId = options.scored(item).id;
      const keys = plan.keys(item);
      if (plan.points.every((point) => done.has(itemPointKey(itemId, point)))) {
        counts.alreadyDone++;
        const judgments = options.readDone ? plan.points.map((point) => store.judgment(run.id, itemId, point) as Judgment) : [];
        await options.onItem?.({ item, index, judgments, outcome: "done" });
        // The running accuracy covers every item done, as the count does (a resumed run showed the accuracy
        // of the items judged since the restart: 0.0 where the run stood at 2.2).
        const final = options.correct && options.progress ? (judgments.at(-1) ?? store.judgment(run.id, itemId, plan.points[plan.points.length - 1])) : undefined;
        options.progress?.tick({ cached: true, correct: final === undefined ? undefined : options.correct?.(item, final) });
        return;
      }
      const stored = keys.map((key) => {
        const judgment = store.findJudgmentByKey(key);
        return options.retryErrors && judgment !== undefined && judgment.runs.some((judgmentRun) => judgmentRun.status === "engine-error") ? undefined : judgment;
      });
      let judgments: Judgment[];
      let outcome: ItemOutcome;
      if (stored.every((judgment) => judgment !== undefined)) {
        judgments = stored as Judgment[];
        outcome = "reused";
      } else {
        judgments = await plan.judge(item, options.signal);
        outcome = "judged";
      }
      if (judgments.length !== plan.points.length) throw new Error(`item "${itemId}": ${judgments.length} judgments for ${plan.points.length} points`);
      plan.points.forEach((point, at) => {
        store.saveJudgment({ runId: run.id, itemId, point, key: keys[at], judgment: judgments[at], replaceEngineError: options.retryErrors });
      });
      counts[outcome]++;
      await options.onItem?.({ item, index, judgments, outcome });
      const final = judgments[judgments.length - 1];
      const tokens = outcome === "judged" ? judgments.reduce((sum, judgment) => sum + judgment.usage.evaluatedTokens, 0) : 0;
      options.progress?.tick({ tokens, correct: options.correct?.(item, final), cached: outcome !== "judged" });
    };

    await pump(options.items(), plan, finishItem, options.signal);
    const interrupted = options.signal?.aborted ?? false;
    if (interrupted) store.setRunStatus(run.id, "interrupted");
    return result(interrupted);
  } catch (error) {
    const cancelled = options.signal?.aborted || (error instanceof J1Error && error.code === "cancelled");
    store.setRunStatus(run.id, cancelled ? "interrupted" : "failed", { error: errorMessage(error) });
    if (cancelled) return result(true);
    throw error;
  } finally {
    await plan.dispose?.();
  }
}

/**
 * Pulls items in source order and starts each as soon as the engine has sequences for it (a pair judged
 * in both orders with 4 samples holds 8), so a run of one-order items and both-order items keeps every
 * sequence busy. Stops pulling on cancellation or the first failure, and waits for what is in flight, so
 * nothing is left writing to the store after the job returns.
 */
async function pump<T>(items: AsyncIterable<T>, plan: JobPlan<T>, finishItem: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const budget = new SessionBudget(Math.max(1, plan.parallelSessions));
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let index = 0;
  for await (const item of items) {
    if (signal?.aborted || failure) break;
    const weight = plan.sessionsPerItem(item);
    await budget.acquire(weight);
    if (signal?.aborted || failure) {
      budget.release(weight);
      break;
    }
    const task = finishItem(item, index++)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        budget.release(weight);
        inFlight.delete(task);
      });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
}
