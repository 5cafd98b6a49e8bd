/**
 * One abort listener per request, not per piece, sample or waiter. A judgment's signal is shared by all
 * it starts (its prompt's pieces tokenized at once, its samples' sessions, a batch's lines), and a
 * listener each passed Node's limit of 10 on one signal (MaxListenersExceededWarning). Every waiter
 * (request slots, fleet seats, llama.cpp sequences, retry backoffs, the service's queue and batch lines)
 * shares one listener per signal (core/abort-watch.ts); the AI SDK engine gives each call a signal of its
 * own. The counts are exact (getEventListeners), since undici lifts a fetched signal's warning limit to
 * 1500 and the warning alone would miss a signal with a listener per request.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { J1Error } from "../src/core/errors.js";
import { createEngine } from "../src/engines/create-engine.js";
import type { Engine } from "../src/engines/engine.js";
import type { LlamaContextSequence } from "node-llama-cpp";
import { SequencePool } from "../src/engines/llamacpp/sequence-pool.js";
import { HttpClient } from "../src/engines/openai/http-client.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { Semaphore } from "../src/engines/openai/semaphore.js";
import { retryWithExponentialBackoff } from "../src/engines/retry.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { collectWarnings, spyAbortListeners } from "./helpers/abort-listeners.js";
import { startFaultServer, type FaultServer } from "./helpers/fault-server.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";
import { testCacheDir } from "./helpers/tiny-engine.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const abortListeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;
/** Process warnings are emitted on a later tick. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

// A judgment sends many small requests under one abort signal (one tokenize per piece of the prompt):
// however many, the signal must not collect one listener per request (MaxListenersExceededWarning at 11).
test("twelve concurrent requests under one signal raise no MaxListenersExceededWarning", async (t) => {
  const server = http.createServer((request, response) => setTimeout(() => response.end(JSON.stringify({ ok: true })), 20));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const client = new HttpClient({ timeoutMs: 10_000, maxRetries: 0, concurrency: 4 });
  const controller = new AbortController();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tokenize`;
  const answers = await Promise.all(Array.from({ length: 12 }, () => client.postJson(url, { content: "<piece>" }, { signal: controller.signal })));
  assert.equal(answers.length, 12);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.filter((name) => name === "MaxListenersExceededWarning"), []);
});

describe("waiters under one signal share one listener, and leave none behind", () => {
  it("the request-slot semaphore: 40 waiters, one listener; served, none; aborted, every waiter rejects as cancelled", async () => {
    const semaphore = new Semaphore(1);
    const first = await semaphore.acquire();
    const controller = new AbortController();
    const waits = Array.from({ length: 40 }, () => semaphore.acquire(controller.signal));
    assert.equal(abortListeners(controller.signal), 1);
    first();
    for (const wait of waits) (await wait)();
    assert.equal(abortListeners(controller.signal), 0, "a served waiter stops listening");
    assert.equal(semaphore.inUse, 0);

    const held = await semaphore.acquire();
    const cancelled = Array.from({ length: 40 }, () => semaphore.acquire(controller.signal));
    assert.equal(abortListeners(controller.signal), 1);
    controller.abort(new Error("stop"));
    const outcomes = await Promise.allSettled(cancelled);
    assert.ok(outcomes.every((outcome) => outcome.status === "rejected" && outcome.reason instanceof J1Error && outcome.reason.code === "cancelled"));
    held();
    assert.equal(semaphore.inUse, 0, "no cancelled waiter took the permit");
  });

  it("an HttpClient's requests waiting for a slot under the caller's signal: one listener on it", async (t) => {
    let answer: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const server = http.createServer((request, response) => void gate.then(() => response.end("{}")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new HttpClient({ timeoutMs: 10_000, maxRetries: 0, concurrency: 1 });
    const controller = new AbortController();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tokenize`;
    const requests = Array.from({ length: 30 }, () => client.postJson(url, {}, { signal: controller.signal }));
    await settle();
    assert.equal(client.inFlight, 1);
    assert.equal(abortListeners(controller.signal), 1, "29 waiters, one listener");
    answer?.();
    await Promise.all(requests);
    assert.equal(abortListeners(controller.signal), 0);
  });

  it("llama.cpp's sequence pool: 30 sessions waiting, one listener; served, none", async () => {
    const pool = new SequencePool([]);
    const controller = new AbortController();
    const waits = Array.from({ length: 30 }, () => pool.acquire(controller.signal));
    assert.equal(abortListeners(controller.signal), 1);
    const sequence = {} as LlamaContextSequence;
    for (const wait of waits) {
      pool.release(sequence);
      assert.equal(await wait, sequence);
    }
    assert.equal(abortListeners(controller.signal), 0);
    const cancelled = pool.acquire(controller.signal);
    controller.abort(new Error("stop"));
    await assert.rejects(cancelled, /stop/);
  });

  it("requests backing off under one signal: one listener; an abort ends every wait as cancelled", async () => {
    const controller = new AbortController();
    let waiting = 0;
    const calls = Array.from({ length: 25 }, () =>
      retryWithExponentialBackoff(
        async () => {
          throw new J1Error("engine-http", "HTTP 503", { retryable: true });
        },
        { signal: controller.signal, initialDelayMs: 600_000, onRetry: () => waiting++ },
      ),
    );
    while (waiting < 25) await settle();
    assert.equal(abortListeners(controller.signal), 1);
    controller.abort(new Error("stop"));
    const outcomes = await Promise.allSettled(calls);
    assert.ok(outcomes.every((outcome) => outcome.status === "rejected" && (outcome.reason as J1Error).code === "cancelled"));
  });
});

/** POST /v1/judgments on a running service; the judgment's runs. */
async function judge(url: string, body: Record<string, unknown>): Promise<{ status: number; runs: unknown[] }> {
  const response = await fetch(`${url}/v1/judgments`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "2+2?", a: "4", b: "5", ...body }) });
  const json = (await response.json()) as { runs?: unknown[]; error?: string };
  assert.equal(response.status, 200, json.error);
  return { status: response.status, runs: json.runs ?? [] };
}

