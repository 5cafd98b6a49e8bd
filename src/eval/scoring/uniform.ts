import { J1Error } from "../../core/errors.js";
import type { ScoredItem, UniformMetrics } from "../types.js";
import { bootstrapInterval, type BootstrapOptions } from "./bootstrap.js";
import { accuracyCoverage, expectedCalibrationError, type ConfidentDecision } from "./calibration.js";
import { decisionFor, type Decisions } from "./credit.js";

function share(count: number, total: number): number {
  return total === 0 ? 0 : (100 * count) / total;
}

/**
 * The figures every benchmark reports besides its official score, computed the same way for all of them.
 * `officialScore` scores any subset (a bootstrap resample) by the benchmark's own rule.
 */
export function uniformMetrics(
  items: readonly ScoredItem[],
  decisions: Decisions,
  officialScore: (sample: readonly ScoredItem[]) => number,
  options: BootstrapOptions = {},
): UniformMetrics {
  let correct = 0;
  let ties = 0;
  let engineErrors = 0;
  let parseErrors = 0;
  let bothOrders = 0;
  let consistent = 0;
  const confident: ConfidentDecision[] = [];
  for (const item of items) {
    const decision = decisionFor(decisions, item);
    if (decision.verdict === item.label) correct++;
    if (decision.verdict === "tie") ties++;
    if (decision.status === "engine-error") engineErrors++;
    if (decision.status === "parse-error") parseErrors++;
    const { AB, BA } = decision.orders;
    // Consistency is about the verdicts the judge gave; an order without a verdict is counted as a
    // parse or engine failure above, not as a disagreement here.
    if (AB !== undefined && AB !== null && BA !== undefined && BA !== null) {
      bothOrders++;
      if (AB === BA) consistent++;
    }
    if (decision.confidence !== undefined && decision.verdict !== null) {
      if (!(decision.confidence >= 0 && decision.confidence <= 1)) {
        throw new J1Error("bad-input", `item "${item.id}": confidence must be in [0, 1], got ${decision.confidence}`, { context: { item: item.id } });
      }
      confident.push({ confidence: decision.confidence, correct: decision.verdict === item.label });
    }
  }
  const total = items.length;
  return {
    items: total,
    accuracy: share(correct, total),
    interval95: bootstrapInterval(items, officialScore, { ...options, level: 0.95 }),
    positionConsistency: bothOrders === 0 ? undefined : share(consistent, bothOrders),
    tieRate: share(ties, total),
    errorRate: share(engineErrors, total),
    parseFailureRate: share(parseErrors, total),
    calibrationError: expectedCalibrationError(confident),
    accuracyCoverage: accuracyCoverage(confident),
  };
}
