import type { BenchmarkReport, RunReport, ScalingTrend, SweepPoint, WorstItem } from "../report-types.js";
import { scalingTrend, sweepEnds } from "../scaling-trend.js";
import { settingLabel, signedPercent, signedPoints } from "./format.js";

/**
 * What every renderer shows, computed once: the J1 paper's table (rows = runs, columns = benchmarks, then
 * Overall), the benchmarks in a stable order, trends and the worst items. Renderers only lay these out.
 */
export interface ScoreRow {
  runId: string;
  label: string;
  /** One per column of `ScoreTable.benchmarks`; undefined where the run did not score that benchmark. */
  scores: Array<number | undefined>;
  overall: number | undefined;
}

export interface ScoreTable {
  /** Column order: first appearance across the runs, so the table follows the order runs were given. */
  benchmarks: string[];
  /** The Overall column exists only when some run has more than one benchmark (else it repeats a column). */
  showOverall: boolean;
  rows: ScoreRow[];
}

/**
 * The paper's "overall": the plain mean of the run's official benchmark scores, only for more than one
 * benchmark. Recomputed from the scores rather than read from `RunReport.overall`, so the table's last
 * column is always the mean of the columns beside it.
 */
export function overallScore(run: RunReport): number | undefined {
  if (run.benchmarks.length < 2) return undefined;
  return run.benchmarks.reduce((sum, bench) => sum + bench.score.score, 0) / run.benchmarks.length;
}

export function benchmarkNames(reports: readonly RunReport[]): string[] {
  const names: string[] = [];
  for (const run of reports) for (const bench of run.benchmarks) if (!names.includes(bench.benchmark)) names.push(bench.benchmark);
  return names;
}

export function scoreTable(reports: readonly RunReport[]): ScoreTable {
  const benchmarks = benchmarkNames(reports);
  const rows = reports.map((run) => ({
    runId: run.runId,
    // A partial run's figures are not official: its row says so wherever the table is shown.
    label: run.partial === undefined ? run.label : `${run.label} (partial: ${run.partial})`,
    scores: benchmarks.map((name) => run.benchmarks.find((bench) => bench.benchmark === name)?.score.score),
    overall: overallScore(run),
  }));
  return { benchmarks, showOverall: reports.some((run) => run.benchmarks.length > 1), rows };
}

/** The runs that scored one benchmark, with the run's index (which fixes its colour in charts). */
export interface BenchmarkEntry {
  run: RunReport;
  runIndex: number;
  bench: BenchmarkReport;
}

export function benchmarkEntries(reports: readonly RunReport[], benchmark: string): BenchmarkEntry[] {
  const entries: BenchmarkEntry[] = [];
  reports.forEach((run, runIndex) => {
    const bench = run.benchmarks.find((candidate) => candidate.benchmark === benchmark);
    if (bench) entries.push({ run, runIndex, bench });
  });
  return entries;
}

/** Sweep points in setting order (runs record them in the order they finished, which may differ). */
export function sortedSweep(bench: BenchmarkReport): SweepPoint[] {
  return [...(bench.sweep ?? [])].sort((left, right) => left.value - right.value);
}

/** The recorded trend, else one computed from the sweep (older reports may lack it). */
export function trendOf(bench: BenchmarkReport): ScalingTrend | undefined {
  return bench.trend ?? scalingTrend(bench.sweep ?? []);
}

/**
 * The trend as one sentence: "+1.50 points from waits=0 to waits=8 (+2.0%), +0.50 points per doubling of
 * thinking tokens". Undefined without a trend.
 */
export function trendSentence(bench: BenchmarkReport): string | undefined {
  const trend = trendOf(bench);
  if (!trend) return undefined;
  const sweep = bench.sweep ?? [];
  const span =
    sweep.length > 0
      ? (() => {
          const { smallest, largest } = sweepEnds(sweep);
          return `from ${settingLabel(smallest.setting, smallest.value)} to ${settingLabel(largest.setting, largest.value)}`;
        })()
      : `across the ${trend.setting} sweep`;
  const slope =
    trend.slopePerDoubling === undefined
      ? "no per-doubling slope (thinking tokens did not vary)"
      : `${signedPoints(trend.slopePerDoubling)} points per doubling of thinking tokens`;
  return `${signedPoints(trend.gain)} points ${span} (${signedPercent(trend.relativeGain)}), ${slope}`;
}

/** Wrong means a verdict other than the label; errored means any status but "ok" (no verdict, vote tie, ...). */
export function isWrongOrErrored(item: WorstItem): boolean {
  return item.status !== "ok" || item.verdict !== item.label;
}

/**
 * A run's worst items on one benchmark: wrong or errored, most confident first (a confidently wrong judge
 * is the most instructive failure); items without a confidence come last, in recorded order.
 */
export function worstItems(run: RunReport, benchmark: string, limit = Number.POSITIVE_INFINITY): WorstItem[] {
  return run.worst
    .filter((item) => item.benchmark === benchmark && isWrongOrErrored(item))
    .map((item, index) => ({ item, index }))
    .sort((left, right) => (right.item.confidence ?? -1) - (left.item.confidence ?? -1) || left.index - right.index)
    .slice(0, limit)
    .map(({ item }) => item);
}
