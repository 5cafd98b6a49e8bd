import { watchAbort } from "../core/abort-watch.js";
import { J1Error } from "../core/errors.js";

/**
 * The one retry loop of j1 (docs/architecture.md, "Errors and retries"): engines describe each failure as a
 * J1Error that says whether retrying could help, and this helper decides when to try again. Only errors
 * marked `isRetryable` are retried (429, 5xx, timeouts, connection resets); a 400, 401 or 404 will not
 * get better by asking again, so it is thrown at once.
 */
export interface RetryOptions {
  /** Retries after the first attempt (so at most maxRetries + 1 attempts). Default 4. */
  maxRetries?: number;
  /** Delay before the first retry; it doubles (backoffFactor) with each further one. Default 500 ms. */
  initialDelayMs?: number;
  backoffFactor?: number;
  /** No computed delay exceeds this. Default 20 s. */
  maxDelayMs?: number;
  /** A server's Retry-After is honoured up to this long; beyond it the computed backoff is used. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Cancels the waits between attempts (and is the caller's to pass to each attempt). */
  signal?: AbortSignal;
  /** Told before each wait: which attempt failed, the error, and how long the wait will be. */
  onRetry?: (event: { attempt: number; error: J1Error; delayMs: number }) => void;
  /** Source of jitter, replaceable in tests. */
  random?: () => number;
  /**
   * What makes two failures "the same" (an HTTP status and body, say). A retryable failure whose key
   * equals the previous attempt's is taken as deterministic (a server that answers a request with the
   * same 500 twice will answer it so a third time) and is thrown at once, not retried further.
   */
  failureKey?: (error: J1Error) => string | undefined;
}

export const DEFAULT_MAX_RETRIES = 4;

/**
 * Runs `operation` until it succeeds, a non-retryable error occurs, or the retries are used up. Waits
 * grow exponentially with jitter (half fixed, half random, so many clients that failed together do not
 * come back together), except where the error carries the server's own `retryAfterMs`.
 */
export async function retryWithExponentialBackoff<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxRetries = Math.max(0, options.maxRetries ?? DEFAULT_MAX_RETRIES);
  const initialDelayMs = options.initialDelayMs ?? 500;
  const factor = options.backoffFactor ?? 2;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const random = options.random ?? Math.random;
  let previousKey: string | undefined;
  for (let attempt = 1; ; attempt++) {
    throwIfCancelled(options.signal);
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof J1Error) || !error.isRetryable) throw error;
      if (options.signal?.aborted) throw cancelledError(options.signal);
      const key = options.failureKey?.(error);
      if (key !== undefined && key === previousKey) {
        throw new J1Error(error.code, `${error.message} (the same answer ${attempt} times in a row: a deterministic failure, not retried further)`, {
          context: { ...error.context, attempts: attempt, deterministic: true },
          retryable: false,
          cause: error,
        });
      }
      previousKey = key;
      if (attempt > maxRetries) {
        throw new J1Error(error.code, `${error.message} (gave up after ${attempt} attempts)`, {
          context: { ...error.context, attempts: attempt },
          retryable: true,
          cause: error,
        });
      }
      const backoff = Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1));
      const jittered = backoff / 2 + (random() * backoff) / 2;
      const retryAfter = error.context.retryAfterMs;
      const delayMs = typeof retryAfter === "number" && retryAfter >= 0 && retryAfter <= maxRetryAfterMs ? retryAfter : jittered;
      options.onRetry?.({ attempt, error, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Reads an HTTP Retry-After header (seconds, or an HTTP date) as milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function cancelledError(signal: AbortSignal): J1Error {
  return new J1Error("cancelled", "cancelled while waiting to retry", { cause: signal.reason });
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError(signal);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError(signal));
      return;
    }
    // Requests backing off together under one signal share one listener on it.
    const timer = setTimeout(() => {
      stopWatching();
      resolve();
    }, ms);
    const stopWatching = watchAbort(signal, () => {
      clearTimeout(timer);
      reject(cancelledError(signal as AbortSignal));
    });
  });
}
