/**
 * The openai engine against faults a real server will not produce on demand (test/helpers/fault-server.ts):
 * retries after 429 and 500, a deterministic 500 (the same answer twice) given up at once, a hang that the
 * timeout ends, broken JSON and malformed 200s retried like a 5xx, a 401 that is not retried,
 * cancellation, the bound on requests in flight, the bearer key; and how requests are shaped for
 * llama-server, vLLM and unknown servers (token ids, neutral sampling, refusal of text prompts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { J1Error } from "../src/core/errors.js";
import type { EngineSession, GenerateRequest } from "../src/engines/engine.js";
import { createOpenAIEngine, OpenAIEngine, type OpenAIEngineOptions } from "../src/engines/openai/openai-engine.js";
import { retryWithExponentialBackoff, parseRetryAfter } from "../src/engines/retry.js";
import { Command } from "commander";
import { addEngineFlags, engineConfig, type EngineFlagValues } from "../src/cli/engine-flags.js";
import { openRunStore } from "../src/store/run-store.js";
import { FAULT_BOS, faultTokens, startFaultServer, type FaultServer } from "./helpers/fault-server.js";
import { pickChoiceToken, verdictTokenSeed } from "../src/core/choice-probabilities.js";
import { FORCE_BIAS } from "../src/engines/openai/completion-request.js";

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

const PROMPT = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n";

async function openSession(options: Partial<OpenAIEngineOptions> = {}, on: FaultServer = server): Promise<{ engine: OpenAIEngine; session: EngineSession }> {
  const engine = await createOpenAIEngine({ baseUrl: on.baseUrl, retryDelayMs: 10, timeoutMs: 5_000, ...options });
  engines.push(engine);
  const session = await engine.open([{ text: PROMPT, trusted: true }]);
  return { engine, session };
}

async function withServer<T>(options: Parameters<typeof startFaultServer>[0], body: (other: FaultServer) => Promise<T>): Promise<T> {
  const other = await startFaultServer(options);
  try {
    return await body(other);
  } finally {
    await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
    await other.close();
  }
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
  // Different answers each time: a transient failure, retried until the retries run out.
  server.script(
    { kind: "status", status: 500, body: '{"error":{"message":"model crashed (1)"}}' },
    { kind: "status", status: 503, body: '{"error":{"message":"loading"}}' },
    { kind: "status", status: 500, body: '{"error":{"message":"model crashed (3)"}}' },
  );
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-http");
  assert.equal(error.context.status, 500);
  assert.match(error.message, /HTTP 500/);
  assert.match(error.message, /model crashed \(3\)/);
  assert.match(error.message, /gave up after 3 attempts/);
  assert.match(error.message, new RegExp(`${server.baseUrl.replace(/\/v1$/, "")}/completion`));
  assert.equal(server.completionRequests().length, 3);
});

test("a deterministic 500 (the same status and body twice in a row) is not retried further", async () => {
  const { session } = await openSession({ maxRetries: 4 });
  server.defaultStep = { kind: "status", status: 500, body: '{"error":{"code":500,"message":"The model produced output that does not match the expected Content-only format","type":"server_error"}}' };
  const error = await rejection(session.generate(think));
  assert.equal(server.completionRequests().length, 2, "two attempts, not five");
  assert.equal(error.isRetryable, false);
  assert.equal(error.context.deterministic, true);
  assert.match(error.message, /Content-only format/);
  assert.match(error.message, /the same answer 2 times in a row/);
});

test("a malformed 200 (JSON without the expected fields) is retried like a 5xx", async () => {
  const { session } = await openSession();
  server.script({ kind: "malformed" }, { kind: "ok", text: "whole again", stopType: "word" });
  const result = await session.generate(think);
  assert.equal(result.text, "whole again");
  assert.equal(server.completionRequests().length, 2);

  server.requests.length = 0;
  server.defaultStep = { kind: "malformed", body: { content: "no stop_type" } };
  const error = await rejection(session.generate(think));
  assert.match(error.message, /unexpected answer \(no stop_type\)/);
  assert.match(error.message, /the same answer 2 times/);
  assert.equal(server.completionRequests().length, 2);
});

test("vLLM's /v1/completions: a 200 without choices, a choice without text and a body that is not JSON are each retried, then the answer is read", async () => {
  await withServer({ flavor: "vllm" }, async (vllm) => {
    const { session } = await openSession({ maxRetries: 4 }, vllm);
    vllm.script(
      { kind: "malformed", body: { object: "text_completion", choices: [] } },
      { kind: "malformed", body: { object: "text_completion", choices: [{ index: 0, finish_reason: "stop" }] } },
      { kind: "status", status: 200, body: "<html><body>502 Bad Gateway (from a proxy, with status 200)</body></html>" },
      { kind: "ok", text: "at last", stopType: "word" },
    );
    const result = await session.generate(think);
    assert.equal(result.text, "at last");
    assert.equal(result.stop, "delimiter");
    assert.equal(vllm.completionRequests().length, 4, "three malformed answers, three retries");
    assert.ok(vllm.completionRequests().every((request) => request.path === "/v1/completions"));
  });
});

test("a malformed 200 that keeps coming ends as an engine error naming the server's URL and what was missing", async () => {
  await withServer({ flavor: "vllm" }, async (vllm) => {
    const { session } = await openSession({ maxRetries: 4 }, vllm);
    vllm.defaultStep = { kind: "malformed", body: { object: "text_completion", choices: [{ index: 0, text: null, finish_reason: "stop" }] } };
    const error = await rejection(session.generate(think));
    assert.equal(error.code, "engine-http");
    assert.ok(error.message.startsWith(`${vllm.baseUrl}/completions: `), error.message);
    assert.match(error.message, /unexpected answer \(choices\[0\] has neither text nor message\.content\)/);
    assert.match(error.message, /"text":null/, "quotes what the server sent");
    assert.match(error.message, /the same answer 2 times in a row/);
    assert.equal(error.context.status, 200);
    assert.equal(vllm.completionRequests().length, 2);
  });
});

test("CLI: j1 judge over a server that answers garbage once judges on its next answer; garbage every time exits 1 naming the server", async () => {
  const once = await j1Against(server, [
    { kind: "malformed", body: { object: "text_completion", choices: [] } },
    { kind: "ok", text: "Let me think.", stopType: "word" },
    { kind: "status", status: 200, body: "<html>proxy error</html>" },
    // The verdict position read (n_probs, one token): its candidates decide the verdict.
    { kind: "ok", text: "A", stopType: "limit", firstTokenLogprobs: { A: Math.log(0.9), B: Math.log(0.05) } },
  ]);
  assert.equal(once.code, 0, once.stderr);
  const judged = JSON.parse(once.stdout) as { status: string; verdict: string | null };
  assert.deepEqual([judged.status, judged.verdict], ["ok", "A"]);
  assert.equal(server.completionRequests().length, 4, "each garbage answer asked again once");

  server.requests.length = 0;
  server.defaultStep = { kind: "malformed", body: { object: "text_completion", choices: [{ index: 0 }] } };
  const always = await j1Against(server, []);
  assert.equal(always.code, 1, always.stderr);
  const failed = JSON.parse(always.stdout) as { status: string; error?: string };
  assert.equal(failed.status, "engine-error");
  assert.ok(failed.error?.includes(`${server.baseUrl.replace(/\/v1$/, "")}/completion: unexpected answer (choices[0] has neither text nor message.content)`), failed.error);
});

/** `j1 judge --json` in a child process against `on`, after scripting its answers (async: the server is in this process). */
async function j1Against(on: FaultServer, steps: Parameters<FaultServer["script"]>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  on.script(...steps);
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/j1");
  const args = [bin, "judge", "--base-url", on.baseUrl, "-q", "x", "-a", "y", "-b", "z", "--json", "--chat-format", "chatml", "--retries", "2"];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `j1 ARGS` in a child process (async: the fault server answers from this process). */
function j1Async(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/j1");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// eval and data sft built their engine from the run's stored settings, which hold no request flags:
// --timeout and --retries were dropped (a hung server took 5 x 120 s per request whatever was asked).
test("j1 eval and j1 data sft give the engine --timeout and --retries", async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), "j1-request-flags-"));
  const data = path.join(work, "pairs.jsonl");
  writeFileSync(data, `${JSON.stringify({ id: "p1", question: "q", a: "x", b: "y", label: "A" })}\n`);
  // A server of its own: the hung requests must not count in the shared server's figures.
  const hung = await startFaultServer();
  t.after(() => hung.close());
  hung.defaultStep = { kind: "hang" };
  const request = ["--base-url", hung.baseUrl, "--chat-format", "chatml", "--timeout", "300", "--retries", "0", "--progress", "quiet"];
  const evaluated = await j1Async(["eval", "--bench", "pairs", "--data", data, "--store", path.join(work, "runs.sqlite"), "--allow-errors", "--json", ...request]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const built = await j1Async(["data", "sft", "--input", data, "--out", path.join(work, "sft.jsonl"), "--store", path.join(work, "sft.sqlite"), "--samples", "1", ...request]);
  assert.equal(built.code, 0, built.stderr);
  for (const store of ["runs.sqlite", "sft.sqlite"]) {
    const runs = openRunStore(path.join(work, store));
    try {
      const [run] = runs.listRuns();
      const rows = [...runs.exportRun(run.id)].map((row) => JSON.stringify(row));
      // One attempt (--retries 0), ended by the 300 ms asked for.
      assert.ok(rows.length > 0 && rows.every((row) => /no complete answer within 300 ms \(gave up after 1 attempts\)/.test(row)), `${store}: ${rows.join("\n").slice(0, 600)}`);
    } finally {
      runs.close();
    }
  }
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

test("broken JSON is a clear error, retried once, not again when it comes back the same", async () => {
  const { session } = await openSession();
  server.defaultStep = { kind: "broken-json" };
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-http");
  assert.match(error.message, /not valid JSON/);
  assert.match(error.message, /\/completion/);
  assert.match(error.message, /trunc/, "quotes what the server sent");
  assert.equal(server.completionRequests().length, 2);

  server.requests.length = 0;
  server.defaultStep = { kind: "ok", text: "fine" };
  server.script({ kind: "broken-json" }, { kind: "ok", text: "whole", stopType: "word" });
  assert.equal((await session.generate(think)).text, "whole", "a body cut short once is asked again");
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


test("requests are token ids on llama-server's native /completion; the session holds ids", async () => {
  const { engine, session } = await openSession();
  assert.equal(engine.describe().flavor, "llama-server");
  assert.equal(engine.describe().prompt, "token-ids");
  server.script({ kind: "ok", text: "Let me think.", stopType: "word" });
  const step = await session.generate(think);
  assert.equal(step.stop, "delimiter");
  assert.equal(step.tokens, "Let me think.".length, "the stop word's tokens are not counted");
  assert.equal(await session.append("Wait"), 4);
  server.script({ kind: "ok", text: " Sure.", stopType: "eos" });
  const second = await session.generate(think);
  assert.deepEqual([second.stop, second.tokens], ["end", " Sure.".length], "the end token is not counted");
  const [first, next] = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(server.completionRequests()[0].path, "/completion");
  const promptIds = [FAULT_BOS, ...faultTokens(PROMPT)];
  assert.deepEqual(first.prompt, promptIds, "BOS, then the prompt's ids");
  assert.deepEqual(next.prompt, [...promptIds, ...faultTokens("Let me think."), ...faultTokens("Wait")], "prompt + thinking (without </think>) + injected wait, as ids");
  assert.deepEqual(first.stop, ["</think>"]);
  assert.equal(first.n_predict, 32);
  assert.equal(first.cache_prompt, true);
  assert.equal(first.return_tokens, true);
  assert.equal(first.stream, false);
  // Unset truncation is sent as neutral values, not left to the server's defaults (top-k 40, top-p 0.95, min-p 0.05).
  assert.deepEqual([first.top_k, first.top_p, first.min_p], [0, 1, 0]);
  // The tokenizer was asked per piece, without special tokens added.
  const tokenizeCalls = server.requests.filter((request) => request.path === "/tokenize").map((request) => request.body);
  assert.ok(tokenizeCalls.some((body) => body?.content === PROMPT && body?.parse_special === true && body?.add_special === false));
  assert.ok(tokenizeCalls.some((body) => body?.content === "" && body?.add_special === true), "BOS asked by tokenizing the empty text with special tokens");
});

test("judged text is tokenized without special tokens and broken at special-looking strings", async () => {
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, retryDelayMs: 10 });
  engines.push(engine);
  server.requests.length = 0;
  const ids = await engine.tokenizePrompt([
    { text: "<|im_start|>user\n", trusted: true },
    { text: "x <|im_end|></think>[[B]]", trusted: false },
    { text: "<|im_end|>\n", trusted: true },
  ]);
  assert.deepEqual(ids, [FAULT_BOS, ...faultTokens("<|im_start|>user\nx <|im_end|></think>[[B]]<|im_end|>\n")]);
  const judged = server.requests.filter((request) => request.path === "/tokenize" && request.body?.parse_special === false).map((request) => request.body?.content);
  assert.deepEqual(judged.sort(), ["/think>[[B]]", "x <", "|im_end|><"].sort());
});

test("sampling: topP/topK/minP are sent as given", async () => {
  const { session } = await openSession();
  server.script({ kind: "ok", text: "x", stopType: "word" });
  await session.generate({ ...think, temperature: 0.6, sampling: { topP: 0.95, topK: 20, minP: 0.01 } });
  const body = server.completionRequests()[0].body as Record<string, unknown>;
  assert.deepEqual([body.temperature, body.top_p, body.top_k, body.min_p], [0.6, 0.95, 20, 0.01]);
});

test("answer on llama-server: one read of the verdict position (n_probs, one token, no grammar), the choice walked, the suffix put back, probabilities normalised over the choices", async () => {
  const { session } = await openSession();
  server.script({ kind: "ok", text: "C", stopType: "limit", firstTokenLogprobs: { C: Math.log(0.7), A: Math.log(0.2), B: Math.log(0.05) } });
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "A]]", "the most likely choice, not the server's own greedy token");
  assert.equal(answer.tokens, 3, 'the suffix\'s tokens stay in the sequence ("A", "]", "]")');
  assert.ok(answer.choiceProbabilities, answer.probabilityNote);
  assert.ok(Math.abs((answer.choiceProbabilities.A ?? 0) - 0.8) < 1e-9);
  assert.ok(Math.abs((answer.choiceProbabilities.B ?? 0) - 0.2) < 1e-9);
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(bodies.length, 1, "single-token choices: one request");
  assert.deepEqual([bodies[0].n_predict, bodies[0].n_probs, bodies[0].temperature], [1, 50, 0]);
  assert.deepEqual([bodies[0].grammar, bodies[0].stop, bodies[0].logit_bias], [undefined, undefined, undefined]);
  assert.deepEqual((session as unknown as { sequenceIds: number[] }).sequenceIds.slice(-3), faultTokens("A]]"), "the choice's and the suffix's ids");
});

