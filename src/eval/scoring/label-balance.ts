import type { OrderProtocol, ScoredItem } from "../types.js";

/** Above this share of one label, a benchmark judged as given says so (an always-A judge would score it). */
export const IMBALANCE_SHARE = 0.7;

/**
 * The warning for a benchmark judged in the order its file gives ("as-is") whose labels are mostly one
 * letter: a judge that always answers that letter scores the share, so the score says little about the
 * judge (EvalBiasBench's labels are all 1: an always-A judge scores 100). Undefined when the protocol
 * places responses itself (shuffle, both) or no label passes IMBALANCE_SHARE.
 */
export function labelImbalanceWarning(benchmark: string, protocol: OrderProtocol, items: readonly Pick<ScoredItem, "label" | "kind">[]): string | undefined {
  if (protocol !== "as-is") return undefined;
  const counts = new Map<string, number>();
  let pairs = 0;
  for (const item of items) {
    if (item.kind !== undefined && item.kind !== "pair") continue;
    pairs++;
    counts.set(item.label, (counts.get(item.label) ?? 0) + 1);
  }
  if (pairs === 0) return undefined;
  const [label, count] = [...counts].sort((x, y) => y[1] - x[1])[0];
  if (count / pairs <= IMBALANCE_SHARE) return undefined;
  const percent = ((100 * count) / pairs).toFixed(1);
  const fix = benchmark === "pairs" ? "use --order shuffle (the default) or --order both" : "judge with --swap";
  return `${benchmark}: ${percent}% of the ${pairs} labels are ${label} and the pairs are judged as given: a judge that always answers ${label} scores ${percent}; ${fix}`;
}
