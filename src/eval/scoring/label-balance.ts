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
  const tally = new LabelTally();
  for (const item of items) tally.add(item);
  return tally.warning(benchmark, protocol);
}

/** The pairs' label counts, kept as items stream by (a dry run keeps no items: its memory stays flat). */
export class LabelTally {
  private readonly counts = new Map<string, number>();
  private pairs = 0;

  add(item: Pick<ScoredItem, "label" | "kind">): void {
    if (item.kind !== undefined && item.kind !== "pair") return;
    this.pairs++;
    this.counts.set(item.label, (this.counts.get(item.label) ?? 0) + 1);
  }

  /** See labelImbalanceWarning. */
  warning(benchmark: string, protocol: OrderProtocol): string | undefined {
    if (protocol !== "as-is" || this.pairs === 0) return undefined;
    const pairs = this.pairs;
    const [label, count] = [...this.counts].sort((x, y) => y[1] - x[1])[0];
    if (count / pairs <= IMBALANCE_SHARE) return undefined;
    const percent = ((100 * count) / pairs).toFixed(1);
    const fix = benchmark === "pairs" ? "use --order shuffle (the default) or --order both" : "judge with --swap";
    return `${benchmark}: ${percent}% of the ${pairs} labels are ${label} and the pairs are judged as given: a judge that always answers ${label} scores ${percent}; ${fix}`;
  }
}
