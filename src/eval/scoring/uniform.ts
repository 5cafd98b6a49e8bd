import { J1Error } from "../../core/errors.js";
import type { UniformMetrics } from "../types.js";
import { bootstrapInterval, type BootstrapOptions } from "./bootstrap.js";
import { accuracyCoverage, expectedCalibrationError, type ConfidentDecision } from "./calibration.js";
import type { JudgedItem } from "./credit.js";
import { orderOutcomes } from "./order-status.js";

function share(count: number, total: number): number {
  return total === 0 ? 0 : (100 * count) / total;
}

export interface UniformOptions extends BootstrapOptions {
  /**
   * The items with their decisions as the figures read them, where that differs from the decisions the
   * rule scores (RewardBench 2's rated answers: right or wrong by their rating's side of the prompt), aligned
   * with the judged items. The interval still resamples the judged items, scored by the rule.
   */
  viewed?: readonly JudgedItem[];
}

/**
 * The figures every benchmark reports besides its official score, computed the same way for all of them.
 * `officialScore` scores any subset (a bootstrap resample) by the benchmark's own rule.
 */
export function uniformMetrics(judged: readonly JudgedItem[], officialScore: (sample: readonly JudgedItem[]) => number, options: UniformOptions = {}): UniformMetrics {
  const { viewed, ...bootstrap } = options;
  let correct = 0;
  let ties = 0;
  let engineErrors = 0;
  let parseErrors = 0;
  let voteTies = 0;
  let orderJudgments = 0;
  let bothOrders = 0;
  let consistent = 0;
  const confident: ConfidentDecision[] = [];
  for (const { item, decision } of viewed ?? judged) {
    if (decision.verdict === item.label) correct++;
    // Per judged order (see UniformMetrics): an item judged in both orders counts each order, so a
    // failed order of an "inconsistent" item is counted, not hidden behind the item's status.
    for (const outcome of orderOutcomes(decision)) {
      orderJudgments++;
      if (outcome.verdict === "tie") ties++;
      if (outcome.status === "engine-error") engineErrors++;
      else if (outcome.status === "parse-error") parseErrors++;
      else if (outcome.status === "vote-tie") voteTies++;
    }
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
  const total = judged.length;
  return {
    items: total,
    orderJudgments,
    accuracy: share(correct, total),
    interval95: bootstrapInterval(judged, officialScore, { ...bootstrap, level: 0.95 }),
    positionConsistency: bothOrders === 0 ? undefined : share(consistent, bothOrders),
    tieRate: share(ties, orderJudgments),
    errorRate: share(engineErrors, orderJudgments),
    parseFailureRate: share(parseErrors, orderJudgments),
    voteTieRate: share(voteTies, orderJudgments),
    calibrationError: expectedCalibrationError(confident),
    accuracyCoverage: accuracyCoverage(confident),
  };
}
