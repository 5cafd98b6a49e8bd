import { J1Error } from "../../core/errors.js";
import type { BenchmarkScore, CategoryScore, ItemDecisions, ScoredItem } from "../types.js";
import { byCategory, judgedItems, type JudgedItem } from "./credit.js";
import type { SummedRule } from "./bootstrap.js";
import { uniformMetrics } from "./uniform.js";

export interface OfficialResult {
  /** In [0, 100]. */
  score: number;
  parts: Record<string, number>;
}

/**
 * A benchmark's official scoring rule over any set of its items, each beside its decision. It must accept
 * any subset (one category, a bootstrap resample), so the same rule gives the total, the per-category
 * scores and the interval.
 */
export type OfficialRule = ((judged: readonly JudgedItem[]) => OfficialResult) & {
  /**
   * The rule as sums over resampling units (bootstrap.ts, SummedRule): the bootstrap draws units and adds
   * their numbers instead of scoring each of its 1,000 resamples by the rule; the same draws and the same
   * arithmetic, so exactly the same interval, in time linear in the units.
   */
  summed?: SummedRule;
};

/**
 * Assembles a BenchmarkScore: the official score and parts, each category scored by the same rule, and
 * the uniform figures (with the bootstrap interval of the official score).
 */
export function scoreBenchmark(
  benchmark: string,
  rule: OfficialRule,
  items: readonly ScoredItem[],
  decisions: ItemDecisions,
  options: { skipped?: number; seed?: number; resamples?: number } = {},
): BenchmarkScore {
  return scoreJudged(benchmark, rule, judgedItems(items, decisions), options);
}

/** scoreBenchmark of items already beside their decisions. */
export function scoreJudged(benchmark: string, rule: OfficialRule, judged: readonly JudgedItem[], options: { skipped?: number; seed?: number; resamples?: number } = {}): BenchmarkScore {
  if (judged.length === 0) throw new J1Error("bad-input", `${benchmark}: no items to score`);
  const official = rule(judged);
  const categories: CategoryScore[] = [...byCategory(judged)].map(([category, members]) => ({
    category,
    items: members.length,
    score: rule(members).score,
  }));
  return {
    benchmark,
    score: official.score,
    parts: official.parts,
    categories,
    metrics: uniformMetrics(judged, (sample) => rule(sample).score, { seed: options.seed, resamples: options.resamples, summed: rule.summed }),
    skipped: options.skipped ?? 0,
  };
}
