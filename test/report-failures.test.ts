import assert from "node:assert/strict";
import { test } from "node:test";
import { failureCounts, failureLines, hasFailedJudgments } from "../src/eval/report/failures.js";

const resume = "j1 eval --resume r1 --store s.sqlite";

test("failure summary: counts by kind from the per-order figures, with the next command", () => {
  const report = {
    runId: "r1",
    judgments: { total: 350, errors: { inconsistent: 60, "engine-error": 1 }, orders: 700, failedOrders: { "engine-error": 7, "parse-error": 43 }, engineErrorsInOtherItems: 5 },
  };
  assert.deepEqual(failureCounts(report), { "engine-error": 7, "parse-error": 43, "vote-tie": 0, inconsistent: 60 });
  assert.equal(hasFailedJudgments(report), true);
  const lines = failureLines(report, resume);
  assert.equal(lines[0], "failures: engine-error 7, parse-error 43, vote-tie 0, inconsistent 60 (of 700 order-judgments, 350 items)");
  assert.match(lines[1], /^next: j1 eval --resume r1 --store s\.sqlite --retry-errors/);
  assert.match(lines[2], /^note: 5 of the engine errors are one order of a pair .* only the 1 items whose status is engine-error/);
  assert.match(lines[3], /j1 report r1 --html report\.html/);
});

test("failure summary: nothing failed, nothing said; parse errors alone point at the traces, not at --retry-errors", () => {
  const clean = { runId: "r1", judgments: { total: 10, errors: {}, orders: 10, failedOrders: {} } };
  assert.deepEqual(failureLines(clean, resume), []);
  assert.equal(hasFailedJudgments(clean), false);
  const parse = { runId: "r1", judgments: { total: 10, errors: { "parse-error": 2 }, orders: 10, failedOrders: { "parse-error": 2 } } };
  const lines = failureLines(parse, resume);
  assert.equal(lines.length, 2);
  assert.ok(!lines.some((line) => line.includes("--retry-errors")));
  assert.equal(hasFailedJudgments(parse), true);
  // Vote ties and inconsistent pairs are listed but do not make the run fail (exit 3).
  const split = { runId: "r1", judgments: { total: 10, errors: { "vote-tie": 1, inconsistent: 2 }, orders: 10, failedOrders: { "vote-tie": 1 } } };
  assert.equal(hasFailedJudgments(split), false);
  assert.match(failureLines(split, resume)[0], /vote-tie 1, inconsistent 2/);
  // A report from before per-order counts: the items' statuses.
  const old = { runId: "r1", judgments: { total: 4, errors: { "engine-error": 3 } } };
  assert.equal(failureCounts(old)["engine-error"], 3);
  assert.match(failureLines(old, resume)[0], /of 4 order-judgments, 4 items/);
});
