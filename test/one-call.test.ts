/**
 * The one-call library forms, `judge({question, a, b, model})` and `evaluate({bench, data, model, waits})`,
 * on the real tiny engine and a real store: every option not given is the CLI's default, so each gives what
 * the full forms give with those defaults.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { J1Error } from "../src/core/errors.js";
import { evaluate, evalSettings } from "../src/eval/evaluate.js";
import { Judge } from "../src/judge/judge.js";
import { judge } from "../src/judge/one-call.js";
import { openRunStore } from "../src/store/run-store.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { samplePairsRun } from "./helpers/sample-runs.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

describe("one-call library forms", () => {
  let engine: LlamaCppEngine;
  before(async () => {
    engine = await tinyEngine();
  });
  after(async () => {
    await engine?.dispose();
  });

  it("judge() gives what a Judge with the CLI's defaults gives, and leaves a passed engine open", async () => {
    const pair = { question: "2+2?", a: "4", b: "5" };
    const one = await judge({ ...pair, engine, waits: 2 });
    const full = await (await Judge.create({ engine, scaling: { waits: 2, maxThinkingTokens: 4096 } })).judgePair(pair, { seed: 0 });
    assert.equal(one.verdict, full.verdict);
    assert.equal(one.waitsUsed, 2);
    assert.deepEqual(one.trace.map((span) => span.text), full.trace.map((span) => span.text));
    // The engine is still usable: judge() did not dispose what it did not make.
    const rating = await judge({ question: "2+2?", response: "4", engine });
    assert.equal(rating.kind, "pointwise");
    const choice = await judge({ question: "Best?", responses: ["one", "two", "three"], engine, swap: false });
    assert.equal(choice.kind, "choice");
  });

  it("judge() refuses an item that is neither a pair, a rating nor a choice", async () => {
    await assert.rejects(judge({ question: "2+2?", a: "4", b: "5", response: "4", engine } as never), (error) => error instanceof J1Error && /a pair \(a and b\)/.test(error.message));
  });

  it("evaluate() runs a benchmark with partial options and answers with the stored run's report", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-one-call-"));
    const data = samplePairsRun(work, {}).data.pairs as string[];
    const storeFile = path.join(work, "runs.sqlite");
    const result = await evaluate({ bench: "pairs", data: data[0], engine, waits: 1, store: storeFile, sweep: "waits=0,1" });
    assert.equal(result.storeFile, storeFile);
    assert.equal(result.report?.benchmarks[0].benchmark, "pairs");
    assert.equal(result.report?.benchmarks[0].sweep?.length, 2);
    const store = openRunStore(storeFile);
    try {
      assert.equal(store.getRun(result.runId).status, "done");
      assert.deepEqual(store.points(result.runId), ["waits=0", "waits=1"]);
    } finally {
      store.close();
    }
    // Defaults filled in as the CLI fills them.
    const settings = evalSettings({ bench: "pairs", data: "x.jsonl", model: "tiny", waits: 2 });
    assert.equal(settings.order, "shuffle");
    assert.equal(settings.scaling.waits, 2);
    assert.equal(settings.scaling.maxThinkingTokens, 4096);
    assert.equal(settings.temperature, 0);
    assert.equal(settings.chatFormat, "auto");
    assert.throws(() => evalSettings({ bench: "nosuch" }), /unknown benchmark/);
  });
});