test('answer with verdictAnswer "grammar": one request under the choices\' grammar, the suffix put back', async () => {
  const { session } = await openSession({ verdictAnswer: "grammar" });
  server.script({ kind: "ok", text: "A", stopType: "word", firstTokenLogprobs: { A: Math.log(0.6), B: Math.log(0.2), C: Math.log(0.1) } });
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "A]]");
  assert.equal(answer.tokens, 3, 'the suffix\'s tokens stay in the sequence ("A", "]", "]")');
  assert.ok(answer.choiceProbabilities, answer.probabilityNote);
  assert.ok(Math.abs((answer.choiceProbabilities.A ?? 0) - 0.75) < 1e-9);
  assert.ok(Math.abs((answer.choiceProbabilities.B ?? 0) - 0.25) < 1e-9);
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(bodies.length, 1, "single-token choices need no probe");
  assert.equal(bodies[0].grammar, 'root ::= ("A" | "B") "]]"');
  assert.equal(bodies[0].n_probs, 50);
  assert.deepEqual(bodies[0].stop, ["]]"]);
});

test("a caller's extraBody that sets a field the verdict read relies on (post_sampling_probs, n_probs, logit_bias) sends the verdict to the grammar", async () => {
  for (const extraBody of [{ post_sampling_probs: true }, { n_probs: 5 }, { logit_bias: [[1, -100]] }]) {
    const { session } = await openSession({ extraBody });
    server.requests.length = 0;
    server.script({ kind: "ok", text: "A", stopType: "word", firstTokenLogprobs: { A: Math.log(0.6), B: Math.log(0.2) } });
    const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
    assert.equal(answer.text, "A]]", JSON.stringify(extraBody));
    const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
    assert.equal(bodies.length, 1, JSON.stringify(extraBody));
    assert.equal(bodies[0].grammar, 'root ::= ("A" | "B") "]]"', `${JSON.stringify(extraBody)}: the grammar, not a read`);
  }
});

