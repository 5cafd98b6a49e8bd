import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DEFAULT_SCALING, policyOf } from "../src/core/budget.js";
import type { ThinkingMoment, VerdictProbe } from "../src/core/scaling/policy.js";
import { leaderShareAboveHalf, parseSampleStop, voteSettled } from "../src/core/scaling/sample-stop.js";
import { parseStopRule } from "../src/core/scaling/stop-rule.js";
import { parseIntegrationOptions, scalingOf } from "../src/integrations/judge-options.js";
import { frontierOf } from "../src/eval/frontier.js";
import { CONTROLLED_AFTER_WAIT, controlledPA, controlledTinySpec } from "../src/engines/tiny/controlled-spec.js";
import { TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { Judge } from "../src/judge/judge.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen } from "../src/server/reward-server.js";
import { tinyEngine, testCacheDir } from "./helpers/tiny-engine.js";

const run = promisify(execFile);
const J1 = path.resolve("bin/j1");
const FIXTURE = path.resolve("test/fixtures/controlled/pairs.jsonl");

/** The controlled judge's question: m " sure" (+1 each) and one " maybe" (−0.5): A while waits < m, then B. */
const question = (m: number) => `Which answer is better?${" sure".repeat(m)} maybe`;
const pair = (m: number) => ({ question: question(m), a: "first answer", b: "second answer" });

/** Thinking tokens before the attempted end after k waits: the start, 14 per wait, and the generated "</think>". */
const thinkingAt = (k: number) => TINY_TRAJECTORY.start.length + k * (CONTROLLED_AFTER_WAIT.length + 1) + 1;

const moment = (over: Partial<ThinkingMoment>): ThinkingMoment => ({ waitsUsed: 0, thinkingTokens: 10, probes: [], probedHere: false, ...over });
const probe = (verdict: string | null, confidence?: number, waits = 0): VerdictProbe => ({ waits, thinkingTokens: 10, verdict, confidence, evaluatedTokens: 3 });

describe("scaling policies (pure)", () => {
  it("confident: probes once, ends at P ≥ τ, else waits within the most waits, then ends", () => {
    const policy = policyOf({ ...DEFAULT_SCALING, waits: 2, stopWhen: { rule: "confident", value: 0.9 } });
    assert.deepEqual(policy.decide(moment({})), { action: "probe" });
    assert.deepEqual(policy.decide(moment({ probedHere: true, probes: [probe("A", 0.95)] })), { action: "end", reason: "confident" });
    assert.deepEqual(policy.decide(moment({ probedHere: true, probes: [probe("A", 0.6)] })), { action: "wait", text: "Wait" });
    assert.deepEqual(policy.decide(moment({ waitsUsed: 2, probedHere: true, probes: [probe("A", 0.6)] })), { action: "end", reason: "waits-used" });
    assert.deepEqual(policy.decide(moment({ probedHere: true, probes: [probe(null)] })), { action: "wait", text: "Wait" });
  });
  it("stable: ends when the last m probes read the same verdict; an unreadable one breaks the run", () => {
    const policy = policyOf({ ...DEFAULT_SCALING, waits: 8, stopWhen: { rule: "stable", value: 2 } });
    const at = (...verdicts: Array<string | null>) => policy.decide(moment({ probedHere: true, probes: verdicts.map((verdict) => probe(verdict)) }));
    assert.equal(at("A").action, "wait");
    assert.equal(at("A", "B").action, "wait");
    assert.deepEqual(at("A", "B", "B"), { action: "end", reason: "stable" });
    assert.equal(at(null, null).action, "wait");
  });
  it("the cap and the minimum bound every adaptive rule; fixed waits never probe", () => {
    const adaptive = policyOf({ ...DEFAULT_SCALING, waits: 4, minThinkingTokens: 50, maxThinkingTokens: 100, stopWhen: { rule: "confident", value: 0.5 } });
    assert.deepEqual(adaptive.decide(moment({ thinkingTokens: 20 })), { action: "wait", text: "Wait" }, "under the minimum: no probe yet");
    assert.deepEqual(adaptive.decide(moment({ thinkingTokens: 100 })), { action: "end", reason: "model" }, "at the cap: end");
    const fixed = policyOf({ ...DEFAULT_SCALING, waits: 1 });
    assert.equal(fixed.usesProbes, false);
    assert.deepEqual(fixed.decide(moment({})), { action: "wait", text: "Wait" });
    const recorded = policyOf({ ...DEFAULT_SCALING, waits: 1, probeEveryEnd: true });
    assert.deepEqual(recorded.decide(moment({})), { action: "probe" });
    assert.deepEqual(recorded.decide(moment({ probedHere: true, probes: [probe("A")] })), { action: "wait", text: "Wait" });
  });
  it("parses stopping rules and refuses bad ones, naming the flag", () => {
    assert.deepEqual(parseStopRule("confident:0.9"), { rule: "confident", value: 0.9 });
    assert.deepEqual(parseStopRule("stable:2"), { rule: "stable", value: 2 });
    for (const bad of ["confident:2", "confident:0", "stable:0", "stable:1.5", "sure:0.9", "confident", "confident:1e-1"]) {
      assert.throws(() => parseStopRule(bad), (error: Error & { context?: { field?: string } }) => error.context?.field === "--stop-when", bad);
    }
  });
  it("the integrations (promptfoo, evalite) take the same rules: stopWhen and trajectory, checked by field", () => {
    const options = parseIntegrationOptions({ waits: 4, stopWhen: "stable:2", trajectory: true }, "config");
    assert.deepEqual(scalingOf(options).stopWhen, { rule: "stable", value: 2 });
    assert.equal(scalingOf(options).probeEveryEnd, true);
    assert.throws(() => parseIntegrationOptions({ waits: 4, stopWhen: "confident:2" }, "config"), (error: Error & { context?: { field?: string } }) => error.context?.field === "config.stopWhen");
    assert.throws(() => scalingOf(parseIntegrationOptions({ stopWhen: "confident:0.9" }, "config")), /set waits/);
  });
  it("the frontier states the saving at the best fixed score, or that adaptive scaling does not pay, or does not reach it", () => {
    const point = (setting: string, value: number, score: number, thinking: number, probes = 0) => ({
      setting,
      value,
      score: { score, parts: {} } as never,
      meanThinkingTokens: thinking,
      meanEvaluatedTokens: 0,
      ...(setting === "confidence" ? { meanProbeTokens: probes } : {}),
    });
    const fixed = [point("waits", 0, 60, 10), point("waits", 2, 80, 40), point("waits", 4, 80, 70)];
    const saving = frontierOf([...fixed, point("confidence", 0.9, 80, 18, 2)]);
    assert.deepEqual(saving?.saving && { reference: saving.saving.reference, adaptive: saving.saving.adaptive, ratio: saving.saving.ratio }, { reference: "waits=2", adaptive: "confidence=0.9", ratio: 0.5 });
    assert.match(saving?.sentence ?? "", /20\.0 saved per judgment/);
    assert.match(frontierOf([...fixed, point("confidence", 0.9, 80, 45, 5)])?.sentence ?? "", /10\.0 more per judgment: adaptive scaling does not pay here/);
    assert.match(frontierOf([...fixed, point("confidence", 0.9, 70, 15, 1)])?.sentence ?? "", /no adaptive point reaches the best fixed score 80\.00/);
    assert.equal(frontierOf(fixed), undefined, "no adaptive sweep, no frontier");
  });
  it("early-stopped sampling: decided stops when the majority cannot change; sequential by the Beta–binomial rule", () => {
    assert.equal(voteSettled(["A", "A"], 5, { rule: "decided" }), false);
    assert.equal(voteSettled(["A", "A", "A"], 5, { rule: "decided" }), true);
    assert.equal(voteSettled(["A", "B", "A", "A"], 6, { rule: "decided" }), false, "3 vs 1 with 2 left could tie");
    assert.equal(leaderShareAboveHalf(3, 0), 15 / 16);
    assert.equal(leaderShareAboveHalf(0, 0), 0.5);
    assert.equal(voteSettled(["A", "A", "A", "A"], 9, { rule: "sequential", level: 0.95 }), true, "P = 31/32");
    assert.equal(voteSettled(["A", "A", "A"], 9, { rule: "sequential", level: 0.95 }), false, "P = 15/16");
    assert.deepEqual(parseSampleStop("sequential"), { rule: "sequential", level: 0.95 });
    assert.equal(typeof parseSampleStop("sequential:0.4"), "string");
  });
});

describe("adaptive scaling on the controlled judge (real node-llama-cpp)", () => {
  let engine: LlamaCppEngine;
  before(async () => {
    engine = await tinyEngine({ spec: controlledTinySpec() });
  });
  after(async () => {
    await engine.dispose();
  });
  const judgeWith = (scaling: Partial<typeof DEFAULT_SCALING>) => new Judge({ engine, chatFormat: "chatml", scaling });

  it("the engine's P(verdict) at every probe is the construction's closed form", async () => {
    const judgment = await judgeWith({ waits: 4, probeEveryEnd: true }).judgePair(pair(1));
    assert.equal(judgment.probes?.length, 5);
    for (const seen of judgment.probes ?? []) {
      // Tokens up to the verdict position: prompt, thinking, the waits, the end of thinking and "[[".
      const length = judgment.usage.promptTokens + seen.thinkingTokens + seen.waits + 2;
      assert.ok(Math.abs((seen.probabilities?.A ?? -1) - controlledPA(0.5 - seen.waits, length)) < 1e-4, `probe at ${seen.waits} waits`);
    }
    assert.deepEqual(
      judgment.probes?.map((seen) => seen.verdict),
      ["A", "B", "B", "B", "B"],
      "the verdict flips after one wait",
    );
  });

  it("confident:0.9 on an item that flips: stops at the first probe with P ≥ 0.9 (4 waits), pays for 4 rolled-back probes", async () => {
    const judgment = await judgeWith({ waits: 8, stopWhen: { rule: "confident", value: 0.9 } }).judgePair(pair(1));
    assert.equal(judgment.verdict, "B");
    assert.equal(judgment.thinkingEnd, "confident");
    assert.equal(judgment.waitsUsed, 4);
    assert.equal(judgment.usage.thinkingTokens, thinkingAt(4));
    const probes = judgment.probes ?? [];
    assert.deepEqual(
      probes.map((seen) => seen.waits),
      [0, 1, 2, 3, 4],
    );
    assert.ok((probes[3].confidence ?? 1) < 0.9 && (probes[4].confidence ?? 0) >= 0.9);
    // The last probe is the answer itself (kept, not rolled back); the four before it are the price.
    assert.equal(judgment.usage.probeTokens, probes.slice(0, 4).reduce((sum, seen) => sum + seen.evaluatedTokens, 0));
    assert.equal(judgment.usage.probeTokens, 4 * 2, "each probe: the end of thinking and the answer prefix (the verdict is read after them, never fed)");
  });

  it("on an item it is sure of, stops at once and costs what a plain judgment costs (nothing evaluated twice)", async () => {
    const plain = await judgeWith({ waits: 0 }).judgePair(pair(30));
    const adaptive = await judgeWith({ waits: 8, stopWhen: { rule: "confident", value: 0.9 } }).judgePair(pair(30));
    assert.equal(adaptive.verdict, "A");
    assert.equal(adaptive.waitsUsed, 0);
    assert.equal(adaptive.usage.probeTokens, 0);
    const beyondPrompt = (usage: typeof plain.usage) => usage.evaluatedTokens - (usage.promptTokens - usage.cachedTokens);
    assert.equal(beyondPrompt(adaptive.usage), beyondPrompt(plain.usage));
    assert.equal(adaptive.usage.thinkingTokens, plain.usage.thinkingTokens);
  });

  it("stable:2 stops once two probes in a row agree (2 waits on an item that flips after 1)", async () => {
    const judgment = await judgeWith({ waits: 8, stopWhen: { rule: "stable", value: 2 } }).judgePair(pair(1));
    assert.equal(judgment.thinkingEnd, "stable");
    assert.equal(judgment.waitsUsed, 2);
    assert.equal(judgment.verdict, "B");
    assert.equal(judgment.usage.thinkingTokens, thinkingAt(2));
  });

  it("never confident enough: uses every wait and says so", async () => {
    const judgment = await judgeWith({ waits: 3, stopWhen: { rule: "confident", value: 0.999 } }).judgePair(pair(4));
    assert.equal(judgment.thinkingEnd, "waits-used");
    assert.equal(judgment.waitsUsed, 3);
    assert.equal(judgment.probes?.length, 4);
  });

  it("one pass reads every point exactly as separate runs would (verdict, waits, thinking and probe tokens)", async () => {
    const judge = judgeWith({ waits: 8 });
    const points = [0.7, 0.9].map((value) => ({ name: `confidence=${value}`, scaling: { stopWhen: { rule: "confident", value } } }));
    const sweep = await judge.judgePairSweep(pair(2), { readAt: [...points, { name: "waits=2", scaling: { waits: 2 } }] });
    for (const point of points) {
      const alone = await judgeWith({ waits: 8, ...point.scaling }).judgePair(pair(2));
      const read = sweep.named.get(point.name);
      assert.ok(read, point.name);
      assert.equal(read.verdict, alone.verdict, point.name);
      assert.equal(read.waitsUsed, alone.waitsUsed, point.name);
      assert.equal(read.thinkingEnd, alone.thinkingEnd, point.name);
      assert.equal(read.usage.thinkingTokens, alone.usage.thinkingTokens, point.name);
      assert.equal(read.usage.probeTokens, alone.usage.probeTokens, point.name);
    }
    // confidence=0.7 is fooled at once (P(A) ≈ 0.80 before any wait); 0.9 waits until B is sure.
    assert.equal(sweep.named.get("confidence=0.7")?.verdict, "A");
    assert.equal(sweep.named.get("confidence=0.9")?.verdict, "B");
    assert.equal(sweep.named.get("waits=2")?.usage.probeTokens, 0, "a fixed point pays for no probe");
    assert.equal(sweep.own.waitsUsed, 8);
  });

  it("j1 serve takes the same options: stopWhen, trajectory, earlyStop; probes stream as their own events; bad ones name the field", async () => {
    const server = await listen(createJudgeApp({ engine, maxBodyBytes: 64 * 1024, queueLimit: 4, requestTimeoutMs: 60_000, format: { chatFormat: "chatml" } }), "127.0.0.1", 0);
    try {
      const post = (body: unknown) => fetch(`${server.url}/v1/judgments`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const reply = await post({ ...pair(1), waits: 8, stopWhen: "confident:0.9" });
      assert.equal(reply.status, 200);
      const judgment = (await reply.json()) as { waitsUsed: number; thinkingEnd: string; probes: unknown[] };
      assert.equal(judgment.thinkingEnd, "confident");
      assert.equal(judgment.waitsUsed, 4);
      assert.equal(judgment.probes.length, 5);
      const streamed = await (await post({ ...pair(1), waits: 2, trajectory: true, stream: true })).text();
      assert.equal(streamed.match(/^event: probe$/gm)?.length, 2, "two rolled-back probes; the third is the answer");
      for (const [body, field] of [
        [{ ...pair(1), waits: 8, stopWhen: "confident:3" }, "stopWhen"],
        [{ ...pair(1), stopWhen: "stable:2" }, "stopWhen"],
        [{ ...pair(1), earlyStop: "decided" }, "earlyStop"],
      ] as const) {
        const refused = await post(body);
        assert.equal(refused.status, 400);
        assert.match(((await refused.json()) as { error: string }).error, new RegExp(field));
      }
    } finally {
      await server.close();
    }
  });

  it("early-stopped sampling draws samples in seed order and stops once the vote is settled", async () => {
    const judge = judgeWith({ waits: 0 });
    const decided = await judge.judgePair(pair(30), { samples: 5, temperature: 0, earlyStop: { rule: "decided" } });
    assert.deepEqual(decided.samples, { planned: 5, used: 3, stop: "decided" });
    assert.equal(decided.runs.length, 3);
    assert.deepEqual(
      decided.runs.map((entry) => entry.sample),
      [0, 1, 2],
    );
    const sequential = await judge.judgePair(pair(30), { samples: 9, temperature: 0, earlyStop: { rule: "sequential", level: 0.95 } });
    assert.equal(sequential.samples?.used, 4, "P(share > 1/2 | 4–0) = 31/32 ≥ 0.95");
    const full = await judge.judgePair(pair(30), { samples: 5, temperature: 0 });
    assert.equal(full.runs.length, 5);
    assert.equal(full.samples, undefined);
    assert.equal(decided.verdict, full.verdict);
  });
});

describe("adaptive scaling from the CLI", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "j1-adaptive-"));
  const env = { ...process.env, J1_CACHE_DIR: testCacheDir, NO_COLOR: "1" };

  it("j1 judge --waits 8 --stop-when confident:0.9 --json records the probes, the trajectory and why thinking stopped", async () => {
    const { stdout } = await run(J1, ["judge", "--model", "tiny", "--waits", "8", "--stop-when", "confident:0.9", "--json", "--question", "2+2?", "--a", "4", "--b", "5"], { env });
    const judgment = JSON.parse(stdout);
    // The plain tiny model's P(A) is 0.731 at every probe: never 0.9, so it uses all 8 waits.
    assert.equal(judgment.thinkingEnd, "waits-used");
    assert.equal(judgment.waitsUsed, 8);
    assert.equal(judgment.probes.length, 9);
    for (const seen of judgment.probes) assert.ok(Math.abs(seen.confidence - TINY_TRAJECTORY.pAGivenAOrB) < 1e-4);
    assert.ok(judgment.usage.probeTokens > 0);
  });

  it("j1 eval with a fixed-waits and a confidence sweep on the same items: one report with both curves and the tokens saved", async () => {
    const store = path.join(dir, "runs.sqlite");
    const html = path.join(dir, "report.html");
    const args = ["eval", "--bench", "pairs", "--data", FIXTURE, "--model", "tiny-controlled", "--order", "as-given", "--waits", "8", "--sweep", "waits=0,1,2,4,8", "--sweep", "confidence=0.7,0.8,0.9", "--store", store, "--json"];
    const { stdout } = await run(J1, args, { env, maxBuffer: 64 * 1024 * 1024 });
    const report = JSON.parse(stdout);
    const bench = report.benchmarks[0];
    assert.deepEqual(
      bench.frontier.series.map((entry: { setting: string }) => entry.setting).sort(),
      ["confidence", "waits"],
    );
    const waits = bench.frontier.series.find((entry: { setting: string }) => entry.setting === "waits");
    assert.deepEqual(
      waits.points.map((point: { score: number }) => Number(point.score.toFixed(2))),
      [66.67, 83.33, 91.67, 91.67, 91.67],
      "8 sure items right at once, two flip after 1 wait, one after 2, one never",
    );
    assert.equal(bench.frontier.saving.adaptive, "confidence=0.8");
    assert.equal(bench.frontier.saving.reference, "waits=2");
    assert.ok(bench.frontier.saving.ratio < 0.75, `ratio ${bench.frontier.saving.ratio}`);
    await run(J1, ["report", report.runId, "--store", store, "--html", html], { env });
    const page = readFileSync(html, "utf8");
    assert.match(page, /Compute–accuracy frontier/);
    assert.match(page, /confidence \(adaptive\)/);
    assert.match(page, /waits \(fixed\)/);
  });

  it("j1 data sft --require-productive-reflection keeps only traces whose waits turned a wrong verdict right", async () => {
    const out = path.join(dir, "sft");
    const { stderr } = await run(
      J1,
      ["data", "sft", "--input", FIXTURE, "--model", "tiny-controlled", "--waits", "2", "--samples", "1", "--temperature", "0", "--require-productive-reflection", "--no-balance", "--output-dir", out, "--store", path.join(dir, "sft.sqlite"), "--progress", "quiet"],
      { env },
    );
    const rows = readFileSync(path.join(out, "sft-openrlhf.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { id: string; output: string });
    // Shown as given, the items that flip read A (wrong) before any wait and B (right) after 2; shown
    // swapped they start right (no turn), and the sure items are right from the start.
    assert.deepEqual(
      rows.map((row) => row.id),
      ["flip1-1:AB:0", "flip1-2:AB:0", "flip2-1:AB:0"],
    );
    for (const row of rows) assert.ok(row.output.endsWith("[[B]]"));
    assert.match(stderr, /reflection turned it right\s+3/);
  });

  it("refuses an adaptive rule or sweep without a number of waits, and --early-stop without samples (exit 2)", async () => {
    const cases = [
      ["judge", "--model", "tiny", "--stop-when", "confident:0.9", "--question", "q", "--a", "a", "--b", "b"],
      ["judge", "--model", "tiny", "--waits", "2", "--stop-when", "confident:1.5", "--question", "q", "--a", "a", "--b", "b"],
      ["judge", "--model", "tiny", "--early-stop", "decided", "--question", "q", "--a", "a", "--b", "b"],
      ["eval", "--bench", "pairs", "--data", FIXTURE, "--model", "tiny", "--sweep", "confidence=0.7", "--dry-run"],
      ["eval", "--bench", "pairs", "--data", FIXTURE, "--model", "tiny", "--sweep", "waits=1", "--sweep", "max-thinking=64", "--dry-run"],
    ];
    for (const args of cases) {
      const result = await run(J1, args, { env }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /--stop-when|--early-stop|--sweep/);
    }
  });
});
