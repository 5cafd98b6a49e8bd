import type { Verdict } from "../../core/judgment.js";
import type { ItemDecision } from "../types.js";
import { byCategory, mean, meanOf, type JudgedItem } from "./credit.js";
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
 * (The mean of the orders' credits summed in order, AB then BA, without a list of them.)
 */
export function llmBarCredit(decision: ItemDecision, label: string): number {
  const { AB, BA } = decision.orders;
  let sum = 0;
  let judged = 0;
  if (AB !== undefined) {
    sum += right(AB, label);
    judged++;
  }
  if (BA !== undefined) {
    sum += right(BA, label);
    judged++;
  }
  return judged === 0 ? right(decision.verdict, label) : sum / judged;
}

const itemCredit = ({ item, decision }: JudgedItem): number => llmBarCredit(decision, item.label);

/** Accuracy of one order alone (undefined where no item was judged in it), in points. */
function orderAccuracy(judged: readonly JudgedItem[], order: "AB" | "BA"): number | undefined {
  // The mean of the credits of the items judged in that order: summed in the items' order, over their count.
  let sum = 0;
  let count = 0;
  for (const { item, decision } of judged) {
    const verdict = decision.orders[order];
    if (verdict === undefined) continue;
    sum += right(verdict, item.label);
    count++;
  }
  return count === 0 ? undefined : 100 * (sum / count);
}

/**
 * LLMBar's official score: per set (the item category), the mean of the accuracy with the outputs as
 * given and with them swapped (evaluate.py's correct_average, both orders judged); the total is the mean
 * of the set scores, as the paper averages its sets. Parts: each set's score; "as-given" and "swapped",
 * the one-order accuracies (mean over sets), so the as-given figure of earlier j1 versions stays visible.
 */
export const llmBarScore: OfficialRule = (judged: readonly JudgedItem[]): OfficialResult => {
  const parts: Record<string, number> = {};
  const given: number[] = [];
  const swapped: number[] = [];
  for (const [set, members] of byCategory(judged)) {
    parts[set] = 100 * meanOf(members, itemCredit);
    const ab = orderAccuracy(members, "AB");
    const ba = orderAccuracy(members, "BA");
    if (ab !== undefined) given.push(ab);
    if (ba !== undefined) swapped.push(ba);
  }
  const score = mean(Object.values(parts));
  if (given.length > 0) parts["as-given"] = mean(given);
  if (swapped.length > 0) parts.swapped = mean(swapped);
  return { score, parts };
};
llmBarScore.summed = itemCreditSums(itemCredit, "categories");
