/**
 * Long thinking over HTTP is asked for in chunks, so no single request outlives the per-request timeout
 * (one 4,096-token request to a CPU llama-server took 609 s and failed at the 120 s timeout). Checked on
 * the scripted server (test/helpers/fault-server.ts: one token per character) for the request shapes and
 * the stop text written across two chunks; on a real llama-server the chunked trace is checked equal to
 * the in-process one (test/real-model-conformance.test.ts).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import type { EngineSession } from "../src/engines/engine.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { FAULT_BOS, faultTokens, startFaultServer, type FaultServer } from "./helpers/fault-server.js";

let server: FaultServer;
const engines: OpenAIEngine[] = [];
const PROMPT = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n";

before(async () => {
  server = await startFaultServer();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  server.requests.length = 0;
});
after(async () => {
  await server.close();
});

async function openSession(thinkingChunkTokens: number): Promise<EngineSession> {
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, retryDelayMs: 10, timeoutMs: 5_000, thinkingChunkTokens });
  engines.push(engine);
  return engine.open([{ text: PROMPT, trusted: true }]);
}

const promptIds = [FAULT_BOS, ...faultTokens(PROMPT)];
const thinkingRequests = () => server.completionRequests().map((request) => request.body as { prompt: number[]; n_predict: number; stop: string[] });

test("thinking of 20 tokens: a first chunk of 8, then one sized from the measured speed, each continuing the sequence the last one left", async () => {
  const session = await openSession(8);
  server.script({ kind: "ok", text: "abcdefgh", stopType: "limit" }, { kind: "ok", text: "ijklmnopqrst", stopType: "limit" });
  const seen: string[] = [];
  const result = await session.generate({ stopAt: "</think>", maxTokens: 20, temperature: 0, seed: 7, onText: (text) => seen.push(text) });
  assert.deepEqual(result, { text: "abcdefghijklmnopqrst", tokens: 20, stop: "length" });
  const requests = thinkingRequests();
  assert.equal(requests.length, 2);
  assert.deepEqual(requests[0].prompt, promptIds);
  assert.deepEqual(requests[1].prompt, [...promptIds, ...faultTokens("abcdefgh")]);
  // The second chunk is sized from the speed (this server answers in milliseconds, so far more than 8 a
  // chunk), and asks only for what the cap leaves; every chunk stops at the end of thinking.
  assert.deepEqual(requests.map((request) => request.n_predict), [8, 12]);
  for (const request of requests) assert.deepEqual(request.stop, ["</think>"]);
  // Progress arrives chunk by chunk.
  assert.deepEqual(seen, ["abcdefgh", "ijklmnopqrst"]);
});

test("a server that stops short of the tokens asked for at its own limit is not asked again", async () => {
  const session = await openSession(8);
  server.script({ kind: "ok", text: "abcde", stopType: "limit" });
  const result = await session.generate({ stopAt: "</think>", maxTokens: 100, temperature: 0, seed: 7 });
  assert.deepEqual(result, { text: "abcde", tokens: 5, stop: "length" });
  assert.equal(thinkingRequests().length, 1);
});

test("the model's end of thinking inside a chunk ends the generation there: no further chunk is asked for", async () => {
  const session = await openSession(8);
  server.script({ kind: "ok", text: "abcdefgh", stopType: "limit" }, { kind: "ok", text: "ijk", stopType: "word" });
  const result = await session.generate({ stopAt: "</think>", maxTokens: 100, temperature: 0, seed: 7 });
  assert.deepEqual(result, { text: "abcdefghijk", tokens: 11, stop: "delimiter" });
  assert.equal(thinkingRequests().length, 2);
});

test("a chunk ending with the start of the stop text gives those tokens back, so the next request sees the stop text whole", async () => {
  const session = await openSession(8);
  // The model wrote "</" as the last tokens of the first chunk; asked again from before them, it writes
  // "</think>" whole, which the server now matches as its stop string.
  server.script({ kind: "ok", text: "abcdef</", stopType: "limit" }, { kind: "ok", text: "", stopType: "word" });
  const result = await session.generate({ stopAt: "</think>", maxTokens: 100, temperature: 0, seed: 7 });
  assert.deepEqual(result, { text: "abcdef", tokens: 6, stop: "delimiter" });
  const requests = thinkingRequests();
  assert.equal(requests.length, 2);
  assert.deepEqual(requests[1].prompt, [...promptIds, ...faultTokens("abcdef")]);
});

test("a stop-text start that is a real part of the thinking is kept once the next chunk shows it is not the stop text", async () => {
  const session = await openSession(8);
  // "a</b" is ordinary text: given back, the model writes "</b>" and goes on.
  server.script({ kind: "ok", text: "abcdef</", stopType: "limit" }, { kind: "ok", text: "</b>xyz", stopType: "eos" });
  const result = await session.generate({ stopAt: "</think>", maxTokens: 100, temperature: 0, seed: 7 });
  assert.deepEqual(result, { text: "abcdef</b>xyz", tokens: 13, stop: "end" });
});

test("sampled chunks get seeds of their own; the first keeps the caller's", async () => {
  const session = await openSession(8);
  server.script({ kind: "ok", text: "abcdefgh", stopType: "limit" }, { kind: "ok", text: "ij", stopType: "eos" });
  await session.generate({ stopAt: "</think>", maxTokens: 100, temperature: 1, seed: 7 });
  const seeds = server.completionRequests().map((request) => (request.body as { seed: number }).seed);
  assert.equal(seeds.length, 2, "two chunks");
  assert.equal(seeds[0], 7);
  assert.notEqual(seeds[1], 7);
});