/** POST /v1/judgments/batch of `count` lines; every line must be answered without an error. */
async function batch(url: string, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, id) => JSON.stringify({ id, question: "q", a: "x", b: "y", maxThinking: 16 })).join("\n");
  const response = await fetch(`${url}/v1/judgments/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: lines });
  const answers = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as { error?: string });
  assert.equal(answers.length, count);
  assert.deepEqual(answers.filter((answer) => answer.error !== undefined), []);
}

describe("samples: 64 through j1 serve: one listener per request", () => {
  // A fleet of two servers that share prompts between concurrent sessions (vLLM): all 128 sessions of
  // the judgment open at once and wait for a seat on their server under the request's signal.
  const servers: FaultServer[] = [];
  let engine: Engine;
  let service: RunningServer;

  before(async () => {
    for (let index = 0; index < 2; index++) {
      const server = await startFaultServer({ flavor: "vllm" });
      server.defaultStep = { kind: "ok", text: "ok</think>[[A]]", delayMs: 2 };
      servers.push(server);
    }
    engine = await createOpenAIEngine({ baseUrl: servers[0].baseUrl, baseUrls: servers.map((server) => server.baseUrl), concurrency: 2, retryDelayMs: 10 });
    service = await listen(createJudgeApp({ engine, parallel: 12, maxBodyBytes: 1 << 20, queueLimit: 8, requestTimeoutMs: 600_000, format: { chatFormat: "auto" } }), "127.0.0.1", 0);
  });
  after(async () => {
    await service?.close(100);
    await engine?.dispose();
    for (const server of servers) await server.close();
  });

  it("a fleet's seats: 128 sessions, no signal with more than one listener, no warning", async () => {
    const spy = spyAbortListeners();
    const warnings = collectWarnings();
    try {
      const { runs } = await judge(service.url, { samples: 64, swap: true });
      assert.equal(runs.length, 128);
      await settle();
      assert.equal(spy.peak(), 1, "the most abort listeners one signal carried");
      assert.deepEqual(warnings.names().filter((name) => name === "MaxListenersExceededWarning"), []);
    } finally {
      spy.restore();
      warnings.restore();
    }
  });

  it("a batch of 24 lines at --parallel 12: one listener on the batch's signal", async () => {
    const spy = spyAbortListeners();
    try {
      await batch(service.url, 24);
      assert.equal(spy.peak(), 1);
    } finally {
      spy.restore();
    }
  });
});

test("the AI SDK engine: 128 concurrent calls of one judgment put no listener each on its signal", async (t) => {
  const server = await startFaultServer({ flavor: "generic" });
  server.defaultStep = { kind: "ok", text: "ok</think>[[A]]", delayMs: 2 };
  t.after(() => server.close());
  const provider = createOpenAICompatible({ name: "j1", baseURL: server.baseUrl });
  const engine = await createEngine({ engine: "ai-sdk", languageModel: provider.chatModel("fault-model") });
  t.after(() => engine.dispose());
  const controller = new AbortController();
  let peak = 0;
  const spy = spyAbortListeners();
  try {
    const judgment = await (await Judge.create({ engine })).judgePair(
      { question: "q", a: "x", b: "y" },
      {
        samples: 64,
        swap: true,
        signal: controller.signal,
        onEvent: () => (peak = Math.max(peak, abortListeners(controller.signal))),
      },
    );
    assert.equal(judgment.runs.length, 128);
    assert.ok(server.maxInFlight > 1, "the calls overlapped");
    assert.equal(abortListeners(controller.signal), 0);
    assert.equal(peak, 0, "the judgment's own signal");
    assert.ok(spy.peak() <= 1, `the most abort listeners one signal carried: ${spy.peak()}`);
  } finally {
    spy.restore();
  }
});

/**
 * The case against a real llama-server: `j1 serve --base-url --parallel 12` answering samples 64
 * (both orders) and a 24-line batch says nothing on stderr but its banner, and the same in process keeps
 * one listener per signal. (llama-server shares a prompt only between sessions that follow each other, so
 * its samples run one after another: there the batch's lines were the waiters that passed the limit.)
 */
describe("samples: 64 against a real llama-server", () => {
  let llama: RunningLlamaServer | undefined;
  before(async () => {
    if (findLlamaServer() === undefined) return;
    const modelPath = await ensureTinyModel({ cacheDir: testCacheDir });
    llama = await startLlamaServer({ modelPath, contextSize: 4096, parallel: 2, threads: 1 });
  });
  after(async () => llama?.stop());

  const requireServer = (t: { skip: (message: string) => void }): RunningLlamaServer | undefined => {
    if (llama) return llama;
    if (process.env.CI) assert.fail("llama-server not built: CI must run scripts/build-llama-server.sh first (or set J1_LLAMA_SERVER)");
    t.skip("llama-server not built: run scripts/build-llama-server.sh");
    return undefined;
  };

  it("in process (createJudgeApp on the openai engine): no signal with more than one listener", async (t) => {
    const server = requireServer(t);
    if (!server) return;
    const engine = await createOpenAIEngine({ baseUrl: `${server.baseUrl}/v1` });
    t.after(() => engine.dispose());
    const running = await listen(createJudgeApp({ engine, parallel: 12, maxBodyBytes: 1 << 20, queueLimit: 8, requestTimeoutMs: 600_000, format: { chatFormat: "auto" } }), "127.0.0.1", 0);
    t.after(() => running.close(100));
    const spy = spyAbortListeners();
    try {
      const { runs } = await judge(running.url, { samples: 64, swap: true, maxThinking: 16 });
      assert.equal(runs.length, 128);
      await batch(running.url, 24);
      assert.equal(spy.peak(), 1);
    } finally {
      spy.restore();
    }
  });

  it("bin/j1 serve --base-url --parallel 12: samples 64 and a 24-line batch answered, no warning on stderr", async (t) => {
    const server = requireServer(t);
    if (!server) return;
    const child = spawn(process.execPath, [path.join(ROOT, "bin/j1"), "serve", "--base-url", `${server.baseUrl}/v1`, "--parallel", "12", "--port", "0", "--store", path.join(testCacheDir, "listeners.sqlite")], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    t.after(() => child.kill("SIGKILL"));
    const url = await new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = stdout.match(/j1 judge service on (http:\/\/\S+)/);
        if (found) resolve(found[1]);
      };
      child.stdout.on("data", look);
      void exited.then((code) => reject(new Error(`j1 serve exited ${code}: ${stderr}`)));
    });
    const { runs } = await judge(url, { samples: 64, swap: true, maxThinking: 16 });
    assert.equal(runs.length, 128);
    await batch(url, 24);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.doesNotMatch(stderr, /MaxListenersExceededWarning|Warning:/);
  });
});
