import { mean, type JudgedItem } from "./credit.js";
import type { OfficialResult, OfficialRule } from "./official-rule.js";
import { groupUnit, overallMean } from "./summed-rules.js";

/** A problem's pairs (chosen solution vs each rejected one); an item without a group stands alone. */
function problems(judged: readonly JudgedItem[]): JudgedItem[][] {
  const groups = new Map<string, JudgedItem[]>();
  for (const entry of judged) {
    const key = entry.item.group ?? `item:${entry.item.id}`;
    const list = groups.get(key);
    if (list) list.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}

/**
 * RewardMATH's official rule: a problem is correct only if its chosen solution beats every rejected one
 * (1 against 9), so one lost pair loses the problem; a tie or no verdict is not a win (the official check
 * is strict: min(chosen) > max(rejected)). Score = share of correct problems. Parts: "mrr", the official
 * mean reciprocal rank of the chosen solution (ranked 1 + number of lost pairs), and "pairs", the share of
 * pairs won, both in points.
 */
export const rewardMathScore: OfficialRule = (judged: readonly JudgedItem[]): OfficialResult => {
  const solved: number[] = [];
  const reciprocalRanks: number[] = [];
  let pairsWon = 0;
  for (const pairs of problems(judged)) {
    const lost = lostPairs(pairs);
    pairsWon += pairs.length - lost;
    solved.push(lost === 0 ? 1 : 0);
    reciprocalRanks.push(1 / (1 + lost));
  }
  return {
    score: 100 * mean(solved),
    parts: { mrr: 100 * mean(reciprocalRanks), pairs: (100 * pairsWon) / judged.length },
  };
};
// Summed: a unit is one problem (its group), solved or not; the score is the share solved over all units.
rewardMathScore.summed = {
  terms: 2,
  unit: (pairs) => (groupUnit(pairs) ? [lostPairs(pairs) === 0 ? 1 : 0, 1] : undefined),
  score: (strata) => 100 * overallMean(strata),
  distinctUngrouped: true,
};

function lostPairs(pairs: readonly JudgedItem[]): number {
  let lost = 0;
  for (const { item, decision } of pairs) if (decision.verdict !== item.label) lost++;
  return lost;
}
