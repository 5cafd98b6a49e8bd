import type { LlamaContextSequence } from "node-llama-cpp";
import { watchAbort } from "../../core/abort-watch.js";

/**
 * The sequences of one context, lent out one per session. Sessions beyond the pool wait their turn, so K
 * samples or many items run as parallel sequences that llama.cpp batches together.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: Array<(sequence: LlamaContextSequence) => void> = [];

  constructor(sequences: LlamaContextSequence[]) {
    this.free = [...sequences];
  }

  /**
   * Takes a free sequence, preferring the one `affinity` rates highest (the longest shared prompt prefix,
   * so a cached prefix is reused rather than evaluated again).
   */
  acquire(signal?: AbortSignal, affinity?: (sequence: LlamaContextSequence) => number): Promise<LlamaContextSequence> {
    if (this.free.length > 0) {
      let best = this.free.length - 1;
      if (affinity) {
        let bestScore = -1;
        this.free.forEach((candidate, index) => {
          const score = affinity(candidate);
          if (score > bestScore) [best, bestScore] = [index, score];
        });
      }
      return Promise.resolve(this.free.splice(best, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      // The sessions waiting under one signal (a run's items, a judgment's samples) share one listener on it.
      let stopWatching = (): void => undefined;
      const waiter = (next: LlamaContextSequence) => {
        stopWatching();
        resolve(next);
      };
      this.waiting.push(waiter);
      stopWatching = watchAbort(signal, () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason ?? new Error("aborted"));
      });
    });
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(sequence);
    else this.free.push(sequence);
  }
}
