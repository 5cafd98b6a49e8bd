import type { Benchmark, BenchmarkItem, LoadOptions, ScoredItem } from "./types.js";

/**
 * Items of one benchmark as a run sees them: ids namespaced by benchmark (a run may hold several, the
 * paper preset four), and a limit that never cuts a group in half (RewardMATH's 9 pairs of a problem,
 * RM-Bench's 3x3 matrix of a prompt are scored together).
 */
export async function* runItems(benchmark: Benchmark, options: LoadOptions, limit?: number): AsyncGenerator<BenchmarkItem> {
  let count = 0;
  let lastGroup: string | undefined;
  for await (const item of benchmark.load(options)) {
    const reachedLimit = limit !== undefined && count >= limit;
    if (reachedLimit && (item.group === undefined || item.group !== lastGroup)) return;
    count++;
    lastGroup = item.group;
    yield { ...item, id: `${benchmark.name}:${item.id}`, group: item.group === undefined ? undefined : `${benchmark.name}:${item.group}` };
  }
}

/**
 * What the store keeps of an item for scoring. The kind is kept (a pair's is left out, as the store reads
 * none as a pair): without it a rated answer is scored as a pair and a rotation as a lone four-way choice.
 */
export function scoredItem(item: BenchmarkItem): ScoredItem {
  const scored: ScoredItem = { id: item.id, category: item.category, label: item.label, group: item.group, meta: item.meta };
  if (item.kind !== undefined && item.kind !== "pair") scored.kind = item.kind;
  return scored;
}

/** The benchmark a namespaced item id belongs to. */
export function benchmarkOf(itemId: string): string {
  const colon = itemId.indexOf(":");
  return colon < 0 ? itemId : itemId.slice(0, colon);
}
