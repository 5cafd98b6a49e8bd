import type { ScalingTrend, SweepPoint } from "./report-types.js";

/**
 * How much a sweep bought. The gain is read from the ends of the swept setting (not from the best point),
 * because the question a sweep answers is "does spending more help", and cherry-picking the best point
 * would overstate it. The per-doubling slope uses mean thinking tokens rather than the setting itself:
 * "waits" and "max-thinking" are different knobs, but tokens spent are comparable across both.
 *
 * Returns undefined for fewer than 2 points (a single point has no trend). `relativeGain` is NaN when the
 * smallest point scored 0 (a relative change from zero is undefined; renderers show it as "n/a", JSON as
 * null). `slopePerDoubling` is undefined unless at least 2 distinct positive token counts exist.
 */
export function scalingTrend(points: readonly SweepPoint[]): ScalingTrend | undefined {
  if (points.length < 2) return undefined;
  const { smallest, largest } = sweepEnds(points);
  const gain = largest.score.score - smallest.score.score;
  const base = smallest.score.score;
  return {
    setting: smallest.setting,
    gain,
    relativeGain: base === 0 ? Number.NaN : gain / base,
    slopePerDoubling: slopePerDoubling(points),
  };
}

/**
 * The points at the smallest and largest setting value. With repeated values the first recorded point of
 * the smallest and the last of the largest are taken, so a re-run at the top setting wins.
 */
export function sweepEnds(points: readonly SweepPoint[]): { smallest: SweepPoint; largest: SweepPoint } {
  if (points.length === 0) throw new RangeError("sweepEnds needs at least one point");
  let smallest = points[0];
  let largest = points[0];
  for (const point of points) {
    if (point.value < smallest.value) smallest = point;
    if (point.value >= largest.value) largest = point;
  }
  return { smallest, largest };
}

/** Least-squares slope of official score against log2(mean thinking tokens): points per doubling. */
export function slopePerDoubling(points: readonly SweepPoint[]): number | undefined {
  const usable = points.filter((point) => point.meanThinkingTokens > 0 && Number.isFinite(point.meanThinkingTokens));
  return leastSquaresSlope(usable.map((point) => ({ x: Math.log2(point.meanThinkingTokens), y: point.score.score })));
}

/** Ordinary least-squares slope of y on x; undefined when fewer than 2 distinct x values make it exist. */
export function leastSquaresSlope(pairs: ReadonlyArray<{ x: number; y: number }>): number | undefined {
  if (new Set(pairs.map((pair) => pair.x)).size < 2) return undefined;
  const meanX = pairs.reduce((sum, pair) => sum + pair.x, 0) / pairs.length;
  const meanY = pairs.reduce((sum, pair) => sum + pair.y, 0) / pairs.length;
  let covariance = 0;
  let variance = 0;
  for (const { x, y } of pairs) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return covariance / variance;
}
