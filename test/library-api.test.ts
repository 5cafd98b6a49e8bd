/**
 * The library's public surface (src/index.ts): a tiny evaluation run end to end through the exported API
 * alone (the pairs benchmark on a JSONL file of our own, the real tiny model in process, a real SQLite run
 * store), and every entry point the API promises checked by name, so a dropped export fails here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as j1 from "../src/index.js";
import { testCacheDir } from "./helpers/tiny-engine.js";

const work = mkdtempSync(path.join(os.tmpdir(), "j1-library-"));

/** Values the API promises, by kind (types are checked by tsc compiling this file). */
const FUNCTIONS = [
  // eval
  "runEval",
  "getBenchmark",
  "listBenchmarks",
  "buildRunReport",
  "renderMarkdown",
  "renderHtml",
  "renderJson",
  "renderTerminal",
  "parseSweep",
  "itemKind",
  "asPair",
  // store
  "openRunStore",
  "defaultStorePath",
  // jobs
  "runJudgingJob",
  "buildItemPlan",
  "judgmentKeyOf",
  // data
  "buildSftData",
  "readPreferencePairs",
  // reward
  "judgeReward",
  "bothOrdersReward",
  "parseRewardLabel",
  "resolveRewardOptions",
  "RewardScorer",
  "createRewardApp",
  // judge, engines, core (the surface the CLI had before)
  "Judge",
  "runThinking",
  "createEngine",
  "resolvePromptFormat",
  "renderChoice",
  "renderPairwise",
  "renderPointwise",
  "choiceLetters",
  "parseVerdict",
  "deriveSeed",
] as const;

const OBJECTS = ["BENCHMARKS", "DEFAULT_CHOICE_TEMPLATE", "DEFAULT_PAIRWISE_TEMPLATE", "DEFAULT_POINTWISE_TEMPLATE", "DEFAULT_SCALING", "DEFAULT_REWARD_OPTIONS", "DEFAULT_REFLECTION_RULE", "RUN_KINDS", "PAIR_ORDERS"] as const;

// Compile-time checks: each listed type must exist in the API (a dropped type export fails tsc).
type PromisedTypes = [
  j1.EvalSettings,
  j1.EvalRunOptions,
  j1.EvalRunResult,
  j1.RunStore,
  j1.RunRecord,
  j1.RunConfig,
  j1.JobPlan<j1.PlannedItem>,
  j1.PlannedItem,
  j1.JudgingOptions,
  j1.BenchmarkItem,
  j1.PairItem,
  j1.RatingItem,
  j1.ChoiceItem,
  j1.ItemDecision,
  j1.ChoiceInput,
  j1.ChoiceCallOptions,
  j1.Benchmark,
  j1.RunReport,
  j1.SftSettings,
  j1.JudgeReward,
  j1.RewardAppOptions,
];
const promisedTypes: PromisedTypes | undefined = undefined;

function writePairs(file: string): void {
  const pairs = [
    { id: "p1", question: "2+2?", a: "4", b: "5", label: "A" },
    { id: "p2", question: "Capital of France?", a: "Lyon", b: "Paris", label: "B" },
    { id: "p3", question: "Colour of the sky?", a: "blue", b: "green", label: "A" },
  ];
  writeFileSync(file, `${pairs.map((pair) => JSON.stringify(pair)).join("\n")}\n`);
}

describe("the library API", () => {
  let engine: j1.Engine;
  before(async () => {
    engine = await j1.createEngine({ engine: "llamacpp", model: "tiny", threads: 1, contextSize: 2048, parallel: 1, cacheDir: testCacheDir });
  });
  after(async () => {
    await engine.dispose();
  });

  it("exports every promised entry point", () => {
    assert.equal(promisedTypes, undefined);
    const api = j1 as unknown as Record<string, unknown>;
    for (const name of FUNCTIONS) assert.equal(typeof api[name], "function", `${name} is not exported as a function`);
    for (const name of OBJECTS) assert.ok(typeof api[name] === "object" && api[name] !== null, `${name} is not exported as an object`);
    assert.equal(typeof j1.VERSION, "string");
    assert.equal(j1.DEFAULT_CHOICE_TEMPLATE.kind, "choice");
    assert.deepEqual(
      j1.listBenchmarks().map((benchmark) => benchmark.name),
      Object.keys(j1.BENCHMARKS),
    );
    assert.ok(j1.listBenchmarks().some((benchmark) => benchmark.name === "pairs"));
    assert.throws(() => j1.getBenchmark("no-such-benchmark"), (error: unknown) => error instanceof j1.J1Error && error.code === "bad-input");
  });

  it("runs a tiny pairs evaluation through runEval, the run store and buildRunReport", async () => {
    const data = path.join(work, "pairs.jsonl");
    writePairs(data);
    const pairs = j1.getBenchmark("pairs");
    assert.equal(pairs.protocol, "as-is");
    const settings: j1.EvalSettings = {
      benchmarks: [pairs.name],
      data: { pairs: [data] },
      skipBad: false,
      engine: { engine: "llamacpp", model: "tiny", threads: 1, contextSize: 2048, parallel: 1 },
      chatFormat: "chatml",
      scaling: { ...j1.DEFAULT_SCALING, waits: 1 },
      samples: 1,
      swap: false,
      allowTie: false,
      temperature: 0,
      seed: 7,
    };
    const store = j1.openRunStore(path.join(work, "runs.sqlite"));
    try {
      const result: j1.EvalRunResult = await j1.runEval({ settings, store, engine, label: "tiny library run" });
      assert.equal(result.interrupted, false);
      assert.equal(result.items, 3);
      assert.equal(result.judged + result.reused, 3);
      const run = store.getRun(result.runId);
      assert.equal(run.status, "done");
      assert.equal(run.kind, "eval");

      const report = j1.buildRunReport(store, result.runId);
      assert.equal(report.runId, result.runId);
      assert.deepEqual(
        report.benchmarks.map((bench) => bench.benchmark),
        ["pairs"],
      );
      const score = report.benchmarks[0].score;
      assert.equal(score.metrics.items, 3);
      assert.ok(score.score >= 0 && score.score <= 100, `score ${score.score}`);
      assert.equal(report.judgments.total, 3);
      assert.match(j1.renderMarkdown([report]), /pairs/);
      assert.match(j1.renderTerminal([report]), /pairs/);
      assert.equal((JSON.parse(j1.renderJson([report])) as j1.RunReport[])[0].runId, result.runId);
      assert.match(j1.renderHtml([report]), /<html/i);

      // The same settings again: every judgment is found by key, none computed twice.
      const again = await j1.runEval({ settings, store, engine, label: "tiny library run, again" });
      assert.deepEqual([again.judged, again.reused], [0, 3]);
    } finally {
      store.close();
    }
  });
});
