import { J1Error } from "../core/errors.js";
import { getBenchmark } from "./benchmarks/registry.js";
import { warningText, type EngineWarning } from "../engines/engine-warnings.js";
import { effectiveProtocol, type EvalSettings } from "./eval-settings.js";
import { labelImbalanceWarning } from "./scoring/label-balance.js";
import { benchmarkOf, identicalPairsWarning, populationText } from "./item-stream.js";
import type { BenchmarkReport, RunReport, SweepPoint, TrajectorySummary, WorstItem } from "./report-types.js";
import { scalingTrend } from "./scaling-trend.js";
import { frontierOf } from "./frontier.js";
import { FINAL_POINT, parsePointName, sweepList } from "./sweep.js";
import { trajectoryOf, type Trajectory } from "./trajectory.js";
import { orderOutcomes, orderStatusOf } from "./scoring/order-status.js";
import type { RunStore, StoredDecision } from "../store/types.js";
import type { ScoredItem } from "./types.js";

/** How many wrong or failed items, per benchmark, a report shows with their traces. */
const WORST_PER_BENCHMARK = 5;

/**
 * A run's report, computed from the store alone (never from memory of the run), so a resumed run and an
 * uninterrupted one give the same report: same items, same judgments, same scoring, same bootstrap seed.
 */
export interface RunReportOptions {
  /**
   * Score an unfinished run on the items judged at every point so far, each benchmark labelled "N of M items
   * judged so far" (without it, an item not yet judged is an error: an official score needs every item).
   */
  soFar?: boolean;
}

