import type { Frontier, FrontierSeries, SweepPoint } from "./report-types.js";

/** The settings whose points stop thinking adaptively (their cost includes the probes they paid for). */
const ADAPTIVE = new Set(["confidence", "stable"]);

/** A point's cost on the frontier's x axis: thinking tokens plus the probe tokens it paid, per judgment. */
export function pointCost(point: SweepPoint): number {
  return point.meanThinkingTokens + (point.meanProbeTokens ?? 0);
}

/**
 * The compute–accuracy frontier of a run that swept a fixed setting (waits) and an adaptive one on the
 * same items: each setting's points as a series (score against cost), and what the adaptive policy saved:
 * the cheapest adaptive point that scores at least the best fixed score, against the cheapest fixed
 * point with that score. Undefined unless the run has an adaptive sweep.
 */
export function frontierOf(points: readonly SweepPoint[]): Frontier | undefined {
  if (!points.some((point) => ADAPTIVE.has(point.setting))) return undefined;
  const settings = [...new Set(points.map((point) => point.setting))];
  const series: FrontierSeries[] = settings.map((setting) => ({
    setting,
    adaptive: ADAPTIVE.has(setting),
    points: points
      .filter((point) => point.setting === setting)
      .sort((x, y) => x.value - y.value)
      .map((point) => ({ value: point.value, score: point.score.score, cost: pointCost(point), probeTokens: point.meanProbeTokens ?? 0 })),
  }));
  const fixed = series.filter((entry) => !entry.adaptive).flatMap((entry) => entry.points.map((point) => ({ ...point, setting: entry.setting })));
  const adaptive = series.filter((entry) => entry.adaptive).flatMap((entry) => entry.points.map((point) => ({ ...point, setting: entry.setting })));
  const frontier: Frontier = { series };
  if (fixed.length === 0) {
    frontier.sentence = "no fixed-waits sweep on the same items to compare with (add --sweep waits=...)";
    return frontier;
  }
  const bestScore = Math.max(...fixed.map((point) => point.score));
  const reference = fixed.filter((point) => point.score === bestScore).sort((x, y) => x.cost - y.cost)[0];
  const reaching = adaptive.filter((point) => point.score >= bestScore).sort((x, y) => x.cost - y.cost)[0];
  if (reaching === undefined) {
    const best = [...adaptive].sort((x, y) => y.score - x.score || x.cost - y.cost)[0];
    frontier.sentence = `no adaptive point reaches the best fixed score ${bestScore.toFixed(2)} (${reference.setting}=${reference.value}, ${reference.cost.toFixed(1)} tokens); the best adaptive is ${best.setting}=${best.value} at ${best.score.toFixed(2)} (${best.cost.toFixed(1)} tokens)`;
    return frontier;
  }
  const ratio = reference.cost > 0 ? reaching.cost / reference.cost : Number.NaN;
  frontier.saving = {
    reference: `${reference.setting}=${reference.value}`,
    referenceScore: reference.score,
    referenceCost: reference.cost,
    adaptive: `${reaching.setting}=${reaching.value}`,
    adaptiveScore: reaching.score,
    adaptiveCost: reaching.cost,
    ratio,
  };
  const difference = reference.cost - reaching.cost;
  const share = Number.isNaN(ratio) ? "" : `${(ratio * 100).toFixed(0)}% of the tokens, `;
  const outcome = difference >= 0 ? `${difference.toFixed(1)} saved per judgment` : `${(-difference).toFixed(1)} more per judgment: adaptive scaling does not pay here`;
  frontier.sentence = `${reaching.setting}=${reaching.value} scores ${reaching.score.toFixed(2)} with ${reaching.cost.toFixed(1)} tokens per judgment (probes included), against the best fixed ${reference.setting}=${reference.value}: ${reference.score.toFixed(2)} with ${reference.cost.toFixed(1)}; ${share}${outcome}`;
  return frontier;
}
