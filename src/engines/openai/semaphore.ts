import { watchAbort } from "../../core/abort-watch.js";
import { J1Error } from "../../core/errors.js";

/**
 * At most `limit` holders at once; the rest wait in arrival order. The HTTP engine takes a permit per
 * request (not per session), so many sessions can be open while the server sees a bounded load, and a
 * request waiting out a retry backoff does not hold a permit.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(private limitValue: number) {
    checkLimit(limitValue);
  }

  get limit(): number {
    return this.limitValue;
  }

  /** Changes the bound (a server's slots become known after its first answers); a raised bound admits waiters. */
  resize(limit: number): void {
    checkLimit(limit);
    this.limitValue = limit;
    while (this.held < this.limitValue && this.waiting.length > 0) {
      this.held++;
      (this.waiting.shift() as { grant: () => void }).grant();
    }
  }

  get inUse(): number {
    return this.held;
  }

  /** Resolves with a release function once a permit is free; a cancelled wait leaves the queue. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new J1Error("cancelled", "cancelled while waiting for a free request slot", { cause: signal.reason }));
    if (this.held < this.limitValue) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      // Every waiter of one signal (a judgment's samples waiting for a seat) shares one listener on it.
      let stopWatching = (): void => undefined;
      const waiter = {
        grant: () => {
          stopWatching();
          resolve(this.releaser());
        },
      };
      this.waiting.push(waiter);
      stopWatching = watchAbort(signal, () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new J1Error("cancelled", "cancelled while waiting for a free request slot", { cause: signal?.reason }));
      });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The permit passes straight to the next waiter (`held` stays the same), unless the bound was lowered.
      const next = this.held <= this.limitValue ? this.waiting.shift() : undefined;
      if (next) next.grant();
      else this.held--;
    };
  }
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new J1Error("bad-input", `concurrency must be a whole number >= 1, got ${limit}`);
}