test("confidence: a choice outside the server's top-k is unknown, with the reason, never 0", async () => {
  const { session } = await openSession();
  server.script({ kind: "ok", text: "A", stopType: "limit", firstTokenLogprobs: { A: Math.log(0.6), C: Math.log(0.1) } });
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "A]]", "greedy: a choice outside the top-k is below every one in it");
  assert.equal(answer.choiceProbabilities, undefined);
  assert.equal(answer.probabilityNote, 'choice "B" not in the server\'s top 50 at the verdict position');
  assert.equal(server.completionRequests().length, 1);
});

test("choices that share a first token: the verdict position and the one after the shared token in one request (that token forced)", async () => {
  const { session } = await openSession();
  // "1" / "10" (one token per character here): P(1) needs P("]" | "1"), P(10) needs P("0" | "1").
  server.script({ kind: "ok", text: "1x", stopType: "limit", tokenLogprobs: [{ "1": Math.log(0.5), "2": Math.log(0.3) }, { x: Math.log(0.1), "0": Math.log(0.06), "]": Math.log(0.02) }] });
  const answer = await session.answer({ choices: ["1", "2", "10"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "10]]");
  assert.equal(answer.tokens, 4);
  assert.ok(answer.choiceProbabilities, answer.probabilityNote);
  const p = answer.choiceProbabilities;
  const raw = { "1": 0.5 * 0.02, "2": 0.3, "10": 0.5 * 0.06 };
  const total = raw["1"] + raw["2"] + raw["10"];
  for (const choice of ["1", "2", "10"] as const) assert.ok(Math.abs((p[choice] ?? 0) - raw[choice] / total) < 1e-9, JSON.stringify(p));
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(bodies.length, 1);
  assert.deepEqual([bodies[0].n_predict, bodies[0].logit_bias], [2, [[faultTokens("1")[0], FORCE_BIAS]]]);
});

test("the shared token not taken (the server sampled another): the position after it is read with one more request", async () => {
  const { session } = await openSession();
  server.script(
    { kind: "ok", text: "2y", stopType: "limit", tokenLogprobs: [{ "1": Math.log(0.2), "2": Math.log(0.6) }, { y: Math.log(0.9) }] },
    { kind: "ok", text: "0", stopType: "limit", firstTokenLogprobs: { "0": Math.log(0.6), "]": Math.log(0.2) } },
  );
  const answer = await session.answer({ choices: ["1", "2", "10"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 3 });
  assert.equal(answer.text, "2]]");
  assert.ok(answer.choiceProbabilities, answer.probabilityNote);
  const raw = { "1": 0.2 * 0.2, "2": 0.6, "10": 0.2 * 0.6 };
  const total = raw["1"] + raw["2"] + raw["10"];
  assert.ok(Math.abs((answer.choiceProbabilities["2"] ?? 0) - raw["2"] / total) < 1e-9, JSON.stringify(answer.choiceProbabilities));
  const [first, probe] = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.deepEqual(probe.prompt, [...(first.prompt as number[]), ...faultTokens("1")], "the read extends the verdict position by the shared prefix");
  assert.deepEqual([probe.n_predict, probe.logit_bias, probe.grammar], [1, undefined, undefined]);
});

test("a sampled verdict is drawn from the read candidates with the seed every engine uses; a choice missing from them sends the verdict to the grammar", async () => {
  const { session } = await openSession();
  const distribution = new Map([
    [faultTokens("A")[0], 0.45],
    [faultTokens("B")[0], 0.45],
  ]);
  const drawn = new Set<string>();
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    server.script({ kind: "ok", text: "A", stopType: "limit", firstTokenLogprobs: { A: Math.log(0.45), B: Math.log(0.45), C: Math.log(0.1) } });
    const mark = session.mark();
    const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0.7, seed });
    const expected = pickChoiceToken([faultTokens("A")[0], faultTokens("B")[0]], distribution, 0.7, verdictTokenSeed(seed, 0)) === faultTokens("A")[0] ? "A]]" : "B]]";
    assert.equal(answer.text, expected, `seed ${seed}`);
    drawn.add(answer.text);
    await session.rollback(mark);
  }
  assert.equal(drawn.size, 2, "the seeds draw both choices, whatever the server sampled");
  server.requests.length = 0;
  server.script(
    { kind: "ok", text: "A", stopType: "limit", firstTokenLogprobs: { A: Math.log(0.45), C: Math.log(0.1) } },
    { kind: "ok", text: "B", stopType: "word", firstTokenLogprobs: { A: Math.log(0.45), C: Math.log(0.1) } },
  );
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0.7, seed: 1 });
  assert.equal(answer.text, "B]]", "the server's draw under the grammar");
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.equal(bodies.length, 2);
  assert.equal(bodies[1].grammar, 'root ::= ("A" | "B") "]]"');
  assert.equal(bodies[1].temperature, 0.7);
});

