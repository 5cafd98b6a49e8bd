/**
 * The openai engine against faults a real server will not produce on demand (test/helpers/fault-server.ts):
 * retries after 429 and 500, a hang that the timeout ends, broken JSON, a 401 that is not retried,
 * cancellation, the bound on requests in flight, and the bearer key.
 */
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { J1Error } from "../src/core/errors.js";
import type { EngineSession, GenerateRequest } from "../src/engines/engine.js";
import { createOpenAIEngine, OpenAIEngine, type OpenAIEngineOptions } from "../src/engines/openai/openai-engine.js";
import { retryWithExponentialBackoff, parseRetryAfter } from "../src/engines/retry.js";
import { startFaultServer, type FaultServer } from "./helpers/fault-server.js";

let server: FaultServer;
const engines: OpenAIEngine[] = [];

before(async () => {
  server = await startFaultServer();
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  server.defaultStep = { kind: "ok", text: "fine" };
  server.requests.length = 0;
});

after(async () => {
  await server.close();
});

async function openSession(options: Partial<OpenAIEngineOptions> = {}): Promise<{ engine: OpenAIEngine; session: EngineSession }> {
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, retryDelayMs: 10, timeoutMs: 5_000, ...options });
  engines.push(engine);
  const session = await engine.open([{ text: "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n", trusted: true }]);
  return { engine, session };
}

const think: GenerateRequest = { stopAt: "</think>", maxTokens: 32, temperature: 0, seed: 1 };

