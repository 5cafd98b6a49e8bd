import { J1Error } from "../../core/errors.js";

/**
 * At most `limit` holders at once; the rest wait in arrival order. The HTTP engine takes a permit per
 * request (not per session), so many sessions can be open while the server sees a bounded load, and a
 * request waiting out a retry backoff does not hold a permit.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new J1Error("bad-input", `concurrency must be a whole number >= 1, got ${limit}`);
  }

  get inUse(): number {
    return this.held;
  }

  /** Resolves with a release function once a permit is free; a cancelled wait leaves the queue. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new J1Error("cancelled", "cancelled while waiting for a free request slot", { cause: signal.reason }));
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new J1Error("cancelled", "cancelled while waiting for a free request slot", { cause: signal?.reason }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The permit passes straight to the next waiter, so `held` stays the same.
      if (next) next.grant();
      else this.held--;
    };
  }
}
