import { adaptivePolicy, type AdaptiveBounds } from "./adaptive.js";
import { type ScalingPolicy } from "./policy.js";
import type { StopRuleKind } from "./stop-rule.js";

/**
 * Stop when the verdict stopped moving: at each attempted end, probe; end when the last `probes` probes
 * read the same verdict (an unreadable one breaks the run), else wait (at most `maxWaits`). Needs no
 * probabilities.
 */
export function stable(probes: number, bounds: AdaptiveBounds, name = `stable=${probes}`): ScalingPolicy {
  return adaptivePolicy(name, bounds, (seen) => {
    if (seen.length < probes) return undefined;
    const last = seen.slice(-probes).map((probe) => probe.verdict);
    return last[0] !== null && last.every((verdict) => verdict === last[0]) ? { action: "end", reason: "stable" } : undefined;
  });
}

export const STABLE_RULE: StopRuleKind = {
  rule: "stable",
  sweepSetting: "stable",
  describe: "stable:m stops once the verdict read at m attempted ends in a row is the same",
  needsProbabilities: false,
  check: (value) => (Number.isInteger(value) && value >= 1 && value <= 64 ? undefined : "m must be a whole number from 1 to 64"),
  policy: stable,
};
