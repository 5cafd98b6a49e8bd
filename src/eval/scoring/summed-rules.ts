import type { SummedRule, SummedStratum } from "./bootstrap.js";
import { mean, type JudgedItem } from "./credit.js";

/**
 * The summed form (bootstrap.ts, SummedRule) of a rule that is 100 x the mean of per-item credits, over
 * all items or as the mean of the categories' means. Credits must be quarters, halves or whole numbers (a
 * unit's credits are summed before it is drawn, which is exact only for those).
 */
export function itemCreditSums(credit: (entry: JudgedItem) => number, average: "items" | "categories"): SummedRule {
  return {
    terms: 2,
    unit: (members) => {
      let sum = 0;
      for (const entry of members) sum += credit(entry);
      return [sum, members.length];
    },
    score: average === "items" ? (strata) => 100 * overallMean(strata) : meanOfCategoryMeans,
  };
}

/** The mean credit over every item of the resample: its strata's sums over their counts. */
export function overallMean(strata: readonly SummedStratum[]): number {
  let sum = 0;
  let count = 0;
  for (const stratum of strata) {
    sum += stratum.sums[0];
    count += stratum.sums[1];
  }
  return sum / count;
}

/**
 * The rules' "mean of per-category accuracies": built as they build it, a parts object in category order
 * and the mean of Object.values (which puts integer-like keys first: the same order, so the same sum).
 */
function meanOfCategoryMeans(strata: readonly SummedStratum[]): number {
  const parts: Record<string, number> = {};
  for (const stratum of strata) parts[stratum.category] = 100 * (stratum.sums[0] / stratum.sums[1]);
  return mean(Object.values(parts));
}

/**
 * Whether a unit is what a grouping rule scores as one: a whole group (no "#", which a bootstrap copy's
 * "<group>#k" could meet), or a single item without a group (see SummedRule.distinctUngrouped).
 */
export function groupUnit(members: readonly JudgedItem[]): boolean {
  const group = members[0].item.group;
  if (group === undefined) return members.length === 1;
  return !group.includes("#") && members.every((entry) => entry.item.group === group);
}