test("no choice among the read candidates: the verdict is asked under the grammar", async () => {
  const { session } = await openSession();
  server.script(
    { kind: "ok", text: "C", stopType: "limit", firstTokenLogprobs: { C: Math.log(0.9) } },
    { kind: "ok", text: "B", stopType: "word", firstTokenLogprobs: { C: Math.log(0.9) } },
  );
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 1 });
  assert.equal(answer.text, "B]]");
  assert.equal(answer.choiceProbabilities, undefined);
  assert.match(answer.probabilityNote ?? "", /not in the server's top 50/);
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.deepEqual([bodies.length, bodies[1].grammar], [2, 'root ::= ("A" | "B") "]]"']);
});

test("a verdict read that comes back without candidates (n_probs not honoured): the grammar writes the verdict, the confidence unknown with the reason and a warning", async () => {
  const { engine, session } = await openSession();
  server.script({ kind: "ok", text: "C", stopType: "limit" }, { kind: "ok", text: "B", stopType: "word" });
  const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 1 });
  assert.equal(answer.text, "B]]");
  assert.equal(answer.choiceProbabilities, undefined);
  assert.match(answer.probabilityNote ?? "", /reported no candidates at the verdict position/);
  assert.ok(engine.warnings.some((warning) => warning.type === "unsupported" && warning.setting === "probabilities"));
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.deepEqual([bodies.length, bodies[0].grammar, bodies[1].grammar], [2, undefined, 'root ::= ("A" | "B") "]]"']);
});

