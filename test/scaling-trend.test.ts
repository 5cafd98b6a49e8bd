import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SweepPoint } from "../src/eval/report-types.js";
import { leastSquaresSlope, scalingTrend } from "../src/eval/scaling-trend.js";
import type { BenchmarkScore } from "../src/eval/types.js";

function point(value: number, score: number, meanThinkingTokens: number, setting = "waits"): SweepPoint {
  const benchmarkScore: BenchmarkScore = {
    benchmark: "b",
    score,
    parts: {},
    categories: [],
    metrics: { items: 10, accuracy: score, interval95: [score, score], tieRate: 0, errorRate: 0, parseFailureRate: 0 },
    skipped: 0,
  };
  return { setting, value, score: benchmarkScore, meanThinkingTokens, meanEvaluatedTokens: meanThinkingTokens + 500 };
}

const close = (actual: number | undefined, expected: number) => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);
};

describe("scalingTrend", () => {
  it("needs at least two points", () => {
    assert.equal(scalingTrend([]), undefined);
    assert.equal(scalingTrend([point(0, 50, 100)]), undefined);
  });

  it("a clean doubling series: tokens 256, 512, 1024 (x = 8, 9, 10), scores 60, 63, 66", () => {
    // gain = 66 - 60 = 6; relative = 6 / 60 = 0.1; each doubling adds exactly 3 points.
    const trend = scalingTrend([point(0, 60, 256), point(2, 63, 512), point(8, 66, 1024)]);
    assert.equal(trend?.setting, "waits");
    close(trend?.gain, 6);
    close(trend?.relativeGain, 0.1);
    close(trend?.slopePerDoubling, 3);
  });

  it("reads the ends by setting value, not by the order the points were recorded", () => {
    const trend = scalingTrend([point(8, 66, 1024), point(0, 60, 256), point(2, 63, 512)]);
    close(trend?.gain, 6);
    close(trend?.relativeGain, 0.1);
    close(trend?.slopePerDoubling, 3);
  });

  it("fits a least-squares line when the points are not collinear", () => {
    // x = log2(2, 4, 16) = 1, 2, 4 (mean 7/3); y = 10, 20, 60 (mean 30).
    // cov = (-4/3)(-20) + (-1/3)(-10) + (5/3)(30) = 80; var = 16/9 + 1/9 + 25/9 = 14/3; slope = 240/14.
    const trend = scalingTrend([point(0, 10, 2), point(1, 20, 4), point(4, 60, 16)]);
    close(trend?.slopePerDoubling, 240 / 14);
    close(trend?.gain, 50);
    close(trend?.relativeGain, 5);
  });

  it("reports a loss as a negative gain", () => {
    const trend = scalingTrend([point(0, 70, 300), point(4, 65, 600)]);
    close(trend?.gain, -5);
    close(trend?.relativeGain, -5 / 70);
    close(trend?.slopePerDoubling, -5);
  });

  it("leaves points without thinking out of the slope (log2(0) has no value) but not out of the gain", () => {
    // Slope over tokens 100 and 200 only: one doubling, 55 -> 60, so 5 per doubling. Gain uses 50 -> 60.
    const trend = scalingTrend([point(0, 50, 0), point(1, 55, 100), point(2, 60, 200)]);
    close(trend?.slopePerDoubling, 5);
    close(trend?.gain, 10);
    close(trend?.relativeGain, 0.2);
  });

  it("has no slope when thinking tokens do not vary, or fewer than two points thought at all", () => {
    assert.equal(scalingTrend([point(0, 50, 400), point(8, 60, 400)])?.slopePerDoubling, undefined);
    assert.equal(scalingTrend([point(0, 50, 0), point(8, 60, 400)])?.slopePerDoubling, undefined);
  });

  it("gives no finite relative gain from a zero base, without dividing by zero into Infinity", () => {
    const trend = scalingTrend([point(0, 0, 100), point(1, 40, 200)]);
    close(trend?.gain, 40);
    assert.ok(Number.isNaN(trend?.relativeGain));
    assert.equal(JSON.stringify({ relativeGain: trend?.relativeGain }), '{"relativeGain":null}');
  });

  it("uses the first point at the smallest value and the last at the largest when values repeat", () => {
    const trend = scalingTrend([point(0, 50, 100), point(0, 52, 100), point(4, 58, 400), point(4, 60, 400)]);
    close(trend?.gain, 10);
  });
});

describe("leastSquaresSlope", () => {
  it("is the slope of the best-fit line", () => {
    close(
      leastSquaresSlope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
      2,
    );
    // x = 0, 1, 2, 3; y = 1, 2, 2, 4: mean x 1.5, mean y 2.25; cov = 1.875+0.125+(-0.125)+2.625 = 4.5; var = 5.
    close(
      leastSquaresSlope([
        { x: 0, y: 1 },
        { x: 1, y: 2 },
        { x: 2, y: 2 },
        { x: 3, y: 4 },
      ]),
      0.9,
    );
  });
  it("is undefined for a single distinct x", () => {
    assert.equal(leastSquaresSlope([{ x: 1, y: 1 }, { x: 1, y: 2 }]), undefined);
  });
});
