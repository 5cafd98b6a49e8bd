import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";

/**
 * Counts what node-llama-cpp puts in each batch of an engine's context (its private native context, read
 * here for the figure only): decodeBatch calls, the sequences and tokens in them. `take()` returns the
 * counts since the last take and starts again.
 */
export function batchFill(engine: LlamaCppEngine): { take: () => { batches: number; sequences: number; tokens: number } } {
  const native = (engine as unknown as { context: { _ctx: Record<string, (...a: unknown[]) => unknown> } }).context._ctx;
  let batches = 0;
  let sequences = 0;
  let tokens = 0;
  const seen = new Set<number>();
  const add = native.addToBatch.bind(native);
  const decode = native.decodeBatch.bind(native);
  // The native methods are read-only on the prototype: shadow them on the instance.
  Object.defineProperty(native, "addToBatch", {
    value: (...a: unknown[]) => {
      seen.add(a[0] as number);
      tokens += (a[2] as Uint32Array).length;
      return add(...a);
    },
  });
  Object.defineProperty(native, "decodeBatch", {
    value: (...a: unknown[]) => {
      batches++;
      sequences += seen.size;
      seen.clear();
      return decode(...a);
    },
  });
  return {
    take: () => {
      const out = { batches, sequences, tokens };
      batches = sequences = tokens = 0;
      return out;
    },
  };
}
