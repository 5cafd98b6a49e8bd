import { fixedWaits } from "./scaling/fixed-waits.js";
import type { ScalingPolicy } from "./scaling/policy.js";
import { STOP_RULES, stopRuleKind, type StopRule } from "./scaling/stop-rule.js";

/**
 * Simple test-time scaling as options: what a run stores, keys and validates. `policyOf` turns them into
 * the pure policy (core/scaling/) the thinking loop asks at each attempted end of thinking.
 */
export interface ScalingOptions {
  /** How many times an attempt to end thinking is suppressed and replaced by the wait text. */
  waits: number;
  /** Keep suppressing the end of thinking until this many thinking tokens were generated. */
  minThinkingTokens: number;
  /** The cap: at this many generated thinking tokens the end of thinking is forced. */
  maxThinkingTokens?: number;
  /** Injected in place of the end of thinking. */
  waitText: string;
  /** Tokens allowed for the answer after thinking. */
  answerTokens: number;
  /**
   * Guards minThinkingTokens against a model that tries to stop at once, forever: at most this many
   * suppressions beyond `waits`.
   */
  maxExtraWaits: number;
  /** An adaptive stopping rule (core/scaling/stop-rule.ts); `waits` is then its maximum. Undefined: fixed waits. */
  stopWhen?: StopRule;
  /** Read the verdict at every attempted end (the trajectory), paying for the probes. Undefined: off. */
  probeEveryEnd?: boolean;
}

export const DEFAULT_SCALING: ScalingOptions = {
  waits: 0,
  minThinkingTokens: 0,
  maxThinkingTokens: undefined,
  waitText: "Wait",
  answerTokens: 16,
  maxExtraWaits: 64,
};

/**
 * The thinking cap when none is given: a looping model must not think until the context is full. 4096
 * thinking tokens is past what J1-style judges use on these benchmarks; `--max-thinking` raises it.
 */
export const DEFAULT_THINKING_CAP = 4096;

/** Scaling as every face takes it from its user (CLI flags, a `j1 serve` request, a promptfoo config). */
export interface ScalingRequest {
  waits?: number;
  minThinking?: number;
  maxThinking?: number;
  waitText?: string;
  answerTokens?: number;
  stopWhen?: StopRule;
  trajectory?: boolean;
}

/** One reading of a scaling request for every face: unset fields keep j1's defaults, the cap at least the minimum. */
export function scalingFromRequest(request: ScalingRequest): Partial<ScalingOptions> {
  const scaling: Partial<ScalingOptions> = {
    waits: request.waits ?? 0,
    minThinkingTokens: request.minThinking ?? 0,
    maxThinkingTokens: request.maxThinking ?? Math.max(DEFAULT_THINKING_CAP, request.minThinking ?? 0),
  };
  if (request.waitText !== undefined) scaling.waitText = request.waitText;
  if (request.answerTokens !== undefined) scaling.answerTokens = request.answerTokens;
  if (request.stopWhen !== undefined) scaling.stopWhen = request.stopWhen;
  if (request.trajectory) scaling.probeEveryEnd = true;
  return scaling;
}

/**
 * The policy a scaling object means: fixed waits (s1) unless `stopWhen` names an adaptive rule, which
 * then stops within `waits` waits; `probeEveryEnd` makes any policy read the verdict at every attempted
 * end, for the trajectory (those probes are paid for, and counted).
 */
export function policyOf(options: ScalingOptions, name?: string): ScalingPolicy {
  const base = options.stopWhen
    ? stopRuleKind(options.stopWhen.rule).policy(
        options.stopWhen.value,
        { maxWaits: options.waits, minThinkingTokens: options.minThinkingTokens, maxExtraWaits: options.maxExtraWaits, maxThinkingTokens: options.maxThinkingTokens, waitText: options.waitText },
        name,
      )
    : fixedWaits(options, name);
  return options.probeEveryEnd ? probingEveryEnd(base) : base;
}

/** A policy that probes at every attempted end before deciding (the decision itself is unchanged). */
function probingEveryEnd(policy: ScalingPolicy): ScalingPolicy {
  return {
    ...policy,
    usesProbes: true,
    decide: (moment) => (moment.probedHere ? policy.decide(moment) : { action: "probe" }),
  };
}

export function validateScaling(options: ScalingOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(options.waits) || options.waits < 0) problems.push("waits must be a whole number >= 0");
  if (!Number.isInteger(options.minThinkingTokens) || options.minThinkingTokens < 0) problems.push("minThinkingTokens must be a whole number >= 0");
  if (options.maxThinkingTokens !== undefined && (!Number.isInteger(options.maxThinkingTokens) || options.maxThinkingTokens < 1)) {
    problems.push("maxThinkingTokens must be a whole number >= 1");
  }
  if (options.maxThinkingTokens !== undefined && options.minThinkingTokens > options.maxThinkingTokens) {
    problems.push("minThinkingTokens must not exceed maxThinkingTokens");
  }
  if (!Number.isInteger(options.answerTokens) || options.answerTokens < 1) problems.push("answerTokens must be a whole number >= 1");
  if (options.waitText.length === 0) problems.push("waitText must not be empty");
  if (options.stopWhen !== undefined) {
    const kind = STOP_RULES.find((entry) => entry.rule === options.stopWhen?.rule);
    const problem = kind ? kind.check(options.stopWhen.value) : `stopWhen rule "${options.stopWhen.rule}" is unknown (known: ${STOP_RULES.map((entry) => entry.rule).join(", ")})`;
    if (problem) problems.push(`stopWhen: ${problem}`);
  }
  return problems;
}
