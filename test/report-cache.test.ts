import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { Judgment } from "../src/core/judgment.js";
import { emptyUsage } from "../src/core/usage.js";
import { ReportCache } from "../src/server/report-cache.js";
import { judgmentKey, openRunStore } from "../src/store/run-store.js";

function judgmentWith(verdict: "A" | "B" | null): Judgment {
  const usage = { ...emptyUsage(), promptTokens: 30, thinkingTokens: 4, answerTokens: 2, evaluatedTokens: 36 };
  const trace = [{ kind: "generated" as const, text: `<think>x</think>[[${verdict}]]`, tokens: 6 }];
  const status = verdict === null ? "engine-error" : "ok";
  const run = { order: "AB" as const, sample: 0, seed: 1, verdict, rawVerdict: verdict, score: null, status, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1 };
  return { kind: "pairwise", verdict, score: null, status, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1, runs: [run] } as unknown as Judgment;
}

test("the served report is built once per run state, and again after the run changes (a resume moves its status on)", () => {
  const store = openRunStore(path.join(mkdtempSync(path.join(os.tmpdir(), "j1-report-cache-")), "runs.sqlite"));
  try {
    const run = store.createRun({ benchmark: "harmless", label: "cache", settings: { benchmarks: ["harmless"], seed: 0 } });
    const items = Array.from({ length: 4 }, (_, index) => ({ id: `harmless:${index}`, category: "harmless", label: "A" }));
    store.setRunItems(run.id, items, 0);
    const save = (itemId: string, verdict: "A" | "B" | null) => store.saveJudgment({ runId: run.id, itemId, point: "final", key: judgmentKey({ item: `${itemId}/${verdict}` }), judgment: judgmentWith(verdict), replaceEngineError: true });
    items.forEach((item, index) => save(item.id, index === 0 ? null : "A"));
    store.setRunStatus(run.id, "done");
    const cache = new ReportCache(store);
    const first = cache.report(store.getRun(run.id));
    assert.equal(first.benchmarks[0].score.score, 75);
    assert.equal(cache.report(store.getRun(run.id)), first, "the same state: the same report object, not built again");
    // A resume: the run goes back to running, the failed item is judged again, and it is done again.
    store.setRunStatus(run.id, "running");
    assert.ok(save("harmless:0", "A"));
    store.setRunStatus(run.id, "done");
    const second = cache.report(store.getRun(run.id));
    assert.notEqual(second, first);
    assert.equal(second.benchmarks[0].score.score, 100);
  } finally {
    store.close();
  }
});