export function buildRunReport(store: RunStore, runId: string, options: RunReportOptions = {}): RunReport {
  const run = store.getRun(runId);
  // Item ids of a judge or data-sft run are the file's own, not "benchmark:id": no benchmark scores them.
  if (run.kind !== "eval") {
    throw new J1Error("bad-input", `run ${run.id} is a ${run.kind === "judge" ? "j1 judge --input" : `j1 ${run.kind.replace("-", " ")}`} run: it holds judgments, not benchmark scores; list them with j1 runs show ${run.id} or j1 runs export ${run.id}`, { context: { run: run.id } });
  }
  const settings = run.settings as unknown as EvalSettings;
  const items = store.runItems(run.id);
  const points = store.points(run.id);
  // Each benchmark's items by their positions in the run's list, which index the decisions.
  const byBenchmark = new Map<string, number[]>();
  items.forEach((item, position) => {
    const name = benchmarkOf(item.id);
    let positions = byBenchmark.get(name);
    if (!positions) byBenchmark.set(name, (positions = []));
    positions.push(position);
  });
  const benchmarks: BenchmarkReport[] = [];
  const worst: WorstItem[] = [];
  const errors: Record<string, number> = {};
  const failedOrders: Record<string, number> = {};
  let total = 0;
  let orderJudgments = 0;
  let engineErrorsInOtherItems = 0;
  const mainPoint = points.includes(FINAL_POINT) ? FINAL_POINT : largestPoint(points);
  // Runs that read the verdict on the way (a trajectory, an adaptive rule or sweep) get trajectories.
  const probing = Boolean(settings.scaling?.probeEveryEnd || settings.scaling?.stopWhen || sweepList(settings.sweep).some((sweep) => sweep.setting === "confidence" || sweep.setting === "stable"));
  // Each point's decisions aligned with the run's items (decisions[k] is items[k]'s).
  const decisionsAt = new Map(points.map((point) => [point, store.itemDecisions(run.id, point, items)]));
  const imbalance: string[] = [];
  const notJudgedYet: string[] = [];
  for (const [name, allPositions] of byBenchmark) {
    const benchmark = getBenchmark(name);
    // An item is judged so far when every point has its decision; a run with no judgment yet has no points
    // (they are read from the judgments), and none of its items is judged, though `every` of none is true.
    const positions = options.soFar ? allPositions.filter((position) => points.length > 0 && points.every((point) => decisionsAt.get(point)?.[position] !== undefined)) : allPositions;
    if (positions.length === 0) {
      if (options.soFar && allPositions.length > 0) notJudgedYet.push(`${name} ${populationText({ items: 0, of: allPositions.length })}`);
      continue;
    }
    const benchItems = positions.length === items.length ? items : positions.map((position) => items[position]);
    const warning = labelImbalanceWarning(name, effectiveProtocol(settings, benchmark), benchItems);
    if (warning !== undefined) imbalance.push(warning);
    const identical = identicalPairsWarning(name, benchItems);
    if (identical !== undefined) imbalance.push(identical);
    const scoreAt = (point: string) => {
      const all = decisionsAt.get(point);
      // Aligned with benchItems; an item without a decision stays undefined, which the scorer refuses.
      const decisions = positions.map((position) => {
        const decision = all?.[position];
        return decision === undefined ? undefined : withOrderStatus(store, run.id, point, decision);
      });
      const score = benchmark.score(benchItems, decisions, { skipped: run.skipped ?? 0, seed: settings.seed ?? 0 });
      // Scored: every item has its decision.
      return { decisions: decisions as StoredDecision[], score };
    };
    const main = scoreAt(mainPoint);
    for (const decision of main.decisions) {
      total++;
      if (decision.status !== "ok") errors[decision.status] = (errors[decision.status] ?? 0) + 1;
      for (const outcome of orderOutcomes(decision)) {
        orderJudgments++;
        if (outcome.status !== "ok") failedOrders[outcome.status] = (failedOrders[outcome.status] ?? 0) + 1;
        if (outcome.status === "engine-error" && decision.status !== "engine-error") engineErrorsInOtherItems++;
      }
    }
    const report: BenchmarkReport = { benchmark: name, score: main.score };
    const partial = partialOf(settings, name, benchItems.length);
    if (partial) report.partial = partial;
    if (benchItems.length < allPositions.length) {
      report.partial = { items: benchItems.length, of: allPositions.length, mode: "so-far", text: `${populationText({ items: benchItems.length, of: allPositions.length })} judged so far` };
    }
    const sweepPoints = points.map(parsePointName).filter((point) => point !== undefined);
    if (sweepPoints.length > 0) {
      const all = sweepPoints.map(({ setting, value }): SweepPoint => {
        const at = scoreAt(`${setting}=${value}`);
        const decisions = at.decisions;
        const mean = (pick: (decision: StoredDecision) => number) => (decisions.length ? decisions.reduce((sum, decision) => sum + pick(decision), 0) / decisions.length : 0);
        const point: SweepPoint = { setting, value, score: at.score, meanThinkingTokens: mean((decision) => decision.thinkingTokens), meanEvaluatedTokens: mean((decision) => decision.evaluatedTokens) };
        const probes = mean((decision) => decision.probeTokens ?? 0);
        if (probes > 0 || setting === "confidence" || setting === "stable") point.meanProbeTokens = probes;
        return point;
      });
      // The sweep (and its trend) is one setting: waits when swept, else the first; the frontier shows them all.
      const primary = all.some((point) => point.setting === "waits") ? "waits" : all[0].setting;
      report.sweep = all.filter((point) => point.setting === primary);
      report.trend = scalingTrend(report.sweep);
      const frontier = frontierOf(all);
      if (frontier) report.frontier = frontier;
    }
    if (probing) {
      const trajectories = trajectorySummary(store, run.id, mainPoint, benchItems);
      if (trajectories) report.trajectories = trajectories;
    }
    benchmarks.push(report);
    worst.push(...worstOf(store, run.id, mainPoint, name, benchItems, main.decisions));
  }
  const overall = benchmarks.length > 1 ? benchmarks.reduce((sum, bench) => sum + bench.score.score, 0) / benchmarks.length : undefined;
  const partial = partialRunText(benchmarks);
  if (partial !== undefined) imbalance.unshift(`partial run, not official figures: ${benchmarks.filter((bench) => bench.partial).map((bench) => `${bench.benchmark} ${bench.partial?.text}`).join(", ")} (${chosenBy(benchmarks, settings, run.id)})`);
  if (notJudgedYet.length > 0) imbalance.unshift(`nothing judged yet: ${notJudgedYet.join(", ")} (an unfinished run: j1 eval --resume ${run.id} continues it)`);
  return {
    runId: run.id,
    label: run.label,
    createdAt: run.createdAt,
    config: run.settings,
    benchmarks,
    overall,
    ...(partial === undefined ? {} : { partial }),
    worst,
    judgments: { total, errors, orders: orderJudgments, failedOrders, engineErrorsInOtherItems },
    warnings: withExtra(runWarnings(run.summary), imbalance),
  };
}

