import { J1Error } from "../../core/errors.js";
import type { Verdict } from "../../core/judgment.js";
import type { ItemDecision, ItemDecisions, ScoredItem } from "../types.js";

/**
 * An item beside its decision: what the official rules score. Each item's decision is found once, here,
 * and every rule, category and bootstrap resample reads it from the pair: a 100k-item report's rules
 * looked each item up by id about five times, a fifth of the report's time.
 */
export interface JudgedItem {
  readonly item: ScoredItem;
  readonly decision: ItemDecision;
}

/** Each item with its decision; a missing one is an error (a run that is not finished cannot be scored). */
export function judgedItems(items: readonly ScoredItem[], decisions: ItemDecisions): JudgedItem[] {
  const aligned = Array.isArray(decisions) ? (decisions as ReadonlyArray<ItemDecision | undefined>) : undefined;
  if (aligned !== undefined && aligned.length !== items.length) {
    throw new J1Error("bad-input", `${aligned.length} decisions for ${items.length} items: decisions in a list are the items', one per item, in their order`);
  }
  const byId = decisions as ReadonlyMap<string, ItemDecision>;
  const judged = new Array<JudgedItem>(items.length);
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const decision = aligned === undefined ? byId.get(item.id) : aligned[index];
    if (decision === undefined) throw new J1Error("bad-input", `no decision for item "${item.id}": every item must be judged before scoring (resume the run, or score the items judged so far with j1 report --so-far)`, { context: { item: item.id } });
    judged[index] = { item, decision };
  }
  return judged;
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

/**
 * mean(entries.map(value)) without the array of values: the same sum, in the same order, over the same
 * count (so the same number, bit for bit).
 */
export function meanOf<T>(entries: readonly T[], value: (entry: T) => number): number {
  if (entries.length === 0) return Number.NaN;
  let sum = 0;
  for (const entry of entries) sum += value(entry);
  return sum / entries.length;
}

/** Judged items by their item's category, in order of first appearance. */
export function byCategory(judged: readonly JudgedItem[]): Map<string, JudgedItem[]> {
  const groups = new Map<string, JudgedItem[]>();
  for (const entry of judged) {
    const category = entry.item.category;
    const list = groups.get(category);
    if (list) list.push(entry);
    else groups.set(category, [entry]);
  }
  return groups;
}
