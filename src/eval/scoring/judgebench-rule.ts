import { flipVerdict, type Verdict } from "../../core/judgment.js";
import type { ItemDecision } from "../types.js";
import { byCategory, meanOf, type JudgedItem } from "./credit.js";
import type { OfficialRule } from "./official-rule.js";
import { itemCreditSums } from "./summed-rules.js";

/** +1 when a decision agrees with the label, -1 when it contradicts it, 0 for a tie or no verdict. */
function decisionPoints(verdict: Verdict | null | undefined, label: string): number {
  if (verdict === undefined || verdict === null) return 0;
  if (verdict === label) return 1;
  if (label !== "tie" && verdict === flipVerdict(label)) return -1;
  return 0;
}

/**
 * JudgeBench's rule for one pair judged in both orders: the points of the two decisions (each in the
 * pair's own labelling) are summed and the pair counts as correct only if the sum is positive. So A in
 * both orders (which contradicts itself once swapped back) sums to 0 and is wrong; one right decision and
 * one tie is right. With only one order recorded, that decision alone decides; with none, the final
 * verdict does.
 */
export function pairPoints(decision: ItemDecision, label: string): number {
  const { AB, BA } = decision.orders;
  if (AB === undefined && BA === undefined) return decisionPoints(decision.verdict, label);
  return decisionPoints(AB, label) + decisionPoints(BA, label);
}

export function pairCorrect(decision: ItemDecision, label: string): boolean {
  return pairPoints(decision, label) > 0;
}

const pairCredit = ({ item, decision }: JudgedItem): number => (pairCorrect(decision, item.label) ? 1 : 0);

function pairAccuracy(judged: readonly JudgedItem[]): number {
  return 100 * meanOf(judged, pairCredit);
}

/** JudgeBench's official score: the share of correct pairs over all pairs; parts per source class. */
export const judgeBenchScore: OfficialRule = (judged) => {
  const parts: Record<string, number> = {};
  for (const [category, members] of byCategory(judged)) parts[category] = pairAccuracy(members);
  return { score: pairAccuracy(judged), parts };
};
judgeBenchScore.summed = itemCreditSums(pairCredit, "items");
