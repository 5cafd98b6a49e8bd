import { J1Error } from "../../core/errors.js";
import type { BenchmarkScore, CategoryScore, ScoredItem } from "../types.js";
import { byCategory, decisionFor, type Decisions } from "./credit.js";
import type { AdditiveScore } from "./bootstrap.js";
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
   * Where the rule is a mean of per-item credits (over items, or of per-category means), the bootstrap
   * resamples those credits as numbers instead of scoring each resample's items by the rule: the same
   * draws and the same sums, so the same interval, at a fraction of the cost (bootstrap.ts).
   */
  additive?: (decisions: Decisions) => AdditiveScore;
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
    metrics: uniformMetrics(items, decisions, (sample) => rule(sample, decisions).score, { seed: options.seed, resamples: options.resamples, additive: rule.additive?.(decisions) }),
    skipped: options.skipped ?? 0,
  };
}
