import { capReached, plainEnd, type PolicyDecision, type ScalingPolicy, type ThinkingMoment, type VerdictProbe } from "./policy.js";

/** What every adaptive policy shares: the wait budget, the minimum, the cap and the wait text. */
export interface AdaptiveBounds {
  /** At most this many waits, whatever the probes say. */
  maxWaits: number;
  /** No probe, and no end, before this many thinking tokens (within maxWaits + maxExtraWaits). */
  minThinkingTokens: number;
  maxExtraWaits: number;
  maxThinkingTokens?: number;
  waitText: string;
}

/**
 * The decision frame of an adaptive policy: at the cap, end; under the minimum, wait; else probe once
 * and ask `stopHere` about the probes; if it does not stop, wait while waits are left.
 */
export function adaptiveDecision(bounds: AdaptiveBounds, moment: ThinkingMoment, stopHere: (probes: readonly VerdictProbe[]) => PolicyDecision | undefined): PolicyDecision {
  if (capReached(bounds, moment.thinkingTokens)) return plainEnd(moment);
  const waitsLeft = moment.waitsUsed < bounds.maxWaits;
  if (moment.thinkingTokens < bounds.minThinkingTokens && moment.waitsUsed < bounds.maxWaits + bounds.maxExtraWaits) return { action: "wait", text: bounds.waitText };
  if (!moment.probedHere) return { action: "probe" };
  const stop = stopHere(moment.probes);
  if (stop) return stop;
  return waitsLeft ? { action: "wait", text: bounds.waitText } : plainEnd(moment);
}

/** An adaptive policy from its stopping test: probes at every attempted end and pays for them. */
export function adaptivePolicy(name: string, bounds: AdaptiveBounds, stopHere: (probes: readonly VerdictProbe[]) => PolicyDecision | undefined): ScalingPolicy {
  return {
    name,
    maxThinkingTokens: bounds.maxThinkingTokens,
    waitText: bounds.waitText,
    usesProbes: true,
    decide: (moment) => adaptiveDecision(bounds, moment, stopHere),
  };
}
