import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { Judge } from "../src/judge/judge.js";
import type { RunReport } from "../src/eval/report-types.js";
import { machineIndependent } from "../src/eval/report/reproducible.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-eval-"));
const env = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), NO_COLOR: "1" };
const harmless = path.resolve(root, "../shared/benchmarks/hh-rlhf-harmless-base/test.jsonl.gz");

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A small pairs file of our own (the shared benchmarks may be absent on a fresh clone). */
function writePairs(file: string, count: number, bad?: { line: number; text: string }) {
  const lines: string[] = [];
  for (let index = 1; index <= count; index++) {
    lines.push(bad?.line === index ? bad.text : JSON.stringify({ id: `p${index}`, question: `question ${index}?`, a: `answer ${index} a`, b: `answer ${index} b`, label: index % 3 === 0 ? "B" : "A" }));
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

/**
 * The parts of a report that must not depend on how the run got done (interrupted or not). Everything
 * but the tokens the engine evaluated: those depend on what its prefix cache held when each judgment
 * started, and a restarted process starts with an empty cache (the evaluated + cached sum is the same).
 */
/** What must be identical between a resumed and an uninterrupted run (config: the same flags, another store). */
function comparable(report: RunReport & { run?: unknown }) {
  const { run: _run, ...plain } = report;
  return machineIndependent(plain);
}

describe("one-pass waits sweep", () => {
  let engine: LlamaCppEngine;
  before(async () => {
    // One sequence, as j1 runs in process by default: batched sequences sample on parallel libuv threads,
    // which node-llama-cpp 3.21.1 does not make safe (README, "Engines"); under load the sampled tokens of
    // a batch then differed now and then, and this test compares sampled traces token for token.
    engine = await tinyEngine({ sequences: 1 });
  });
  after(async () => {
    await engine.dispose();
  });

  it("gives the same per-point verdicts and traces as separate runs with the same seeds", async () => {
    const pair = { question: "2+2?", a: "4", b: "5" };
    const points = [0, 1, 2, 4];
    for (const seed of [1, 2, 3]) {
      const call = { samples: 3, swap: true, temperature: 1, seed, itemKey: "x" };
      const sweep = await new Judge({ engine, scaling: { waits: 4 } }).judgePairSweep(pair, { ...call, readAtWaits: points });
      for (const waits of points) {
        const separate = await new Judge({ engine, scaling: { waits } }).judgePair(pair, call);
        const fromSweep = sweep.points.get(waits);
        assert.ok(fromSweep);
        assert.deepEqual(fromSweep.runs.map((run) => run.verdict), separate.runs.map((run) => run.verdict), `seed ${seed} waits ${waits}`);
        assert.deepEqual(fromSweep.runs.map((run) => run.trace.map((span) => span.text)), separate.runs.map((run) => run.trace.map((span) => span.text)));
        assert.equal(fromSweep.verdict, separate.verdict);
        assert.equal(fromSweep.usage.thinkingTokens, separate.usage.thinkingTokens);
        assert.equal(fromSweep.usage.injectedTokens, separate.usage.injectedTokens);
        assert.equal(fromSweep.waitsUsed, separate.waitsUsed);
      }
    }
  });

  it("costs about as much as its largest point alone (fresh engines, no cache)", async () => {
    const pair = { question: "cost?", a: "x", b: "y" };
    const sweepEngine = await tinyEngine();
    const aloneEngine = await tinyEngine();
    try {
      const sweep = await new Judge({ engine: sweepEngine, scaling: { waits: 8 } }).judgePairSweep(pair, { readAtWaits: [0, 1, 2, 4, 8] });
      const alone = await new Judge({ engine: aloneEngine, scaling: { waits: 8 } }).judgePair(pair);
      const ratio = sweep.evaluatedTokens / alone.usage.evaluatedTokens;
      assert.ok(ratio >= 1 && ratio <= 1.15, `sweep/alone = ${ratio}`);
    } finally {
      await sweepEngine.dispose();
      await aloneEngine.dispose();
    }
  });
});

describe("j1 eval (CLI, real engine, real SQLite)", () => {
  it("the issue's done-when: harmless, 50 items, sweep waits=0,1,2 -> three points; the report draws the curve", (t) => {
    if (!existsSync(harmless)) {
      if (process.env.CI) assert.fail(`${harmless} is missing in CI`);
      t.skip("../shared/benchmarks absent");
      return;
    }
    const store = path.join(work, "done-when.sqlite");
    const run = j1("eval", "--bench", "harmless", "--data", harmless, "--model", "tiny", "--limit", "50", "--sweep", "waits=0,1,2", "--json", "--store", store, "--progress", "quiet");
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as RunReport;
    const bench = report.benchmarks[0];
    assert.equal(bench.benchmark, "harmless");
    assert.equal(bench.score.metrics.items, 50);
    assert.deepEqual(bench.sweep?.map((point) => point.value), [0, 1, 2]);
    // The tiny model thinks 5 tokens + its </think>, and 4 more per wait.
    assert.deepEqual(bench.sweep?.map((point) => point.meanThinkingTokens), [6, 10, 14]);
    for (const point of bench.sweep ?? []) assert.ok(point.score.score >= 0 && point.score.score <= 100);
    const html = path.join(work, "out.html");
    const reported = j1("report", report.runId, "--html", html, "--store", store);
    assert.equal(reported.code, 0, reported.stderr);
    const page = readFileSync(html, "utf8");
    assert.match(page, /<svg/);
    const polyline = /<polyline[^>]*points="([^"]+)"/.exec(page);
    assert.ok(polyline, "a scaling curve is drawn");
    assert.equal(polyline[1].trim().split(/\s+/).length, 3, "one vertex per sweep point");
  });

  it("kill -9 in the middle, then --resume: the same report as an uninterrupted run, no duplicates", async () => {
    const data = path.join(work, "kill.jsonl");
    writePairs(data, 60);
    const common = ["eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--sweep", "waits=0,2", "--parallel", "1"];
    const whole = j1(...common, "--store", path.join(work, "whole.sqlite"), "--json", "--progress", "quiet");
    assert.equal(whole.code, 0, whole.stderr);
    const wholeReport = JSON.parse(whole.stdout) as RunReport;

    const store = path.join(work, "killed.sqlite");
    const child = spawn(process.execPath, [path.join(root, "bin/j1"), ...common, "--store", store, "--progress", "jsonl"], { cwd: work, env });
    let stderr = "";
    const killedAt = await new Promise<number>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const done = [...stderr.matchAll(/"done":(\d+)/g)].map((match) => Number(match[1]));
        const last = done[done.length - 1] ?? 0;
        if (last >= 15 && child.exitCode === null) {
          child.kill("SIGKILL");
          resolve(last);
        }
      });
      child.on("exit", (code) => (code === 0 ? reject(new Error(`finished before the kill: ${stderr}`)) : undefined));
    });
    await new Promise((resolve) => child.once("exit", resolve));
    assert.ok(killedAt >= 15 && killedAt < 60);
    const listed = JSON.parse(j1("runs", "list", "--store", store, "--json").stdout) as Array<{ id: string; status: string; itemsJudged: number }>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].status, "running", "a killed run never got to say it stopped");
    assert.ok(listed[0].itemsJudged >= killedAt, "every judgment reported done was committed");

    const resumed = j1("eval", "--resume", listed[0].id.slice(0, 14), "--store", store, "--json", "--progress", "quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    const resumedReport = JSON.parse(resumed.stdout) as RunReport & { run: { judged: number; alreadyDone: number } };
    assert.ok(resumedReport.run.alreadyDone >= killedAt, JSON.stringify(resumedReport.run));
    assert.deepEqual(comparable(resumedReport), comparable(wholeReport));
    // The sweep's scores, thinking tokens and traces are the same; only the cache-dependent figure may differ.
    assert.deepEqual(resumedReport.benchmarks[0].sweep?.map((point) => [point.value, point.score.score, point.meanThinkingTokens]), wholeReport.benchmarks[0].sweep?.map((point) => [point.value, point.score.score, point.meanThinkingTokens]));
    const exported = j1("runs", "export", listed[0].id, "--store", store).stdout.trim().split("\n");
    assert.equal(exported.length, 60 * 2, "one row per item and point, none twice");
    const keys = new Set(exported.map((line) => { const row = JSON.parse(line) as { itemId: string; point: string }; return `${row.itemId}/${row.point}`; }));
    assert.equal(keys.size, 120);
  });

  it("a max-thinking sweep caps each point's thinking", () => {
    const data = path.join(work, "caps.jsonl");
    writePairs(data, 6);
    const run = j1("eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--sweep", "max-thinking=2,4,8", "--store", path.join(work, "caps.sqlite"), "--json", "--progress", "quiet");
    assert.equal(run.code, 0, run.stderr);
    const sweep = (JSON.parse(run.stdout) as RunReport).benchmarks[0].sweep ?? [];
    assert.deepEqual(sweep.map((point) => [point.setting, point.value]), [["max-thinking", 2], ["max-thinking", 4], ["max-thinking", 8]]);
    // Caps 2 and 4 cut the 5-token first thought; at 8 the model ends on its own (5 tokens + its </think>).
    assert.deepEqual(sweep.map((point) => point.meanThinkingTokens), [2, 4, 6]);
  });

  it("judgebench judges both orders: position consistency is measured (an always-A judge has none)", (t) => {
    const judgebench = path.resolve(root, "../shared/benchmarks/judgebench");
    if (!existsSync(judgebench)) {
      if (process.env.CI) assert.fail(`${judgebench} is missing in CI`);
      t.skip("../shared/benchmarks absent");
      return;
    }
    const run = j1("eval", "--bench", "judgebench", "--model", "tiny", "--limit", "6", "--store", path.join(work, "jb.sqlite"), "--json", "--progress", "quiet");
    const report = JSON.parse(run.stdout) as RunReport;
    const score = report.benchmarks[0].score;
    // Failed orders of "inconsistent" pairs are counted per judged order (6 pairs x 2 orders), in the
    // rates and in the console summary, and make the run exit 3.
    assert.equal(report.judgments.orders, 12);
    assert.equal(score.metrics.orderJudgments, 12);
    const failedOrders = report.judgments.failedOrders ?? {};
    const engineErrors = failedOrders["engine-error"] ?? 0;
    assert.ok(Math.abs(score.metrics.errorRate - (100 * engineErrors) / 12) < 1e-9);
    assert.ok(Math.abs(score.metrics.parseFailureRate - (100 * (failedOrders["parse-error"] ?? 0)) / 12) < 1e-9);
    const failed = engineErrors + (failedOrders["parse-error"] ?? 0);
    assert.equal(run.code, failed > 0 ? 3 : 0, run.stderr);
    if (failed > 0) assert.match(run.stderr, new RegExp(`j1: failures: engine-error ${engineErrors}, parse-error ${failedOrders["parse-error"] ?? 0}, vote-tie \\d+, inconsistent \\d+`));
    assert.equal(score.metrics.items, 6);
    assert.equal(score.metrics.positionConsistency, 0);
    // Every pair is inconsistent, so the ±1 rule gives 0 for each: no pair is right.
    assert.equal(score.score, 0);
  });

  it("an engine failure is data (scored, reported); --resume --retry-errors judges it again", () => {
    const data = path.join(work, "too-long.jsonl");
    const rows = [
      { id: "short-1", question: "q1", a: "x", b: "y", label: "A" },
      // About 5,000 byte tokens: more than a 2,048-token context holds, so the engine refuses it.
      { id: "long", question: "z".repeat(5000), a: "x", b: "y", label: "A" },
      { id: "short-2", question: "q2", a: "x", b: "y", label: "B" },
    ];
    writeFileSync(data, `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`);
    const store = path.join(work, "errors.sqlite");
    const first = j1("eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--context-size", "2048", "--store", store, "--json", "--progress", "quiet");
    assert.equal(first.code, 3, `a run with a failed judgment exits 3: ${first.stderr}`);
    const failed = JSON.parse(first.stdout) as RunReport & { run: { runId: string } };
    assert.deepEqual(failed.judgments.errors, { "engine-error": 1 });
    // The console lists the failures by kind and the command that judges them again.
    assert.match(first.stderr, /j1: failures: engine-error 1, parse-error 0, vote-tie 0, inconsistent 0 \(of 3 order-judgments, 3 items\)/);
    assert.match(first.stderr, new RegExp(`j1: next: j1 eval --resume ${failed.runId} --store \\S+ --retry-errors`));
    assert.ok(Math.abs(failed.benchmarks[0].score.metrics.errorRate - 100 / 3) < 1e-9);
    assert.ok(failed.worst.some((item) => item.itemId === "pairs:long" && item.status === "engine-error"));
    const plainRun = j1("eval", "--resume", failed.runId, "--store", store, "--json", "--progress", "quiet", "--allow-errors");
    assert.equal(plainRun.code, 0, "--allow-errors: a run with failed judgments exits 0");
    const plain = JSON.parse(plainRun.stdout) as { run: { judged: number }; judgments: RunReport["judgments"] };
    assert.equal(plain.run.judged, 0, "a plain resume keeps what was saved, errors included");
    const retried = j1("eval", "--resume", failed.runId, "--store", store, "--context-size", "8192", "--retry-errors", "--json", "--progress", "quiet");
    assert.equal(retried.code, 0, retried.stderr);
    const fixed = JSON.parse(retried.stdout) as RunReport & { run: { judged: number } };
    assert.equal(fixed.run.judged, 1);
    assert.deepEqual(fixed.judgments.errors, {});
    assert.equal(j1("runs", "export", failed.runId, "--store", store).stdout.trim().split("\n").length, 3, "replaced, not added");
  });

  it("a second run with the same settings reuses every judgment by key", () => {
    const data = path.join(work, "reuse.jsonl");
    writePairs(data, 10);
    const store = path.join(work, "reuse.sqlite");
    const args = ["eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--store", store, "--json", "--progress", "quiet"];
    const first = JSON.parse(j1(...args).stdout) as { run: { judged: number; reused: number } };
    const second = JSON.parse(j1(...args).stdout) as { run: { judged: number; reused: number } };
    assert.deepEqual([first.run.judged, first.run.reused], [10, 0]);
    assert.deepEqual([second.run.judged, second.run.reused], [0, 10]);
  });

  it("--dry-run counts items and judgments without loading a model", () => {
    const data = path.join(work, "dry.jsonl");
    writePairs(data, 12);
    const run = j1("eval", "--bench", "pairs", "--data", data, "--model", path.join(work, "no-such-model.gguf"), "--swap", "--samples", "3", "--dry-run", "--json");
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { items: number; judgments: number; benchmarks: Array<{ categories: Record<string, number> }> };
    assert.equal(summary.items, 12);
    assert.equal(summary.judgments, 12 * 2 * 3);
    assert.deepEqual(Object.values(summary.benchmarks[0].categories).reduce((sum, count) => sum + count, 0), 12);
  });

  it("a malformed row stops the run before judging, naming file, row and field; --skip-bad skips and counts it", () => {
    const data = path.join(work, "bad.jsonl");
    writePairs(data, 8, { line: 5, text: JSON.stringify({ id: "p5", question: "q", a: "x", label: "A" }) });
    const store = path.join(work, "bad.sqlite");
    const stopped = j1("eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--store", store, "--progress", "quiet");
    assert.equal(stopped.code, 2, stopped.stderr);
    assert.match(stopped.stderr, /bad\.jsonl/);
    assert.match(stopped.stderr, /\b5\b/);
    assert.match(stopped.stderr, /"b"|\bb\b/);
    const skipped = j1("eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--store", store, "--skip-bad", "--json", "--progress", "quiet");
    assert.equal(skipped.code, 0, skipped.stderr);
    const report = JSON.parse(skipped.stdout) as RunReport;
    assert.equal(report.benchmarks[0].score.skipped, 1);
    assert.equal(report.benchmarks[0].score.metrics.items, 7);
  });
});