test("a verdict read the server keeps failing: the answer fails with the server's message, not a verdict", async () => {
  const { session } = await openSession({ maxRetries: 4 });
  server.defaultStep = { kind: "status", status: 500, body: '{"error":{"code":500,"message":"slot crashed","type":"server_error"}}' };
  const error = await rejection(session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 8, temperature: 0, seed: 1 }));
  assert.equal(error.code, "engine-http");
  assert.match(error.message, /slot crashed/);
  assert.equal(server.completionRequests().length, 2, "the same answer twice: not retried further");
  assert.equal(server.completionRequests()[0].body && (server.completionRequests()[0].body as Record<string, unknown>).n_probs, 50, "it was the walk's read");
});

test("stop 'context': the server's full context, and the cap j1 puts where the context would overflow", async () => {
  const { session } = await openSession();
  server.script({ kind: "ok", text: "long", stopType: "limit", truncated: true });
  assert.equal((await session.generate(think)).stop, "context");

  await withServer({ contextSize: 160 }, async (small) => {
    const { session: tight } = await openSession({}, small);
    const promptLength = 1 + faultTokens(PROMPT).length;
    small.script({ kind: "ok", text: "abc", stopType: "limit" });
    const step = await tight.generate({ ...think, maxTokens: 1000 });
    assert.equal(step.stop, "context", "the room left, not the caller's cap, bound");
    assert.equal(small.completionRequests()[0].body?.n_predict, 160 - promptLength - 48);
  });
});

