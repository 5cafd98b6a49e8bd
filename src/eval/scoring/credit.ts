import { J1Error } from "../../core/errors.js";
import type { Verdict } from "../../core/judgment.js";
import type { ItemDecision, ScoredItem } from "../types.js";

export type Decisions = ReadonlyMap<string, ItemDecision>;

/** The decision for an item; a missing one is an error (a run that is not finished cannot be scored). */
export function decisionFor(decisions: Decisions, item: Pick<ScoredItem, "id">): ItemDecision {
  const decision = decisions.get(item.id);
  if (decision === undefined) throw new J1Error("bad-input", `no decision for item "${item.id}": every item must be judged before scoring (resume the run, or score the items judged so far with j1 report --so-far)`, { context: { item: item.id } });
  return decision;
}

/**
 * Credit of one verdict under a rule that gives `undecided` for no verdict or a tie (when the label is not
 * itself a tie): RewardBench and CodePrefBench give 0.5, strict rules give 0.
 */
export function verdictCredit(verdict: Verdict | null, label: string, undecided: number): number {
  if (verdict === label) return 1;
  if (verdict === null || verdict === "tie") return undecided;
  return 0;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Items by category, in order of first appearance. */
export function byCategory<T extends Pick<ScoredItem, "category">>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.category);
    if (list) list.push(item);
    else groups.set(item.category, [item]);
  }
  return groups;
}
