import { adaptivePolicy, type AdaptiveBounds } from "./adaptive.js";
import { probeTop, type ScalingPolicy } from "./policy.js";
import type { StopRuleKind } from "./stop-rule.js";

/**
 * Stop when the verdict is confident: at each attempted end, probe; end when P(top verdict) ≥ threshold,
 * else wait (at most `maxWaits`). Needs an engine that reports probabilities.
 */
export function confident(threshold: number, bounds: AdaptiveBounds, name = `confidence=${threshold}`): ScalingPolicy {
  return adaptivePolicy(name, bounds, (probes) => {
    const top = probeTop(probes[probes.length - 1]);
    return top.verdict !== null && top.p !== undefined && top.p >= threshold ? { action: "end", reason: "confident" } : undefined;
  });
}

export const CONFIDENT_RULE: StopRuleKind = {
  rule: "confident",
  sweepSetting: "confidence",
  describe: "confident:τ stops once P(top verdict) ≥ τ (0 < τ ≤ 1)",
  needsProbabilities: true,
  check: (value) => (value > 0 && value <= 1 ? undefined : "τ must be a probability above 0 and at most 1"),
  policy: confident,
};