async function rejection(promise: Promise<unknown>): Promise<J1Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof J1Error, `expected a J1Error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the promise to reject");
}

test("a 429 with Retry-After is retried after the server's delay", async () => {
  const { session } = await openSession();
  server.script({ kind: "status", status: 429, headers: { "retry-after": "1" } }, { kind: "ok", text: "after the wait", stopType: "word" });
  const started = Date.now();
  const result = await session.generate(think);
  const elapsed = Date.now() - started;
  assert.equal(result.text, "after the wait");
  assert.equal(result.stop, "delimiter");
  assert.equal(server.completionRequests().length, 2);
  assert.ok(elapsed >= 950, `Retry-After: 1 honoured (waited ${elapsed} ms)`);
});

test("500s are retried with backoff until an answer comes", async () => {
  const { session } = await openSession();
  server.script({ kind: "status", status: 500 }, { kind: "status", status: 503 }, { kind: "ok", text: "third time", stopType: "eos" });
  const result = await session.generate(think);
  assert.equal(result.text, "third time");
  assert.equal(result.stop, "end");
  assert.equal(server.completionRequests().length, 3);
});

test("retries are bounded: the last error says how many attempts were made", async () => {
  const { session } = await openSession({ maxRetries: 2 });
  server.defaultStep = { kind: "status", status: 500, body: '{"error":{"message":"model crashed"}}' };
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-http");
  assert.equal(error.context.status, 500);
  assert.match(error.message, /HTTP 500/);
  assert.match(error.message, /model crashed/);
  assert.match(error.message, /gave up after 3 attempts/);
  assert.match(error.message, new RegExp(`${server.baseUrl}/completions`));
  assert.equal(server.completionRequests().length, 3);
});

test("a hung request times out and is retried", async () => {
  const { session } = await openSession({ timeoutMs: 300 });
  server.script({ kind: "hang" }, { kind: "ok", text: "awake", stopType: "word" });
  const started = Date.now();
  const result = await session.generate(think);
  assert.equal(result.text, "awake");
  assert.ok(Date.now() - started >= 300, "the timeout fired first");
  assert.equal(server.completionRequests().length, 2);
});

test("a request that keeps hanging ends as a retryable engine-timeout", async () => {
  const { session } = await openSession({ timeoutMs: 200, maxRetries: 1 });
  server.defaultStep = { kind: "hang" };
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-timeout");
  assert.equal(error.isRetryable, true);
  assert.match(error.message, /within 200 ms/);
  assert.equal(server.completionRequests().length, 2);
});

test("a dropped connection is retried", async () => {
  const { session } = await openSession();
  server.script({ kind: "reset" }, { kind: "ok", text: "reconnected", stopType: "word" });
  const result = await session.generate(think);
  assert.equal(result.text, "reconnected");
  assert.equal(server.completionRequests().length, 2);
});

test("broken JSON is a clear error, not retried", async () => {
  const { session } = await openSession();
  server.script({ kind: "broken-json" });
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-http");
  assert.match(error.message, /not valid JSON/);
  assert.match(error.message, /\/v1\/completions/);
  assert.match(error.message, /trunc/, "quotes what the server sent");
  assert.equal(server.completionRequests().length, 1);
});

test("a 401 is not retried and names the key settings", async () => {
  const { session } = await openSession();
  server.script({ kind: "status", status: 401, body: '{"error":{"message":"Invalid API Key","type":"authentication_error"}}' });
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-http");
  assert.equal(error.context.status, 401);
  assert.equal(error.isRetryable, false);
  assert.match(error.message, /HTTP 401/);
  assert.match(error.message, /Invalid API Key/);
  assert.match(error.message, /--api-key/);
  assert.equal(server.completionRequests().length, 1);
});

test("cancellation aborts a request in flight promptly", async () => {
  const { session } = await openSession({ timeoutMs: 10_000 });
  server.script({ kind: "hang" });
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 50);
  const error = await rejection(session.generate({ ...think, signal: controller.signal }));
  assert.equal(error.code, "cancelled");
  assert.ok(Date.now() - started < 1_000, `cancelled in ${Date.now() - started} ms`);
  assert.equal(server.completionRequests().length, 1, "a cancelled request is not retried");
});

test("cancellation also ends a wait between retries", async () => {
  const { session } = await openSession({ retryDelayMs: 5_000 });
  server.script({ kind: "status", status: 503 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const started = Date.now();
  const error = await rejection(session.generate({ ...think, signal: controller.signal }));
  assert.equal(error.code, "cancelled");
  assert.ok(Date.now() - started < 1_000);
});

test("disposing the engine cancels its requests in flight", async () => {
  const { engine, session } = await openSession({ timeoutMs: 10_000 });
  server.script({ kind: "hang" });
  const pending = rejection(session.generate(think));
  setTimeout(() => void engine.dispose(), 50);
  assert.equal((await pending).code, "cancelled");
});

test("at most `concurrency` requests are in flight, however many sessions run", async () => {
  const before = server.maxInFlight;
  assert.ok(before <= 1);
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, concurrency: 3 });
  engines.push(engine);
  assert.equal(engine.capabilities.parallelSessions, 3);
  server.defaultStep = { kind: "ok", text: "slow", delayMs: 80, stopType: "word" };
  const sessions = await Promise.all(Array.from({ length: 10 }, () => engine.open([{ text: "prompt", trusted: true }])));
  const results = await Promise.all(sessions.map((session) => session.generate(think)));
  assert.ok(results.every((result) => result.text === "slow"));
  assert.equal(server.maxInFlight, 3, "the bound was reached and never passed");
});

test("the API key arrives as a Bearer header on every request; J1_API_KEY is the fallback", async () => {
  const { session } = await openSession({ apiKey: "sk-test-123" });
  await session.generate(think);
  assert.ok(server.requests.length >= 2);
  for (const request of server.requests) assert.equal(request.headers.authorization, "Bearer sk-test-123", `${request.method} ${request.path}`);

  server.requests.length = 0;
  const saved = process.env.J1_API_KEY;
  process.env.J1_API_KEY = "sk-from-env";
  try {
    const { session: second } = await openSession();
    await second.generate(think);
  } finally {
    if (saved === undefined) delete process.env.J1_API_KEY;
    else process.env.J1_API_KEY = saved;
  }
  assert.equal(server.completionRequests()[0].headers.authorization, "Bearer sk-from-env");
});

test("requests are raw completions of the session text, shaped for llama-server", async () => {
  const { engine, session } = await openSession();
  assert.equal(engine.describe().flavor, "llama-server");
  server.script({ kind: "ok", text: "Let me think.", stopType: "word" });
  const step = await session.generate(think);
  assert.equal(step.stop, "delimiter");
  await session.append("Wait");
  server.script({ kind: "ok", text: " Sure.", stopType: "word" });
  await session.generate(think);
  const [first, second] = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(first.prompt, "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n");
  assert.equal(second.prompt, `${first.prompt}Let me think.Wait`, "prompt + thinking + injected wait, re-sent");
  assert.deepEqual(first.stop, ["</think>"]);
  assert.equal(first.max_tokens, 32);
  assert.equal(first.cache_prompt, true);
  assert.equal(first.stream, false);
  assert.equal(first.model, "fault-model");
});

test("answer: grammar for llama-server, the suffix put back, probabilities normalised over the choices", async () => {
  const { session } = await openSession();
  server.script({ kind: "ok", text: "A", stopType: "word", firstTokenLogprobs: { A: Math.log(0.6), B: Math.log(0.2), C: Math.log(0.1) } });
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "A]]");
  assert.ok(answer.choiceProbabilities);
  assert.ok(Math.abs((answer.choiceProbabilities.A ?? 0) - 0.75) < 1e-9);
  assert.ok(Math.abs((answer.choiceProbabilities.B ?? 0) - 0.25) < 1e-9);
  const body = server.completionRequests()[0].body as Record<string, unknown>;
  assert.equal(body.grammar, 'root ::= ("A" | "B") "]]"');
  assert.equal(body.logprobs, 5);
  assert.deepEqual(body.stop, ["]]"]);
});

test("without /tokenize, counts are estimates and the engine says so", async () => {
  const bare = await startFaultServer({ tokenize: false });
  try {
    const engine = await createOpenAIEngine({ baseUrl: bare.baseUrl, retryDelayMs: 10 });
    engines.push(engine);
    const session = await engine.open([{ text: "a prompt of some length", trusted: true }]);
    assert.equal(session.promptTokens, Math.ceil("a prompt of some length".length / 4));
    assert.ok(engine.warnings.some((warning) => warning.type === "unsupported" && warning.setting === "tokenize"));
  } finally {
    await bare.close();
  }
});

test("retry helper: only retryable errors are retried, Retry-After parsing", async () => {
  let calls = 0;
  await assert.rejects(
    retryWithExponentialBackoff(async () => {
      calls++;
      throw new J1Error("engine-http", "bad request", { context: { status: 400 } });
    }),
    /bad request/,
  );
  assert.equal(calls, 1);
  calls = 0;
  const value = await retryWithExponentialBackoff(
    async () => {
      calls++;
      if (calls < 3) throw new J1Error("engine-http", "busy", { retryable: true });
      return "done";
    },
    { initialDelayMs: 1 },
  );
  assert.equal(value, "done");
  assert.equal(calls, 3);
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 3000).toUTCString(), Date.now()) !== undefined, true);
  assert.equal(parseRetryAfter("soon"), undefined);
});

test("chat fallback: the rendered prompt as a user message, the continuation as a partial assistant message", async () => {
  const { session } = await openSession({ api: "chat" });
  server.script({ kind: "ok", text: "Thinking.", stopType: "word" }, { kind: "ok", text: " More.", stopType: "eos" });
  assert.equal((await session.generate(think)).text, "Thinking.");
  await session.append("Wait");
  const step = await session.generate(think);
  assert.equal(step.text, " More.");
  assert.equal(step.stop, "end");
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.ok(server.completionRequests().every((request) => request.path === "/v1/chat/completions"));
  assert.deepEqual(bodies[1].messages, [
    { role: "user", content: "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n" },
    { role: "assistant", content: "Thinking.Wait" },
  ]);
  assert.equal(bodies[1].continue_final_message, true);
  assert.equal(bodies[1].add_generation_prompt, false);
  assert.equal(bodies[1].reasoning_format, "none");
});

test("a server that says only \"stop\" is read as end of generation, with a warning", async () => {
  const { engine, session } = await openSession({ flavor: "generic" });
  server.script({ kind: "ok", text: "Done.", stopType: "word" });
  const step = await session.generate(think);
  assert.equal(step.stop, "end");
  assert.ok(engine.warnings.some((warning) => warning.type === "other" && warning.message.includes('only "stop"')));
  const body = server.completionRequests()[0].body as Record<string, unknown>;
  assert.equal(body.skip_special_tokens, false);
  assert.equal(body.add_special_tokens, false);
  assert.equal(body.verbose, undefined);
});