/** How a partial run's items were chosen: those judged so far of an unfinished run, a --limit's, or both. */
function chosenBy(benchmarks: readonly BenchmarkReport[], settings: EvalSettings, runId: string): string {
  const modes = new Set(benchmarks.map((bench) => bench.partial?.mode).filter((mode) => mode !== undefined));
  const ways: string[] = [];
  if (modes.has("first") || modes.has("sample")) ways.push(`${modes.has("first") ? "the first rows" : "a stratified seeded sample"}, --limit ${settings.limit}`);
  if (modes.has("so-far")) ways.push(`an unfinished run: j1 eval --resume ${runId} continues it`);
  return ways.join("; ");
}

/** What part of a benchmark a --limit run judged; undefined when it judged all of it. */
function partialOf(settings: EvalSettings, benchmark: string, items: number): BenchmarkReport["partial"] {
  if (settings.limit === undefined) return undefined;
  const mode = settings.limitMode ?? "first";
  const population = Object.hasOwn(settings.population ?? {}, benchmark) ? settings.population?.[benchmark] : undefined;
  // A run stored before the population was recorded: the data's size is unknown, the limit says it was cut.
  if (population === undefined) return items >= settings.limit ? { items, mode, text: `${items.toLocaleString("en-US")} items (--limit ${settings.limit})` } : undefined;
  if (population.items >= population.of) return undefined;
  return { items, of: population.of, mode, text: populationText({ items, of: population.of }) };
}

/** The run's partial label: the items judged of the items its benchmarks hold, summed over them. */
function partialRunText(benchmarks: readonly BenchmarkReport[]): string | undefined {
  if (!benchmarks.some((bench) => bench.partial)) return undefined;
  const items = benchmarks.reduce((sum, bench) => sum + (bench.partial?.items ?? bench.score.metrics.items), 0);
  const known = benchmarks.every((bench) => bench.partial === undefined || bench.partial.of !== undefined);
  if (!known) return `${items.toLocaleString("en-US")} items (--limit)`;
  const of = benchmarks.reduce((sum, bench) => sum + (bench.partial?.of ?? bench.score.metrics.items), 0);
  return populationText({ items, of });
}

/**
 * A decision with the outcome of each order, read from the judgment's runs, where an order has no
 * verdict: the stored decision says only that it has none, not whether the engine failed or the answer was
 * unreadable. Only such decisions cost a read of the judgment body.
 */
function withOrderStatus(store: RunStore, runId: string, point: string, decision: StoredDecision): StoredDecision {
  if (decision.orderStatus !== undefined) return decision;
  const failed = Object.values(decision.orders).some((verdict) => verdict === null);
  if (!failed) return decision;
  const judgment = store.judgment(runId, decision.itemId, point);
  return judgment === undefined ? decision : { ...decision, orderStatus: orderStatusOf(judgment) };
}

/** How many moved trajectories a report lists (turned ones first); the counts cover every item. */
const TRAJECTORIES_LISTED = 20;

