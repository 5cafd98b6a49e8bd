/**
 * Many waiters, one "abort" listener. A judgment's signal is shared by everything it starts: its samples'
 * sessions waiting for a sequence or a fleet seat, its requests waiting for a free request slot or out a
 * retry backoff, a batch's lines. A listener each passed Node's limit of 10 on one signal
 * (MaxListenersExceededWarning; 128 waiters for `samples: 64` with both orders), and a listener left on a
 * long-lived signal (a run's) is kept until the run ends. Here every watcher of a signal shares one
 * listener, added by the first and removed with the last, so a signal carries one listener however many
 * wait on it.
 */

type Watchers = { callbacks: Set<() => void>; dispatch: () => void };

const watched = new WeakMap<AbortSignal, Watchers>();

const nothing = (): void => undefined;

/**
 * Calls `callback` once when `signal` aborts (at once if it already has); returns the function that stops
 * watching (call it when the wait ends another way: a waiter served must not stay subscribed). Callbacks
 * run in the order they were added and must not throw (they settle a promise).
 */
export function watchAbort(signal: AbortSignal | undefined, callback: () => void): () => void {
  if (signal === undefined) return nothing;
  if (signal.aborted) {
    callback();
    return nothing;
  }
  let watchers = watched.get(signal);
  if (watchers === undefined) {
    const created: Watchers = {
      callbacks: new Set(),
      dispatch: () => {
        watched.delete(signal);
        for (const each of [...created.callbacks]) each();
        created.callbacks.clear();
      },
    };
    watchers = created;
    watched.set(signal, created);
    signal.addEventListener("abort", created.dispatch, { once: true });
  }
  // A wrapper, so the same function watched twice is two watchers (and stopping one leaves the other).
  const entry = () => callback();
  const own = watchers;
  own.callbacks.add(entry);
  return () => {
    if (!own.callbacks.delete(entry) || own.callbacks.size > 0) return;
    if (watched.get(signal) === own) watched.delete(signal);
    signal.removeEventListener("abort", own.dispatch);
  };
}
