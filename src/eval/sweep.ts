import { badInput } from "../core/errors.js";

/**
 * A scaling sweep: one setting, several values. `waits` sweeps run in one pass per item (the trace with
 * k waits is a prefix of the trace with k+1); so do the adaptive rules' sweeps (`confidence` thresholds,
 * `stable` run lengths, each stopping within --waits waits), together with a waits sweep in the same run;
 * `max-thinking` sweeps run each cap separately, and alone.
 */
export type SweepSetting = "waits" | "max-thinking" | "confidence" | "stable";

/** The settings read in one pass (they share the cap). */
export const ONE_PASS_SETTINGS: readonly SweepSetting[] = ["waits", "confidence", "stable"];

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
  const match = /^(waits|max-thinking|confidence|stable)=(\d+(?:\.\d+)?)$/.exec(point);
  return match ? { setting: match[1] as SweepSetting, value: Number(match[2]) } : undefined;
}

/** The largest value each setting may take (the --waits and --max-thinking ranges), and the most points. */
export const SWEEP_LIMITS: Readonly<Record<SweepSetting, { min: number; max: number; fraction?: boolean }>> = {
  waits: { min: 0, max: 1000 },
  "max-thinking": { min: 1, max: 1_048_576 },
  confidence: { min: 0.01, max: 1, fraction: true },
  stable: { min: 1, max: 64 },
};

const EXAMPLE: Record<SweepSetting, string> = { waits: "0,1,2,4", "max-thinking": "256,512,1024", confidence: "0.6,0.7,0.8,0.9", stable: "1,2,3" };

/** A run's sweeps as a list (settings store one sweep as an object, several as an array). */
export function sweepList(sweep: Sweep | readonly Sweep[] | undefined): Sweep[] {
  if (sweep === undefined) return [];
  return Array.isArray(sweep) ? [...sweep] : [sweep as Sweep];
}

/**
 * Checks that sweeps can share a run: each setting once, and `max-thinking` alone (each cap is its own
 * pass); an adaptive sweep needs a most-waits bound (--waits, or the largest value of a waits sweep).
 */
export function checkSweeps(sweeps: readonly Sweep[], waits: number): void {
  const settings = sweeps.map((sweep) => sweep.setting);
  const repeated = settings.find((setting, index) => settings.indexOf(setting) !== index);
  if (repeated) throw badInput(`${repeated} is swept twice: give its values in one --sweep ${repeated}=...`, { field: "--sweep" });
  if (settings.includes("max-thinking") && settings.length > 1) throw badInput("max-thinking is swept cap by cap and cannot share a run with another sweep", { field: "--sweep" });
  const adaptive = sweeps.find((sweep) => sweep.setting === "confidence" || sweep.setting === "stable");
  if (adaptive && adaptiveMaxWaits(sweeps, waits) === 0) {
    throw badInput(`a ${adaptive.setting} sweep stops within a number of waits: give --waits N (the most), or sweep waits too`, { field: "--sweep" });
  }
}

/** The most waits an adaptive point may use: --waits when given, else the largest waits swept. */
export function adaptiveMaxWaits(sweeps: readonly Sweep[], waits: number): number {
  if (waits > 0) return waits;
  return Math.max(0, ...sweeps.filter((sweep) => sweep.setting === "waits").flatMap((sweep) => sweep.values));
}
export const MAX_SWEEP_POINTS = 64;

/**
 * Parses `waits=0,1,2,4` or `max-thinking=256,512,1024`. Refused, naming --sweep: an empty spec or value
 * list, a value that is not written as plain digits ("1e3", "0x10", "2.0"), one outside the setting's
 * range, or more than MAX_SWEEP_POINTS distinct points.
 */
export function parseSweep(text: string): Sweep {
  const match = /^\s*(waits|max-thinking|confidence|stable)\s*=(.*)$/.exec(text);
  if (!match) throw badInput(`"${text}" is not a sweep: write waits=0,1,2,4, confidence=0.7,0.9, stable=1,2 or max-thinking=256,512,1024`, { field: "--sweep" });
  const setting = match[1] as SweepSetting;
  const { min, max, fraction } = SWEEP_LIMITS[setting];
  if (match[2].trim() === "") throw badInput(`"${text}" has no values: write ${setting}=${EXAMPLE[setting]}`, { field: "--sweep" });
  const values = match[2].split(",").map((raw) => {
    const part = raw.trim();
    const value = Number(part);
    const written = fraction ? /^\d+(\.\d+)?$/.test(part) : /^\d+$/.test(part);
    if (!written || value < min || value > max) throw badInput(`${setting} value "${part}" is not ${fraction ? "a number" : "a whole number"} from ${min} to ${max}`, { field: "--sweep" });
    return value;
  });
  const unique = [...new Set(values)].sort((x, y) => x - y);
  if (unique.length > MAX_SWEEP_POINTS) throw badInput(`${unique.length} points is more than a sweep may have (${MAX_SWEEP_POINTS})`, { field: "--sweep" });
  return { setting, values: unique };
}