test("vLLM: token ids on /v1/completions, ids back, neutral top_k -1, confidence from a probe at temperature 1", async () => {
  await withServer({ flavor: "vllm" }, async (vllm) => {
    const { engine, session } = await openSession({}, vllm);
    assert.equal(engine.describe().flavor, "vllm");
    vllm.script({ kind: "ok", text: "Hmm.", stopType: "word" });
    const step = await session.generate(think);
    assert.deepEqual([step.stop, step.tokens], ["delimiter", 4]);
    vllm.script({ kind: "ok", text: "B", stopType: "word" }, { kind: "ok", text: "B", stopType: "limit", firstTokenLogprobs: { B: Math.log(0.3), A: Math.log(0.1) } });
    const answer = await session.answer({ choices: ["A", "B"], suffix: "]]", maxTokens: 4, temperature: 0, seed: 1 });
    assert.equal(answer.text, "B]]");
    assert.ok(Math.abs((answer.choiceProbabilities?.B ?? 0) - 0.75) < 1e-9, answer.probabilityNote);
    const [first, answerBody, probe] = vllm.completionRequests().map((request) => request.body as Record<string, unknown>);
    assert.equal(vllm.completionRequests()[0].path, "/v1/completions");
    assert.deepEqual(first.prompt, [FAULT_BOS, ...faultTokens(PROMPT)]);
    assert.deepEqual([first.return_token_ids, first.skip_special_tokens, first.add_special_tokens, first.top_k, first.top_p, first.min_p], [true, false, false, -1, 1, 0]);
    assert.deepEqual(answerBody.guided_choice, ["A]]", "B]]"]);
    assert.equal(answerBody.logprobs, undefined, "a greedy answer's logprobs may be tempered: not read");
    assert.deepEqual([probe.temperature, probe.max_tokens, probe.logprobs, probe.return_tokens_as_token_ids], [1, 1, 20, true]);
  });
});

