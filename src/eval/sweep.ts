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

/** Parses `waits=0,1,2,4` or `max-thinking=256,512,1024`. */
export function parseSweep(text: string): Sweep {
  const match = /^\s*(waits|max-thinking)\s*=\s*(.+)$/.exec(text);
  if (!match) throw badInput(`"${text}" is not a sweep: write waits=0,1,2,4 or max-thinking=256,512,1024`, { field: "--sweep" });
  const setting = match[1] as SweepSetting;
  const values = match[2].split(",").map((part) => {
    const value = Number(part.trim());
    const minimum = setting === "waits" ? 0 : 1;
    if (part.trim() === "" || !Number.isInteger(value) || value < minimum) throw badInput(`"${part.trim()}" is not a whole number >= ${minimum}`, { field: "--sweep" });
    return value;
  });
  const unique = [...new Set(values)].sort((x, y) => x - y);
  if (unique.length < 1) throw badInput("a sweep needs at least one value", { field: "--sweep" });
  return { setting, values: unique };
}
