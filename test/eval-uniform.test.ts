import assert from "node:assert/strict";
import { test } from "node:test";
import type { PairVerdict } from "../src/core/judgment.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { bootstrapInterval, quantile } from "../src/eval/scoring/bootstrap.js";
import { judgedItems } from "../src/eval/scoring/credit.js";
import { accuracyCoverage, COVERAGE_THRESHOLDS, expectedCalibrationError } from "../src/eval/scoring/calibration.js";
import { rewardMathScore } from "../src/eval/scoring/rewardmath-groups.js";
import { uniformMetrics } from "../src/eval/scoring/uniform.js";
import { orderStatusOf } from "../src/eval/scoring/order-status.js";
import type { Judgment } from "../src/core/judgment.js";
import type { ItemDecision, ScoredItem } from "../src/eval/types.js";

const close = (actual: number | undefined, expected: number, message?: string): void =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, message ?? `${actual} != ${expected}`);

test("expected calibration error with 10 bins, computed by hand", () => {
  const decisions = [
    { confidence: 0.95, correct: true }, { confidence: 0.95, correct: true }, { confidence: 0.95, correct: false },
    { confidence: 0.65, correct: true }, { confidence: 0.65, correct: false },
    { confidence: 0.55, correct: true },
  ];
  // bin [0.9, 1]: 3 of 6, accuracy 2/3, confidence 0.95 -> 3/6 x |2/3 - 0.95| = 0.141666...
  // bin [0.6, 0.7): 2 of 6, accuracy 1/2, confidence 0.65 -> 2/6 x 0.15 = 0.05
  // bin [0.5, 0.6): 1 of 6, accuracy 1, confidence 0.55 -> 1/6 x 0.45 = 0.075
  // ECE = 0.266666... = 26.67 points
  close(expectedCalibrationError(decisions), 100 * (0.5 * Math.abs(2 / 3 - 0.95) + (2 / 6) * 0.15 + (1 / 6) * 0.45));
  close(expectedCalibrationError([{ confidence: 1, correct: true }, { confidence: 0.05, correct: false }]), 2.5); // 1.0 falls in the last bin
  assert.equal(expectedCalibrationError([]), undefined);

  // Accuracy-coverage: t <= 0.55 keeps all 6 (4 right); 0.6-0.65 keep 5 (3 right); 0.7-0.95 keep 3 (2 right).
  const curve = accuracyCoverage(decisions);
  assert.deepEqual(curve?.map((point) => point.threshold), [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
  const expected = [[100, 400 / 6], [100, 400 / 6], [500 / 6, 60], [500 / 6, 60], [50, 200 / 3], [50, 200 / 3], [50, 200 / 3], [50, 200 / 3], [50, 200 / 3], [50, 200 / 3]];
  curve?.forEach((point, index) => {
    close(point.coverage, expected[index][0], `coverage at ${point.threshold}`);
    close(point.accuracy, expected[index][1], `accuracy at ${point.threshold}`);
  });
  // A threshold no decision reaches has no accuracy: it is left out, not reported as 0.
  assert.deepEqual(accuracyCoverage([{ confidence: 0.6, correct: true }])?.map((point) => point.threshold), [0.5, 0.55, 0.6]);
  assert.equal(COVERAGE_THRESHOLDS.length, 10);
});

test("uniform metrics: consistency over items judged in both orders, tie / error / parse-failure rates, calibration from confidences", () => {
  const items: ScoredItem[] = ["a", "b", "c", "d", "e"].map((id) => ({ id, category: "x", label: "A" as PairVerdict }));
  const decisions = new Map<string, ItemDecision>([
    ["a", { itemId: "a", verdict: "A", status: "ok", orders: { AB: "A", BA: "A" }, confidence: 0.9 }],
    ["b", { itemId: "b", verdict: null, status: "inconsistent", orders: { AB: "A", BA: "B" } }],
    ["c", { itemId: "c", verdict: "tie", status: "ok", orders: { AB: "tie", BA: "tie" }, confidence: 0.7 }],
    ["d", { itemId: "d", verdict: null, status: "parse-error", orders: { AB: null, BA: "A" } }],
    ["e", { itemId: "e", verdict: null, status: "engine-error", orders: { AB: null } }],
  ]);
  const metrics = uniformMetrics(judgedItems(items, decisions), (sample) => 100 * sample.filter(({ item, decision }) => decision.verdict === item.label).length / sample.length, { seed: 1 });
  assert.equal(metrics.items, 5);
  assert.equal(metrics.accuracy, 20);
  close(metrics.positionConsistency, (100 * 2) / 3); // a, b, c have two verdicts; a and c agree
  // Rates are per judged order: a-d were judged in both orders (8 order-judgments), e in one (9 in all).
  assert.equal(metrics.orderJudgments, 9);
  close(metrics.tieRate, (100 * 2) / 9); // both orders of c
  close(metrics.errorRate, 100 / 9); // e
  close(metrics.parseFailureRate, 100 / 9); // d's AB order
  // Confidence on a (0.9, right) and c (0.7, wrong): bins 9 and 7 -> (0.1 + 0.7)/2 = 0.4.
  close(metrics.calibrationError, 40);
  assert.deepEqual(metrics.accuracyCoverage?.map((point) => [point.threshold, point.coverage, point.accuracy]), [
    [0.5, 100, 50], [0.55, 100, 50], [0.6, 100, 50], [0.65, 100, 50], [0.7, 100, 50], [0.75, 50, 100], [0.8, 50, 100], [0.85, 50, 100], [0.9, 50, 100],
  ]);
  // With no order judged twice and no confidences, those figures are absent rather than invented.
  const single = uniformMetrics(judgedItems(items.slice(0, 1), new Map([["a", { itemId: "a", verdict: "A", status: "ok", orders: { AB: "A" } }]])), () => 100);
  assert.equal(single.positionConsistency, undefined);
  assert.equal(single.calibrationError, undefined);
  assert.equal(single.accuracyCoverage, undefined);
});

test("uniform metrics count the failed orders of both-order items whose status is inconsistent", () => {
  const items: ScoredItem[] = ["p", "q", "r", "s"].map((id) => ({ id, category: "x", label: "A" as PairVerdict }));
  const decisions = new Map<string, ItemDecision>([
    // BA failed in the engine: the item is "inconsistent", yet one of its two orders is an engine error.
    ["p", { itemId: "p", verdict: null, status: "inconsistent", orders: { AB: "A", BA: null }, orderStatus: { AB: "ok", BA: "engine-error" } }],
    // Both orders unreadable.
    ["q", { itemId: "q", verdict: null, status: "inconsistent", orders: { AB: null, BA: null }, orderStatus: { AB: "parse-error", BA: "parse-error" } }],
    // A tie in one order; an order that split its samples evenly in the other.
    ["r", { itemId: "r", verdict: null, status: "inconsistent", orders: { AB: "tie", BA: null }, orderStatus: { AB: "ok", BA: "vote-tie" } }],
    // No per-order status recorded (older runs): the order without a verdict counts as a parse failure.
    ["s", { itemId: "s", verdict: null, status: "inconsistent", orders: { AB: null, BA: "A" } }],
  ]);
  const metrics = uniformMetrics(judgedItems(items, decisions), () => 0, { seed: 1 });
  assert.equal(metrics.orderJudgments, 8);
  close(metrics.errorRate, 100 / 8);
  close(metrics.parseFailureRate, 300 / 8);
  close(metrics.voteTieRate, 100 / 8);
  close(metrics.tieRate, 100 / 8);
  // Under the old per-item status rule all four rates were 0 here.
  assert.ok(metrics.errorRate > 0 && metrics.parseFailureRate > 0);
});

test("orderStatusOf: each order's outcome from its runs, by the judge's rule for one order", () => {
  const run = (order: "AB" | "BA", verdict: PairVerdict | null, status: "ok" | "parse-error" | "engine-error") => ({ order, verdict, status }) as unknown as Judgment["runs"][number];
  const judgment = (runs: Judgment["runs"]) => ({ kind: "pairwise", runs }) as Pick<Judgment, "kind" | "runs">;
  assert.deepEqual(orderStatusOf(judgment([run("AB", "A", "ok"), run("BA", null, "engine-error")])), { AB: "ok", BA: "engine-error" });
  // One sample failed in the engine, one unreadable: a parse failure (not every run failed in the engine).
  assert.deepEqual(orderStatusOf(judgment([run("AB", null, "engine-error"), run("AB", null, "parse-error"), run("BA", "B", "ok"), run("BA", "B", "ok")])), { AB: "parse-error", BA: "ok" });
  assert.deepEqual(orderStatusOf(judgment([run("AB", "A", "ok"), run("AB", "B", "ok")])), { AB: "vote-tie" });
  assert.deepEqual(orderStatusOf({ kind: "pointwise", runs: [] }), {});
});

test("bootstrap interval: deterministic for a seed, contains the point estimate, changes with the seed", () => {
  // 200 items, 140 right: a point estimate of 70.
  const items: ScoredItem[] = Array.from({ length: 200 }, (_, index) => ({ id: `i${index}`, category: index % 2 === 0 ? "even" : "odd", label: "A" }));
  const decisions = new Map<string, ItemDecision>(items.map((item, index) => [item.id, { itemId: item.id, verdict: index % 10 < 7 ? "A" : "B", status: "ok", orders: { AB: index % 10 < 7 ? "A" : "B" } }]));
  const benchmark = getBenchmark("pairs");
  const first = benchmark.score(items, decisions, { seed: 11 });
  const again = benchmark.score(items, decisions, { seed: 11 });
  const other = benchmark.score(items, decisions, { seed: 12 });
  assert.equal(first.score, 70);
  assert.deepEqual(first.metrics.interval95, again.metrics.interval95);
  assert.notDeepEqual(first.metrics.interval95, other.metrics.interval95);
  const [low, high] = first.metrics.interval95;
  assert.ok(low < 70 && 70 < high, `${low} < 70 < ${high}`);
  // A binomial standard error of sqrt(0.7 x 0.3 / 200) = 3.2 points: the 95% interval is about +-6.4.
  assert.ok(high - low > 8 && high - low < 18, `width ${high - low}`);
});

test("bootstrap resamples whole groups: a grouped rule only ever sees whole problems", () => {
  // Two problems of 9 pairs each, one solved and one lost by a single pair: a resample of whole problems
  // scores 0, 50 or 100; resampling single pairs would make problems of other sizes and other scores.
  const items: ScoredItem[] = [];
  const decisions = new Map<string, ItemDecision>();
  for (const problem of ["p1", "p2"]) {
    for (let pair = 0; pair < 9; pair++) {
      const id = `${problem}/${pair}`;
      items.push({ id, category: "Algebra", label: "A", group: problem });
      const verdict: PairVerdict = problem === "p2" && pair === 0 ? "B" : "A";
      decisions.set(id, { itemId: id, verdict, status: "ok", orders: { AB: verdict } });
    }
  }
  const seen = new Set<number>();
  const interval = bootstrapInterval(judgedItems(items, decisions), (sample) => {
    const score = rewardMathScore(sample).score;
    seen.add(score);
    assert.equal(sample.length, 18);
    return score;
  }, { seed: 5, resamples: 200 });
  assert.deepEqual([...seen].sort((x, y) => x - y), [0, 50, 100]);
  assert.ok(interval[0] <= 50 && 50 <= interval[1]);
});

test("quantile interpolates between order statistics", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10], 0.975), 10);
  assert.equal(quantile([0, 100], 0.025), 2.5);
});