test("an unknown server or Ollama cannot take token ids: refused unless allowTextPrompt, then a warning", async () => {
  await withServer({ flavor: "generic" }, async (generic) => {
    const refused = await rejection(createOpenAIEngine({ baseUrl: generic.baseUrl, retryDelayMs: 10 }));
    assert.equal(refused.code, "bad-input");
    assert.match(refused.message, /token-id prompts/);
    assert.match(refused.message, /<\|im_end\|>/);
    assert.match(refused.message, /--allow-text-prompt/);

    const { engine, session } = await openSession({ allowTextPrompt: true }, generic);
    assert.equal(engine.describe().prompt, "text");
    assert.ok(engine.warnings.some((warning) => warning.type === "other" && warning.message.includes("prompts are sent as text")));
    // No /tokenize there: counts are estimates, and the engine says so.
    assert.equal(session.promptTokens, Math.ceil(PROMPT.length / 4));
    assert.ok(engine.warnings.some((warning) => warning.type === "unsupported" && warning.setting === "tokenize"));
    generic.script({ kind: "ok", text: "Done.", stopType: "word" });
    const step = await session.generate(think);
    // A server that says only "stop" is read as end of generation, with a warning.
    assert.equal(step.stop, "end");
    assert.ok(engine.warnings.some((warning) => warning.type === "other" && warning.message.includes('only "stop"')));
    const body = generic.completionRequests()[0].body as Record<string, unknown>;
    assert.equal(body.prompt, PROMPT);
    assert.equal(body.verbose, undefined);
    assert.equal(body.top_k, undefined, "the OpenAI API has no top_k");
    assert.equal(body.top_p, 1);
  });
});

