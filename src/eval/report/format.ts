import type { UniformMetrics } from "../types.js";
/**
 * Number formatting shared by every renderer, so markdown, HTML and the terminal never disagree on what a
 * figure is: scores and rates are points in [0, 100] printed with 2 decimals; a missing figure is "—".
 */
export const MISSING = "—";

/** A score or rate in points, 2 decimals ("85.00"). */
export function points(value: number | undefined | null): string {
  return value === undefined || value === null || !Number.isFinite(value) ? MISSING : value.toFixed(2);
}

/** A signed change in points ("+1.25", "-0.50"). */
export function signedPoints(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return MISSING;
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}

/** A signed relative change given as a fraction (0.052 → "+5.2%"); "n/a" when undefined (from a zero base). */
export function signedPercent(fraction: number | undefined | null): string {
  if (fraction === undefined || fraction === null || !Number.isFinite(fraction)) return "n/a";
  const percent = fraction * 100;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}

/** A 95% interval in points ("[80.10, 89.50]"). */
export function interval(range: readonly [number, number] | undefined): string {
  return range === undefined ? MISSING : `[${points(range[0])}, ${points(range[1])}]`;
}

/** Token counts: whole tokens, thousands separated, since these are means over many judgments ("1,234"). */
export function tokens(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? MISSING : Math.round(value).toLocaleString("en-US");
}

/** A probability in [0, 1] ("0.973"). */
export function probability(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? MISSING : value.toFixed(3);
}

/** A sweep point's name as the CLI flag spells it ("waits=2"). */
export function settingLabel(setting: string, value: number): string {
  return `${setting}=${value}`;
}

/** The uniform figures as table columns, in the same order for every renderer. */
export const METRIC_HEADERS = ["Items", "Accuracy", "95% interval", "Position consistency", "Tie rate", "Error rate", "Parse failures", "ECE"] as const;

export function metricCells(metrics: UniformMetrics): string[] {
  return [
    String(metrics.items),
    points(metrics.accuracy),
    interval(metrics.interval95),
    points(metrics.positionConsistency),
    points(metrics.tieRate),
    points(metrics.errorRate),
    points(metrics.parseFailureRate),
    points(metrics.calibrationError),
  ];
}
