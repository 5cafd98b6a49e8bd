/**
 * How many "abort" listeners one AbortSignal carried at most while the spy was installed, over every
 * signal of the process. Node warns at 11 (MaxListenersExceededWarning), but undici raises a signal's limit
 * to 1500 once it is given to fetch, so the warning alone hides a signal with a listener per request: the
 * count is the honest measure of "one listener per request, not per piece".
 */
import { getEventListeners } from "node:events";

export interface AbortListenerSpy {
  /** The most "abort" listeners any one signal had at once. */
  peak(): number;
  restore(): void;
}

export function spyAbortListeners(): AbortListenerSpy {
  const proto = AbortSignal.prototype as unknown as { addEventListener: EventTarget["addEventListener"] };
  const had = Object.prototype.hasOwnProperty.call(proto, "addEventListener");
  const previous = proto.addEventListener;
  let peak = 0;
  proto.addEventListener = function (this: AbortSignal, type: string, ...rest: unknown[]) {
    (previous as (...args: unknown[]) => void).call(this, type, ...rest);
    if (type === "abort") peak = Math.max(peak, getEventListeners(this, "abort").length);
  } as EventTarget["addEventListener"];
  return {
    peak: () => peak,
    restore: () => {
      if (had) proto.addEventListener = previous;
      else delete (proto as { addEventListener?: unknown }).addEventListener;
    },
  };
}

/** Collects the process's warnings by name while installed (MaxListenersExceededWarning among them). */
export function collectWarnings(): { names(): string[]; restore(): void } {
  const names: string[] = [];
  const onWarning = (warning: Error) => names.push(warning.name);
  process.on("warning", onWarning);
  return { names: () => [...names], restore: () => process.off("warning", onWarning) };
}
