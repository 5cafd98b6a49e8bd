/**
 * Chart axes: a domain, where its ticks go and how they read. A linear axis uses "nice" steps (1, 2, 5 x
 * 10^k); a log2 axis puts ticks on powers of two, since "per doubling of thinking" is the unit the scaling
 * trend is stated in.
 */
export type AxisScale = "linear" | "log2";

export interface Axis {
  scale: AxisScale;
  /** Domain in axis units (log2 of the value on a log2 axis). */
  min: number;
  max: number;
  /** Tick positions in axis units, and their labels in data units. */
  ticks: Array<{ at: number; label: string }>;
}

/** Maps a data value into axis units. */
export function toAxisUnits(scale: AxisScale, value: number): number {
  return scale === "log2" ? Math.log2(value) : value;
}

/** The smallest nice step (1, 2, 2.5 or 5 x 10^k) that gives at most `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * magnitude >= raw) return factor * magnitude;
  return 10 * magnitude;
}

/**
 * A linear axis over the values, widened to whole steps, optionally clamped (scores live in [0, 100]) and
 * padded by a fraction of its span beyond the outer ticks.
 */
export function linearAxis(values: readonly number[], options: { minSpan?: number; clamp?: [number, number]; tickCount?: number; pad?: number } = {}): Axis {
  let low = Math.min(...values);
  let high = Math.max(...values);
  // A flat series would give a zero-height domain; widen it so the line sits mid-chart.
  const minSpan = options.minSpan ?? 1;
  if (high - low < minSpan) {
    const middle = (low + high) / 2;
    low = middle - minSpan / 2;
    high = middle + minSpan / 2;
  }
  if (options.clamp) {
    const [floor, ceiling] = options.clamp;
    if (low < floor) [low, high] = [floor, Math.max(high, floor + minSpan)];
    if (high > ceiling) [low, high] = [Math.min(low, ceiling - minSpan), ceiling];
  }
  const step = niceStep(high - low, options.tickCount ?? 5);
  const min = Math.floor(low / step + 1e-9) * step;
  const max = Math.ceil(high / step - 1e-9) * step;
  const ticks: Axis["ticks"] = [];
  for (let at = min; at <= max + step / 1e6; at += step) ticks.push({ at: round(at), label: numberLabel(round(at)) });
  // Padding beyond the outer ticks keeps end points (waits=0, waits=8) off the frame and their labels inside.
  const pad = (options.pad ?? 0) * (max - min);
  return { scale: "linear", min: min - pad, max: max + pad, ticks };
}

/**
 * A log2 axis over positive values, padded by a quarter doubling each side so end points are not on the
 * frame. Ticks sit on powers of two, thinned to at most ~7; when the data spans less than two doublings,
 * nice linear values inside the range are used instead, so the axis never has fewer than two ticks.
 */
export function log2Axis(values: readonly number[]): Axis {
  const exponents = values.filter((value) => value > 0).map(Math.log2);
  let low = Math.min(...exponents);
  let high = Math.max(...exponents);
  if (high - low < 1) {
    const middle = (low + high) / 2;
    low = middle - 0.5;
    high = middle + 0.5;
  }
  const min = low - 0.25;
  const max = high + 0.25;
  const first = Math.ceil(min);
  const last = Math.floor(max);
  let ticks: Axis["ticks"] = [];
  if (last - first >= 1) {
    const every = Math.ceil((last - first + 1) / 7);
    for (let exponent = first; exponent <= last; exponent += every) ticks.push({ at: exponent, label: numberLabel(2 ** exponent) });
  } else {
    const step = niceStep(2 ** max - 2 ** min, 4);
    for (let value = Math.ceil(2 ** min / step) * step; value <= 2 ** max; value += step) {
      if (value > 0) ticks.push({ at: Math.log2(value), label: numberLabel(round(value)) });
    }
  }
  return { scale: "log2", min, max, ticks };
}

/** Tick text: integers with separators ("4,096"), ten thousands compact ("16.4k"), fractions trimmed ("0.5"). */
export function numberLabel(value: number): string {
  if (Math.abs(value) >= 10_000) return `${round(value / 1000, 1)}k`;
  return round(value, 2).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function round(value: number, digits = 6): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
