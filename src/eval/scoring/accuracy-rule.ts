import type { ScoredItem } from "../types.js";
import { byCategory, decisionFor, mean, verdictCredit, type Decisions } from "./credit.js";
import type { OfficialRule } from "./official-rule.js";
import { itemCreditSums } from "./summed-rules.js";

export interface AccuracyRuleOptions {
  /**
   * Credit for no verdict or a tie: 0 for strict accuracy; 0.5 where the official scorer counts an
   * undecided judgment as half right (CodePrefBench: (correct + undecided/2) / total).
   */
  undecided: number;
  /**
   * "items": accuracy over all items; "categories": mean of per-category accuracies (CodePrefBench's
   * "Avg. score" over its four files, LLMBar's average over its sets).
   */
  average: "items" | "categories";
}

function creditedAccuracy(items: readonly ScoredItem[], decisions: Decisions, undecided: number): number {
  return 100 * mean(items.map((item) => verdictCredit(decisionFor(decisions, item).verdict, item.label, undecided)));
}

/** Plain accuracy, the official rule of the benchmarks that have no structure beyond a pair. */
export function accuracyRule(options: AccuracyRuleOptions): OfficialRule {
  const rule: OfficialRule = (items, decisions) => {
    if (options.average === "items") return { score: creditedAccuracy(items, decisions, options.undecided), parts: {} };
    const parts: Record<string, number> = {};
    for (const [category, members] of byCategory(items)) parts[category] = creditedAccuracy(members, decisions, options.undecided);
    return { score: mean(Object.values(parts)), parts };
  };
  rule.summed = (decisions) => itemCreditSums((item) => verdictCredit(decisionFor(decisions, item).verdict, item.label, options.undecided), options.average);
  return rule;
}
