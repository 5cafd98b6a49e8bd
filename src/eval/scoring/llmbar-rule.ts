import type { Verdict } from "../../core/judgment.js";
import type { ItemDecision, ScoredItem } from "../types.js";
import { byCategory, decisionFor, mean, type Decisions } from "./credit.js";
import type { OfficialResult, OfficialRule } from "./official-rule.js";
import { itemCreditSums } from "./summed-rules.js";

function right(verdict: Verdict | null | undefined, label: string): number {
  return verdict !== undefined && verdict !== null && verdict === label ? 1 : 0;
}

/**
 * One item's credit under LLMBar's evaluate.py: each order judged is right (1) when its winner, mapped
 * back to the item's labelling, is the label, else 0 (no verdict or a tie included); the item's credit is
 * the mean over its orders. With both orders this averages the "swap = False" and "swap = True"
 * accuracies, the official `correct_average`. A decision without per-order verdicts is its final verdict.
 */
export function llmBarCredit(decision: ItemDecision, label: string): number {
  const { AB, BA } = decision.orders;
  const judged = [AB, BA].filter((verdict) => verdict !== undefined);
  if (judged.length === 0) return right(decision.verdict, label);
  return mean(judged.map((verdict) => right(verdict, label)));
}

/** Accuracy of one order alone (undefined where no item was judged in it), in points. */
function orderAccuracy(items: readonly ScoredItem[], decisions: Decisions, order: "AB" | "BA"): number | undefined {
  const credits = items.flatMap((item) => {
    const verdict = decisionFor(decisions, item).orders[order];
    return verdict === undefined ? [] : [right(verdict, item.label)];
  });
  return credits.length === 0 ? undefined : 100 * mean(credits);
}

/**
 * LLMBar's official score: per set (the item category), the mean of the accuracy with the outputs as
 * given and with them swapped (evaluate.py's correct_average, both orders judged); the total is the mean
 * of the set scores, as the paper averages its sets. Parts: each set's score; "as-given" and "swapped",
 * the one-order accuracies (mean over sets), so the as-given figure of earlier j1 versions stays visible.
 */
export const llmBarScore: OfficialRule = (items: readonly ScoredItem[], decisions: Decisions): OfficialResult => {
  const parts: Record<string, number> = {};
  const given: number[] = [];
  const swapped: number[] = [];
  for (const [set, members] of byCategory(items)) {
    parts[set] = 100 * mean(members.map((item) => llmBarCredit(decisionFor(decisions, item), item.label)));
    const ab = orderAccuracy(members, decisions, "AB");
    const ba = orderAccuracy(members, decisions, "BA");
    if (ab !== undefined) given.push(ab);
    if (ba !== undefined) swapped.push(ba);
  }
  const score = mean(Object.values(parts));
  if (given.length > 0) parts["as-given"] = mean(given);
  if (swapped.length > 0) parts.swapped = mean(swapped);
  return { score, parts };
};
llmBarScore.summed = (decisions) => itemCreditSums((item) => llmBarCredit(decisionFor(decisions, item), item.label), "categories");