/** Reads each item's judgment at the main point for its trajectory (only in runs that probed). */
function trajectorySummary(store: RunStore, runId: string, point: string, items: readonly ScoredItem[]): TrajectorySummary | undefined {
  const all: Trajectory[] = [];
  for (const item of items) {
    const judgment = store.judgment(runId, item.id, point);
    const trajectory = judgment && trajectoryOf(item.id, item.label, judgment);
    if (trajectory) all.push(trajectory);
  }
  if (all.length === 0) return undefined;
  const moved = all.filter((trajectory) => trajectory.moved);
  const rank = (trajectory: Trajectory) => (trajectory.turn === "right" ? 0 : trajectory.turn === "wrong" ? 1 : 2);
  return {
    probed: all.length,
    moved: moved.length,
    turnedRight: all.filter((trajectory) => trajectory.turn === "right").length,
    turnedWrong: all.filter((trajectory) => trajectory.turn === "wrong").length,
    items: [...moved].sort((x, y) => rank(x) - rank(y)).slice(0, TRAJECTORIES_LISTED),
  };
}

function withExtra(lines: string[] | undefined, extra: string[]): string[] | undefined {
  return extra.length === 0 ? lines : [...(lines ?? []), ...extra];
}

function largestPoint(points: string[]): string {
  const parsed = points.map((point) => ({ point, parsed: parsePointName(point) })).filter((entry) => entry.parsed);
  parsed.sort((x, y) => (x.parsed?.value ?? 0) - (y.parsed?.value ?? 0));
  return parsed.length ? parsed[parsed.length - 1].point : FINAL_POINT;
}

/** The most confident wrong verdicts and the failures, with their traces. */
function worstOf(store: RunStore, runId: string, point: string, benchmark: string, items: readonly ScoredItem[], decisions: readonly StoredDecision[]): WorstItem[] {
  type Entry = { item: ScoredItem; decision: StoredDecision };
  const order = (x: Entry, y: Entry) => (y.decision.confidence ?? -1) - (x.decision.confidence ?? -1) || x.item.id.localeCompare(y.item.id);
  // The first few of a stable sort of the wrong items, kept as they come instead of sorting all of them
  // (tens of thousands in a 100k run): a new one goes after every kept one it does not precede, as a
  // stable sort puts it.
  const wrong: Entry[] = [];
  items.forEach((item, index) => {
    const decision = decisions[index];
    if (decision.verdict === item.label) return;
    const entry = { item, decision };
    if (wrong.length === WORST_PER_BENCHMARK && order(wrong[wrong.length - 1], entry) <= 0) return;
    let at = wrong.length;
    while (at > 0 && order(wrong[at - 1], entry) > 0) at--;
    wrong.splice(at, 0, entry);
    if (wrong.length > WORST_PER_BENCHMARK) wrong.pop();
  });
  return wrong.map(({ item, decision }) => {
    const judgment = store.judgment(runId, item.id, point);
    // Each pass with the order it was shown in and its verdict in both labellings (a BA pass's [[A]] is the item's B).
    const passes = (judgment?.runs ?? []).map((pass) => ({ order: pass.order, sample: pass.sample, rawVerdict: pass.rawVerdict, verdict: pass.verdict, status: pass.status, trace: pass.trace }));
    return {
      benchmark,
      itemId: item.id,
      category: item.category,
      label: item.label,
      verdict: decision.verdict,
      status: decision.status,
      confidence: decision.confidence,
      trace: judgment?.trace ?? [],
      passes,
    };
  });
}

/** The run summary's engine warnings and format notes as lines (absent for runs recorded before them). */
function runWarnings(summary: unknown): string[] | undefined {
  if (typeof summary !== "object" || summary === null) return undefined;
  const { warnings, notes } = summary as { warnings?: unknown; notes?: unknown };
  const lines: string[] = [];
  if (Array.isArray(warnings)) for (const warning of warnings as EngineWarning[]) lines.push(warningText(warning));
  if (Array.isArray(notes)) for (const note of notes) lines.push(String(note));
  return lines.length > 0 ? lines : undefined;
}
