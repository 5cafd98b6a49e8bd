import { badInput } from "../core/errors.js";

/**
 * A scaling sweep: one setting, several values. `waits` sweeps run in one pass per item (the trace with
 * k waits is a prefix of the trace with k+1); `max-thinking` sweeps run each cap separately.
 */
export type SweepSetting = "waits" | "max-thinking";

export interface Sweep {
  setting: SweepSetting;
  values: number[];
}

/** The store's point name for an unswept run. */
export const FINAL_POINT = "final";

export function pointName(setting: SweepSetting, value: number): string {
  return `${setting}=${value}`;
}

export function parsePointName(point: string): { setting: SweepSetting; value: number } | undefined {
  const match = /^(waits|max-thinking)=(\d+)$/.exec(point);
  return match ? { setting: match[1] as SweepSetting, value: Number(match[2]) } : undefined;
}

/** The largest value each setting may take (the --waits and --max-thinking ranges), and the most points. */
export const SWEEP_LIMITS: Readonly<Record<SweepSetting, { min: number; max: number }>> = {
  waits: { min: 0, max: 1000 },
  "max-thinking": { min: 1, max: 1_048_576 },
};
export const MAX_SWEEP_POINTS = 64;

/**
 * Parses `waits=0,1,2,4` or `max-thinking=256,512,1024`. Refused, naming --sweep: an empty spec or value
 * list, a value that is not written as plain digits ("1e3", "0x10", "2.0"), one outside the setting's
 * range, or more than MAX_SWEEP_POINTS distinct points.
 */
export function parseSweep(text: string): Sweep {
  const match = /^\s*(waits|max-thinking)\s*=(.*)$/.exec(text);
  if (!match) throw badInput(`"${text}" is not a sweep: write waits=0,1,2,4 or max-thinking=256,512,1024`, { field: "--sweep" });
  const setting = match[1] as SweepSetting;
  const { min, max } = SWEEP_LIMITS[setting];
  if (match[2].trim() === "") throw badInput(`"${text}" has no values: write ${setting}=${setting === "waits" ? "0,1,2,4" : "256,512,1024"}`, { field: "--sweep" });
  const values = match[2].split(",").map((raw) => {
    const part = raw.trim();
    const value = Number(part);
    if (!/^\d+$/.test(part) || value < min || value > max) throw badInput(`${setting} value "${part}" is not a whole number from ${min} to ${max}`, { field: "--sweep" });
    return value;
  });
  const unique = [...new Set(values)].sort((x, y) => x - y);
  if (unique.length > MAX_SWEEP_POINTS) throw badInput(`${unique.length} points is more than a sweep may have (${MAX_SWEEP_POINTS})`, { field: "--sweep" });
  return { setting, values: unique };
}
