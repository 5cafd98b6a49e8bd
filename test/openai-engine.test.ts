/**
 * The openai engine driven by the real judge against a real llama-server serving the tiny model on
 * 127.0.0.1 (built by scripts/build-llama-server.sh). Budget forcing over HTTP must give the trace the
 * in-process engine gives: the same thinking, the waits where the model tried to stop, the cap, the
 * verdict and its probability. Skipped when the binary is not built, except under CI, where it fails.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Judgment } from "../src/core/judgment.js";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { ensureTinyModel, TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";

const PAIR = { question: "2+2?", a: "4", b: "5" };
const START = TINY_TRAJECTORY.start.join("");
const AFTER_WAIT = TINY_TRAJECTORY.afterWait.join("");

function spans(judgment: Judgment, role: string) {
  return judgment.trace.filter((span) => span.role === role);
}

const binary = findLlamaServer();
if (!binary && process.env.CI) throw new Error("llama-server not built (CI must run scripts/build-llama-server.sh first, or set J1_LLAMA_SERVER)");

describe("openai engine on a real llama-server (tiny model)", { skip: binary ? false : "llama-server not built: run scripts/build-llama-server.sh" }, () => {
  let server: RunningLlamaServer;
  let engine: OpenAIEngine;

  before(async () => {
    const modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
    server = await startLlamaServer({ modelPath, binary, contextSize: 4096, parallel: 2, threads: 1 });
    engine = await createOpenAIEngine({ baseUrl: `${server.baseUrl}/v1`, concurrency: 2, timeoutMs: 30_000 });
  });
  after(async () => {
    await engine?.dispose();
    await server?.stop();
  });

  it("detects llama-server and describes itself", () => {
    const description = engine.describe();
    assert.equal(description.engine, "openai");
    assert.equal(description.flavor, "llama-server");
    assert.equal(engine.capabilities.grammar, true);
    assert.equal(engine.capabilities.tokenLevelInjection, false);
    assert.equal(engine.capabilities.parallelSessions, 2);
  });

  it("waits=2: two injected waits where the model tried to stop, verdict A with P ≈ 0.731", async () => {
    const judgment = await new Judge({ engine, scaling: { waits: 2 } }).judgePair(PAIR);
    assert.equal(judgment.status, "ok", judgment.error);
    assert.equal(judgment.verdict, "A");
    assert.equal(judgment.waitsUsed, 2);
    assert.equal(judgment.forcedEnd, false);
    const waits = spans(judgment, "wait");
    assert.deepEqual(waits.map((span) => [span.source, span.text, span.tokens]), [["injected", "Wait", 1], ["injected", "Wait", 1]]);
    assert.deepEqual(spans(judgment, "thinking").map((span) => span.text), [START, AFTER_WAIT, AFTER_WAIT]);
    // The model's own </think> (a stop string the server reported as such) ends thinking, then the verdict.
    const tail = judgment.trace.slice(-3).map((span) => [span.source, span.role, span.text]);
    assert.deepEqual(tail, [["generated", "think-end", "</think>"], ["injected", "answer-prefix", "[["], ["generated", "answer", "A]]"]]);
    assert.ok(judgment.confidence !== undefined, "llama-server returns log-probabilities");
    assert.ok(Math.abs(judgment.confidence - TINY_TRAJECTORY.pAGivenAOrB) < 0.01, `confidence ${judgment.confidence}`);
    // Token accounting as in the in-process engine: 5 + 2 × 4 thinking tokens + the model's </think>.
    assert.equal(judgment.usage.thinkingTokens, TINY_TRAJECTORY.start.length + 2 * TINY_TRAJECTORY.afterWait.length + 1);
    assert.equal(judgment.usage.injectedTokens, 3);
    assert.equal(judgment.usage.answerTokens, 2);
    // Re-sending prompt + thinking each step costs little: the server reuses its cached prefix.
    assert.ok(judgment.usage.cachedTokens > 0, `cached ${judgment.usage.cachedTokens}`);
    assert.ok(judgment.usage.evaluatedTokens < judgment.usage.cachedTokens, `evaluated ${judgment.usage.evaluatedTokens} vs cached ${judgment.usage.cachedTokens}`);
    assert.ok(!engine.warnings.some((warning) => warning.type === "other" && warning.message.includes('only "stop"')), JSON.stringify(engine.warnings));
  });

  it("the cap (maxThinkingTokens 3) forces the end of thinking", async () => {
    const judgment = await new Judge({ engine, scaling: { waits: 2, maxThinkingTokens: 3 } }).judgePair(PAIR);
    assert.equal(judgment.forcedEnd, true);
    assert.equal(judgment.waitsUsed, 0);
    assert.equal(judgment.usage.thinkingTokens, 3);
    assert.deepEqual(spans(judgment, "thinking").map((span) => span.text), [TINY_TRAJECTORY.start.slice(0, 3).join("")]);
    assert.deepEqual(spans(judgment, "think-end").map((span) => span.source), ["injected"], "the end is j1's, not the model's");
    assert.equal(judgment.verdict, "A");
  });

  it("a one-pass sweep reads the verdict at each wait count", async () => {
    const sweep = await new Judge({ engine, scaling: { waits: 2 } }).judgePairSweep(PAIR, { readAtWaits: [0, 1, 2] });
    for (const waits of [0, 1, 2]) {
      const point = sweep.points.get(waits) as Judgment;
      assert.equal(point.verdict, "A", `waits ${waits}`);
      assert.equal(point.waitsUsed, waits);
      assert.equal(spans(point, "wait").length, waits);
    }
  });

  it("the chat fallback (continue_final_message) gives the same thinking and verdict", async () => {
    const chat = await createOpenAIEngine({ baseUrl: `${server.baseUrl}/v1`, api: "chat", allowTextPrompt: true, timeoutMs: 30_000 });
    try {
      const judgment = await new Judge({ engine: chat, scaling: { waits: 1 } }).judgePair(PAIR);
      assert.equal(judgment.verdict, "A", judgment.error);
      assert.deepEqual(spans(judgment, "thinking").map((span) => span.text), [START, AFTER_WAIT]);
      assert.equal(spans(judgment, "answer")[0]?.text, "A]]");
    } finally {
      await chat.dispose();
    }
  });

  it("same inputs and seed give the same judgment; parallel judgments agree", async () => {
    const judge = new Judge({ engine, scaling: { waits: 1 } });
    const runs = await Promise.all([0, 1, 2, 3].map(() => judge.judgePair(PAIR, { seed: 11 })));
    const texts = runs.map((run) => run.trace.map((span) => span.text).join(""));
    assert.ok(texts.every((text) => text === texts[0]));
    assert.ok(runs.every((run) => run.verdict === "A"));
  });
});
