import { J1Error } from "../../core/errors.js";
import type { BenchmarkScore, CategoryScore, ScoredItem } from "../types.js";
import { byCategory, decisionFor, type Decisions } from "./credit.js";
import type { SummedRule } from "./bootstrap.js";
import { uniformMetrics } from "./uniform.js";

export interface OfficialResult {
  /** In [0, 100]. */
  score: number;
  parts: Record<string, number>;
}

/**
 * A benchmark's official scoring rule over any set of its items. It must accept any subset (one
 * category, a bootstrap resample), so the same rule gives the total, the per-category scores and the
 * interval.
 */
export type OfficialRule = ((items: readonly ScoredItem[], decisions: Decisions) => OfficialResult) & {
  /**
   * The rule as sums over resampling units (bootstrap.ts, SummedRule): the bootstrap draws units and adds
   * their numbers instead of scoring each of its 1,000 resamples by the rule; the same draws and the same
   * arithmetic, so exactly the same interval, in time linear in the units.
   */
  summed?: (decisions: Decisions) => SummedRule;
};

/**
 * Assembles a BenchmarkScore: the official score and parts, each category scored by the same rule, and
 * the uniform figures (with the bootstrap interval of the official score).
 */
export function scoreBenchmark(
  benchmark: string,
  rule: OfficialRule,
  items: readonly ScoredItem[],
  decisions: Decisions,
  options: { skipped?: number; seed?: number; resamples?: number } = {},
): BenchmarkScore {
  if (items.length === 0) throw new J1Error("bad-input", `${benchmark}: no items to score`);
  for (const item of items) decisionFor(decisions, item); // fail before any work if one is missing
  const official = rule(items, decisions);
  const categories: CategoryScore[] = [...byCategory(items)].map(([category, members]) => ({
    category,
    items: members.length,
    score: rule(members, decisions).score,
  }));
  return {
    benchmark,
    score: official.score,
    parts: official.parts,
    categories,
    metrics: uniformMetrics(items, decisions, (sample) => rule(sample, decisions).score, { seed: options.seed, resamples: options.resamples, summed: rule.summed?.(decisions) }),
    skipped: options.skipped ?? 0,
  };
}
