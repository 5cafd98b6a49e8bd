import { badInput } from "../errors.js";
import type { AdaptiveBounds } from "./adaptive.js";
import type { ScalingPolicy } from "./policy.js";
import { CONFIDENT_RULE } from "./confident.js";
import { STABLE_RULE } from "./stable.js";

/** An adaptive stopping rule as the user writes it (`--stop-when confident:0.9`) and settings store it. */
export interface StopRule {
  rule: string;
  value: number;
}

/** A kind of stopping rule: its name, its sweep setting, its value's check and its policy. */
export interface StopRuleKind {
  rule: string;
  /** The `--sweep` setting that sweeps its value ("confidence=0.7,0.9"). */
  sweepSetting: string;
  /** For --help. */
  describe: string;
  /** The rule reads P(verdict), so the engine must report probabilities. */
  needsProbabilities: boolean;
  /** Why a value is refused, or undefined. */
  check(value: number): string | undefined;
  policy(value: number, bounds: AdaptiveBounds, name?: string): ScalingPolicy;
}

/** The rules j1 has. Adding one is its file and one line here (docs/architecture.md, "How to add a scaling policy"). */
export const STOP_RULES: readonly StopRuleKind[] = [CONFIDENT_RULE, STABLE_RULE];

export function stopRuleKind(rule: string, field = "--stop-when"): StopRuleKind {
  const kind = STOP_RULES.find((entry) => entry.rule === rule || entry.sweepSetting === rule);
  if (kind === undefined) throw badInput(`unknown stopping rule "${rule}"; known: ${STOP_RULES.map((entry) => entry.rule).join(", ")}`, { field });
  return kind;
}

/** Parses `confident:0.9` or `stable:2`, refusing (naming the flag) what the rule does not accept. */
export function parseStopRule(text: string, field = "--stop-when"): StopRule {
  const match = /^\s*([a-z-]+)\s*:\s*(\S+)\s*$/.exec(text);
  if (!match) throw badInput(`"${text}" is not a stopping rule: write ${STOP_RULES.map((entry) => `${entry.rule}:VALUE`).join(" or ")} (e.g. confident:0.9, stable:2)`, { field });
  const kind = stopRuleKind(match[1], field);
  const value = Number(match[2]);
  if (!/^\d+(\.\d+)?$/.test(match[2]) || !Number.isFinite(value)) throw badInput(`"${match[2]}" is not a number for ${kind.rule}`, { field });
  const problem = kind.check(value);
  if (problem) throw badInput(`${kind.rule}:${match[2]}: ${problem}`, { field });
  return { rule: kind.rule, value };
}
