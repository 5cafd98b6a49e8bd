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

test("a resumed run's rate and ETA count only the items judged now, not those done before or reused", async () => {
  const { Progress } = await import("../src/cli/progress.js");
  const progress = new Progress("eval", 10, "quiet");
  progress.setTotal(10);
  for (let index = 0; index < 6; index++) progress.tick({ cached: true });
  progress.tick({ tokens: 100 });
  const snap = progress.snapshot();
  assert.equal(snap.done, 7);
  // One item judged now in `elapsedSeconds`: three left take three times that (before: 7 items counted as judged now).
  assert.ok(snap.etaSeconds !== undefined);
  assert.ok(Math.abs(snap.etaSeconds - 3 * snap.elapsedSeconds) < 1e-9 * Math.max(1, snap.elapsedSeconds), `${snap.etaSeconds} vs ${3 * snap.elapsedSeconds}`);
  assert.ok(Math.abs(snap.perSecond * snap.elapsedSeconds - 1) < 1e-9);
});
