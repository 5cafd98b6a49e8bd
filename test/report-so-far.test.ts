/**
 * An unfinished run's report: without `--so-far` it is refused with a message that says what to do; with it,
 * the items judged so far are scored and every benchmark is labelled "N of M items judged so far".
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Engine } from "../src/engines/engine.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { runEval } from "../src/eval/runner.js";
import { openRunStore } from "../src/store/run-store.js";
import { samplePairsRun } from "./helpers/sample-runs.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("j1 report of an unfinished run", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "j1-so-far-"));
  const storeFile = path.join(dir, "runs.sqlite");
  let engine: Engine;
  let runId = "";
  let emptyRunId = "";

  before(async () => {
    engine = await tinyEngine({ sequences: 1 });
    const store = openRunStore(storeFile);
    const stop = new AbortController();
    let ticks = 0;
    try {
      // Stopped after the first of three items, as a kill or Ctrl-C would leave it.
      await runEval({
        settings: samplePairsRun(dir, { waits: 0 }),
        store,
        engine,
        label: "so far",
        signal: stop.signal,
        onRun: (run) => (runId = run.id),
        progress: { setTotal: () => undefined, tick: () => (++ticks === 1 ? stop.abort() : undefined) },
      }).catch(() => undefined);
      // Stopped before its first item was judged: recorded, nothing saved.
      const early = new AbortController();
      await runEval({
        settings: samplePairsRun(dir, { waits: 0 }),
        store,
        engine,
        label: "nothing yet",
        signal: early.signal,
        onRun: (run) => (emptyRunId = run.id),
        progress: { setTotal: () => early.abort(), tick: () => undefined },
      }).catch(() => undefined);
    } finally {
      store.close();
    }
  });
  after(async () => {
    await engine?.dispose();
  });

  it("is refused without --so-far, naming what to do", () => {
    assert.ok(runId, "the run was recorded");
    const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), "report", runId, "--store", storeFile], { encoding: "utf8" });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--so-far/);
  });

  it("with --so-far scores the judged items and labels them as such, in the library and the CLI", () => {
    const store = openRunStore(storeFile);
    let judged: number;
    try {
      const report = buildRunReport(store, runId, { soFar: true });
      const bench = report.benchmarks[0];
      judged = bench.score.metrics.items;
      assert.ok(judged >= 1 && judged < 3, `${judged} items scored`);
      assert.deepEqual(bench.partial, { items: judged, of: 3, mode: "so-far", text: `${judged} of 3 items judged so far` });
    } finally {
      store.close();
    }
    const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), "report", runId, "--store", storeFile, "--so-far"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`${judged} of 3 items judged so far`));
    // The warning names how the items were chosen: judged so far, not a --limit sample.
    assert.doesNotMatch(result.stdout, /--limit|seeded sample/);
  });

  it("with --so-far and nothing judged yet says so and scores nothing (before: every item was scored as judged and refused)", () => {
    assert.ok(emptyRunId, "the run was recorded");
    const store = openRunStore(storeFile);
    try {
      assert.equal(store.points(emptyRunId).length, 0);
      const report = buildRunReport(store, emptyRunId, { soFar: true });
      assert.deepEqual(report.benchmarks, []);
      assert.ok(report.warnings?.some((warning) => /nothing judged yet: pairs 0 of 3 items/.test(warning)), JSON.stringify(report.warnings));
    } finally {
      store.close();
    }
    const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), "report", emptyRunId, "--store", storeFile, "--so-far"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /nothing judged yet: pairs 0 of 3 items/);
  });
});