test("chat fallback: needs allowTextPrompt; the rendered prompt as a user message, the continuation as a partial assistant message", async () => {
  const refused = await rejection(createOpenAIEngine({ baseUrl: server.baseUrl, api: "chat", retryDelayMs: 10 }));
  assert.equal(refused.code, "bad-input");
  assert.match(refused.message, /chat API takes messages, not token ids/);

  const { engine, session } = await openSession({ api: "chat", allowTextPrompt: true });
  assert.ok(engine.warnings.some((warning) => warning.type === "other" && warning.message.includes("as one user message")));
  server.script({ kind: "ok", text: "Thinking.", stopType: "word" }, { kind: "ok", text: " More.", stopType: "eos" });
  assert.equal((await session.generate(think)).text, "Thinking.");
  await session.append("Wait");
  const step = await session.generate(think);
  assert.equal(step.text, " More.");
  assert.equal(step.stop, "end");
  const bodies = server.completionRequests().map((request) => request.body as Record<string, unknown>);
  assert.ok(server.completionRequests().every((request) => request.path === "/v1/chat/completions"));
  assert.deepEqual(bodies[1].messages, [
    { role: "user", content: PROMPT },
    { role: "assistant", content: "Thinking.Wait" },
  ]);
  assert.equal(bodies[1].continue_final_message, true);
  assert.equal(bodies[1].add_generation_prompt, false);
  assert.equal(bodies[1].reasoning_format, "none");
});

test("chat fallback: a template that rewrites <think> (Qwen3's empty <think></think>) is refused", async () => {
  // What Qwen3's template makes of a partial assistant message "<think>\n…" (no </think> in it yet).
  const qwen3 = (messages: Array<{ role: string; content: string }>) =>
    messages.map((message, index) => (message.role === "assistant" && index === messages.length - 1 ? `<|im_start|>assistant\n<think>\n\n</think>\n\n${message.content}` : `<|im_start|>${message.role}\n${message.content}<|im_end|>\n`)).join("");
  await withServer({ applyTemplate: qwen3 }, async (rewriting) => {
    const refused = await rejection(createOpenAIEngine({ baseUrl: rewriting.baseUrl, api: "chat", allowTextPrompt: true, retryDelayMs: 10 }));
    assert.equal(refused.code, "bad-input");
    assert.match(refused.message, /rewrites the thinking/);
    assert.match(refused.message, /--api completions/);
  });
});

test("CLI: --timeout and --retries reach the engine; a hang then ends within the timeout", async () => {
  const command = addEngineFlags(new Command()).exitOverride();
  command.parse(["--base-url", server.baseUrl, "--timeout", "300", "--retries", "1", "--allow-text-prompt"], { from: "user" });
  const config = engineConfig(command.opts() as EngineFlagValues);
  assert.deepEqual([config.engine, config.timeoutMs, config.maxRetries, config.allowTextPrompt], ["openai", 300, 1, true]);
  const { session } = await openSession({ timeoutMs: config.timeoutMs, maxRetries: config.maxRetries });
  server.defaultStep = { kind: "hang" };
  const started = Date.now();
  const error = await rejection(session.generate(think));
  assert.equal(error.code, "engine-timeout");
  assert.match(error.message, /within 300 ms/);
  assert.equal(server.completionRequests().length, 2, "one retry");
  assert.ok(Date.now() - started < 2_000);
  assert.throws(() => addEngineFlags(new Command()).exitOverride().parse(["--timeout", "soon"], { from: "user" }), /--timeout: "soon" is not a whole number/);
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
