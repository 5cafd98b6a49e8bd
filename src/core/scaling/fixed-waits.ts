import { capReached, plainEnd, type PolicyDecision, type ScalingPolicy, type ThinkingMoment } from "./policy.js";

export interface FixedWaitsOptions {
  /** How many attempted ends are replaced by the wait text. */
  waits: number;
  /** Keep waiting until this many thinking tokens were generated (s1's minimum). */
  minThinkingTokens: number;
  /** Guards the minimum against a model that tries to stop at once, forever: at most this many waits beyond `waits`. */
  maxExtraWaits: number;
  maxThinkingTokens?: number;
  waitText: string;
}

/**
 * s1's budget forcing: suppress the first `waits` attempted ends (and more while under the minimum of
 * thinking tokens), never probing. The cap is the generation budget (`maxThinkingTokens`).
 */
export function fixedWaits(options: FixedWaitsOptions, name = `waits=${options.waits}`): ScalingPolicy {
  return {
    name,
    maxThinkingTokens: options.maxThinkingTokens,
    waitText: options.waitText,
    usesProbes: false,
    decide(moment: ThinkingMoment): PolicyDecision {
      if (capReached(options, moment.thinkingTokens)) return plainEnd(moment);
      if (moment.waitsUsed < options.waits) return { action: "wait", text: options.waitText };
      const underMinimum = moment.thinkingTokens < options.minThinkingTokens;
      if (underMinimum && moment.waitsUsed < options.waits + options.maxExtraWaits) return { action: "wait", text: options.waitText };
      return plainEnd(moment);
    },
  };
}
