import type { BatchItem, CustomBatchingPrioritizationStrategy, LlamaContext, PrioritizedBatchItem } from "node-llama-cpp";

/**
 * How long a batch waits for a sequence of the last batch that has not queued its next token yet: passes
 * of node-llama-cpp's decode loop, each a few microseconds of promise jobs (3 were needed when measured).
 */
const MAX_WAIT_PASSES = 32;

/**
 * Decode batches that llama.cpp runs as one pass over the weights (docs/engine-facts.md, "Batch order").
 *
 * node-llama-cpp 3.21.1 creates every context with one KV stream per sequence (kv_unified off), and
 * llama.cpp then cuts a batch into ubatches with `split_equal(n_ubatch, sequential = true)`: a ubatch only
 * takes sequences whose ids rise by one, in the order the batch lists them, so 3,4,0,1,2 runs as two graph
 * computes (3-4, then 0-2), each a full pass over the weights. node-llama-cpp lists a batch in the order its
 * decodes were queued, which follows which session took which sequence and which sampled first; over a run
 * that order scrambles, and 15 one-token decodes measured 7 to 8 passes instead of 1. So the items go in
 * sequence id order, each with node-llama-cpp's share of the batch's tokens.
 *
 * And node-llama-cpp starts its next batch as soon as the last one's tokens are sampled, a few promise jobs
 * before the sequence sampled last has queued its next token: that sequence missed every batch, which split
 * the id run in two (two passes) and left two sequences at half speed. So while a sequence of the last batch
 * is missing, the batch waits (an empty batch: the loop runs again after its promise jobs), for at most
 * MAX_WAIT_PASSES; a sequence that has finished, or waits on anything but promise jobs, costs that once.
 *
 * The strategy interface does not say which sequence an item is for. The items are built from the context's
 * queue in its order, so the ids are read from there (private in 3.21.1); when that queue is not what it was,
 * the batch keeps its order and does not wait.
 */
export function sequenceOrderStrategy(context: () => LlamaContext | undefined): CustomBatchingPrioritizationStrategy {
  let lastBatch: number[] = [];
  let waited = 0;
  return ({ items, size }) => {
    const ids = queuedSequenceIds(context(), items.length);
    if (ids && waited < MAX_WAIT_PASSES && lastBatch.some((id) => !ids.includes(id))) {
      waited++;
      return [];
    }
    waited = 0;
    lastBatch = ids ?? [];
    const amounts = evenShares(items, size);
    const order = items.map((_, index) => index);
    if (ids) order.sort((a, b) => ids[a] - ids[b]);
    const prioritized: PrioritizedBatchItem[] = [];
    for (const index of order) if (amounts[index] > 0) prioritized.push({ item: items[index], processAmount: amounts[index] });
    return prioritized;
  };
}

/**
 * Tokens per item within `size`: an even split, and what the short items leave split again among the rest
 * (node-llama-cpp's "maximumParallelism" in effect, which its package exports do not reach; j1 gives
 * every evaluation the same priority).
 */
function evenShares(items: readonly BatchItem[], size: number): number[] {
  const amounts = items.map(() => 0);
  let left = size;
  let open = items.map((_, index) => index).filter((index) => items[index].tokens.length > 0);
  while (left > 0 && open.length > 0) {
    const share = Math.max(1, Math.floor(left / open.length));
    for (const index of open) {
      const add = Math.min(share, items[index].tokens.length - amounts[index], left);
      amounts[index] += add;
      left -= add;
    }
    open = open.filter((index) => amounts[index] < items[index].tokens.length);
  }
  return amounts;
}

/** The sequence id of each queued decode, in the order node-llama-cpp built the items from; undefined if unknown. */
function queuedSequenceIds(context: LlamaContext | undefined, count: number): number[] | undefined {
  const queue = (context as unknown as { _queuedDecodes?: unknown } | undefined)?._queuedDecodes;
  if (!Array.isArray(queue) || queue.length !== count) return undefined;
  const ids = queue.map((decode) => (decode as { sequenceId?: unknown } | null)?.sequenceId);
  return ids.every((id): id is number => typeof id === "number") ? ids : undefined;
}
