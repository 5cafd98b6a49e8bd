/**
 * The progress line's running figure is labelled accuracy (final verdict equals the label), not score: on
 * RewardBench a judge that always answers A shows accuracy 0.0 while its official score is 50.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatProgress } from "../src/cli/progress.js";

test("the progress line shows the running accuracy under that name, and nothing when no item was scored", () => {
  const snap = { done: 5, total: 10, elapsedSeconds: 65, etaSeconds: 65, perSecond: 0.08, tokensPerSecond: 912.4, runningScore: 62.5 };
  assert.equal(formatProgress("eval", snap), "eval [############............] 5/10 0.08/s 912 tok/s accuracy 62.5 elapsed 01:05 eta 01:05");
  assert.doesNotMatch(formatProgress("eval", { ...snap, runningScore: undefined }), /accuracy|score/);
});
