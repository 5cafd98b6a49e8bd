import { byCategory, mean, meanOf, verdictCredit, type JudgedItem } from "./credit.js";
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

/** Plain accuracy, the official rule of the benchmarks that have no structure beyond a pair. */
export function accuracyRule(options: AccuracyRuleOptions): OfficialRule {
  const credit = ({ item, decision }: JudgedItem) => verdictCredit(decision.verdict, item.label, options.undecided);
  const accuracy = (judged: readonly JudgedItem[]) => 100 * meanOf(judged, credit);
  const rule: OfficialRule = (judged) => {
    if (options.average === "items") return { score: accuracy(judged), parts: {} };
    const parts: Record<string, number> = {};
    for (const [category, members] of byCategory(judged)) parts[category] = accuracy(members);
    return { score: mean(Object.values(parts)), parts };
  };
  rule.summed = itemCreditSums(credit, options.average);
  return rule;
}
