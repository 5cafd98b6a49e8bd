/** A decision with a confidence in its verdict, and whether that verdict equals the label. */
export interface ConfidentDecision {
  confidence: number;
  correct: boolean;
}

/** The thresholds of the accuracy-coverage curve: 0.50, 0.55, ..., 0.95 (computed exactly, no drift). */
export const COVERAGE_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, index) => (50 + 5 * index) / 100);

/**
 * Expected calibration error in points (0-100): decisions fall into `bins` equal-width confidence bins
 * ([0, 0.1), ..., [0.9, 1.0]); ECE = sum over bins of (bin share) x |bin accuracy - bin mean confidence|.
 * Undefined without decisions.
 */
export function expectedCalibrationError(decisions: readonly ConfidentDecision[], bins = 10): number | undefined {
  if (decisions.length === 0) return undefined;
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  for (const decision of decisions) {
    const bin = Math.min(bins - 1, Math.floor(decision.confidence * bins));
    count[bin]++;
    confidence[bin] += decision.confidence;
    if (decision.correct) correct[bin]++;
  }
  let error = 0;
  for (let bin = 0; bin < bins; bin++) {
    if (count[bin] === 0) continue;
    error += (count[bin] / decisions.length) * Math.abs(correct[bin] / count[bin] - confidence[bin] / count[bin]);
  }
  return 100 * error;
}

/**
 * Accuracy when the judge abstains below each confidence threshold: coverage = share of decisions with
 * confidence >= t, accuracy = share correct among those (both in points). A threshold that no decision
 * reaches has no accuracy and is left out of the curve rather than given a made-up one.
 */
export function accuracyCoverage(
  decisions: readonly ConfidentDecision[],
  thresholds: readonly number[] = COVERAGE_THRESHOLDS,
): Array<{ threshold: number; coverage: number; accuracy: number }> | undefined {
  if (decisions.length === 0) return undefined;
  const curve: Array<{ threshold: number; coverage: number; accuracy: number }> = [];
  for (const threshold of thresholds) {
    let answered = 0;
    let correct = 0;
    for (const decision of decisions) {
      if (decision.confidence < threshold) continue;
      answered++;
      if (decision.correct) correct++;
    }
    if (answered === 0) continue;
    curve.push({ threshold, coverage: (100 * answered) / decisions.length, accuracy: (100 * correct) / answered });
  }
  return curve;
}
