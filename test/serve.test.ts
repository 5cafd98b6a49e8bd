/**
 * The judge service (`j1 serve`) on the real tiny engine over real HTTP: the three kinds, streaming, the
 * guards (token, body size, validation), the bounded queue, the time limit, a disconnected stream freeing
 * the engine's only sequence, and the CLI binding, answering and exiting 0 on SIGTERM.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Judgment } from "../src/core/judgment.js";
import { DEFAULT_POINTWISE_TEMPLATE } from "../src/core/template.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { defaultTinySpec, ensureTinyModel, type TinyModelSpec } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { createJudgeApp, type JudgeAppOptions } from "../src/server/judge-app.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { testCacheDir, tinyEngine } from "./helpers/tiny-engine.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TOKEN = "serve-test-token";
const PAIR = { question: "What is 2+2?", a: "4", b: "5" };

/** The tiny model with thinking that never ends on its own (". check again. check again…"): a busy sequence. */
function loopingSpec(): TinyModelSpec {
  const spec = defaultTinySpec();
  spec.name = "j1-tiny-looping";
  spec.transitions["."] = [{ to: " check", logit: 30 }];
  return spec;
}
/** A request that keeps the looping engine busy for many seconds. */
const SLOW = { ...PAIR, maxThinking: 30_000 };

let engine: LlamaCppEngine;
let looping: LlamaCppEngine;
const servers: RunningServer[] = [];

async function serve(options: Partial<JudgeAppOptions> & { engine: JudgeAppOptions["engine"] }): Promise<string> {
  const server = await listen(createJudgeApp({ maxBodyBytes: 64 * 1024, queueLimit: 8, requestTimeoutMs: 60_000, format: { chatFormat: "auto" }, ...options }), "127.0.0.1", 0);
  servers.push(server);
  return server.url;
}

function post(url: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<Response> {
  return fetch(`${url}/v1/judgments`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/**
 * Drops what two identical judgments may differ in: wall-clock times, and how many prompt tokens the
 * engine found in its prefix cache (evaluated + cached is the same; the split depends on what ran before).
 */
const VARYING = new Set(["wallMs", "evaluatedTokens", "cachedTokens"]);
function withoutTimes(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, inner) => (VARYING.has(key) ? undefined : inner)));
}

async function waitUntilIdle(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { queue: { running: number; waiting: number } };
    if (health.queue.running === 0 && health.queue.waiting === 0) return;
    if (Date.now() > deadline) assert.fail(`still busy after ${withinMs} ms: ${JSON.stringify(health.queue)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface SseEvent {
  event: string;
  data: string;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((line) => line.startsWith("event:"))?.slice(6).trim() ?? "message";
      const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).replace(/^ /, "")).join("\n");
      return { event, data };
    });
}

/** Opens a stream with node:http and resolves once the first thinking event arrived; `close` hangs up. */
function openStream(url: string, body: unknown): Promise<{ close: () => void; status: number }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ ...(body as object), stream: true });
    const request = http.request(`${url}/v1/judgments`, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), authorization: `Bearer ${TOKEN}` } }, (response) => {
      let seen = "";
      response.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("event: thinking")) resolve({ status: response.statusCode ?? 0, close: () => request.destroy() });
      });
      response.on("error", () => undefined);
    });
    request.on("error", () => undefined);
    request.on("close", () => reject(new Error("stream closed before any thinking")));
    request.end(payload);
  });
}

before(async () => {
  engine = await tinyEngine({ contextSize: 4096 });
  looping = await tinyEngine({ contextSize: 32768, spec: loopingSpec() });
});

after(async () => {
  for (const server of servers) await server.close(1000);
  await engine?.dispose();
  await looping?.dispose();
});

describe("j1 serve: judgments", () => {
  let url: string;
  before(async () => {
    url = await serve({ engine, token: TOKEN });
  });

  it("GET /health: version, engine, queue", async () => {
    const reply = await fetch(`${url}/health`, { headers: { origin: "https://elsewhere.example" } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get("access-control-allow-origin"), null, "no CORS");
    const health = (await reply.json()) as { status: string; version: string; engine: { engine: string; model: string }; queue: { running: number; waiting: number; limit: number } };
    assert.equal(health.status, "ok");
    assert.match(health.version, /^\d+\.\d+\.\d+/);
    assert.equal(health.engine.engine, "llamacpp");
    assert.deepEqual({ running: health.queue.running, waiting: health.queue.waiting, limit: health.queue.limit }, { running: 0, waiting: 0, limit: 8 });
  });

  it("a pair: verdict A or B, the same JSON as Judge.judgePair gives", async () => {
    const reply = await post(url, { ...PAIR, waits: 2 });
    assert.equal(reply.status, 200);
    const judgment = (await reply.json()) as Judgment;
    assert.equal(judgment.kind, "pairwise");
    assert.ok(judgment.verdict === "A" || judgment.verdict === "B", String(judgment.verdict));
    assert.equal(judgment.waitsUsed, 2);
    const direct = await (await Judge.create({ engine, scaling: { waits: 2, minThinkingTokens: 0, maxThinkingTokens: 4096 } })).judgePair(PAIR, { seed: 0, itemKey: "cli", samples: 1, temperature: 0 });
    assert.deepEqual(withoutTimes(judgment), withoutTimes(direct));
  });

  it("a rating and a 4-way choice", async () => {
    const rating = (await (await post(url, { kind: "rating", question: "What is 2+2?", response: "4" })).json()) as Judgment;
    assert.equal(rating.kind, "pointwise");
    assert.equal(rating.status, "ok", rating.error);
    assert.equal(typeof rating.score, "number");
    const direct = await new Judge({ engine, template: DEFAULT_POINTWISE_TEMPLATE }).judgePoint({ question: "What is 2+2?", response: "4" });
    assert.equal(rating.score, direct.score);
    const choice = (await (await post(url, { kind: "choice", question: "Best?", responses: ["one", "two", "three", "four"] })).json()) as Judgment;
    assert.equal(choice.kind, "choice");
    assert.ok(["A", "B", "C", "D"].includes(String(choice.verdict)), String(choice.verdict));
    assert.deepEqual(Object.keys(choice.runs[0].choiceProbabilities ?? {}).sort(), ["A", "B", "C", "D"]);
  });

  it("stream: thinking events with their provenance, then the judgment (equal to the non-streamed one), then done", async () => {
    const body = { ...PAIR, waits: 2, samples: 3, seed: 7 };
    const plain = (await (await post(url, body)).json()) as Judgment;
    const reply = await post(url, { ...body, stream: true });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = parseSse(await reply.text());
    const thinking = events.filter((event) => event.event === "thinking").map((event) => JSON.parse(event.data) as { text: string; source: string; sample: number });
    assert.ok(thinking.some((event) => event.source === "generated" && event.text.includes("compare")), "generated thinking text");
    assert.ok(thinking.some((event) => event.source === "wait" && event.text === "Wait"), "the injected wait");
    assert.deepEqual([...new Set(thinking.map((event) => event.sample))].sort(), [0, 1, 2]);
    const names = events.map((event) => event.event);
    assert.deepEqual(names.slice(-2), ["judgment", "done"]);
    const streamed = JSON.parse(events[events.length - 2].data) as Judgment;
    assert.deepEqual(withoutTimes(streamed), withoutTimes(plain));
  });

  it("401 on a missing or wrong token", async () => {
    const wrong = await post(url, PAIR, { authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: "wrong token" });
    const missing = await post(url, PAIR, {});
    assert.equal(missing.status, 401);
  });

  it("413 on a body over the limit", async () => {
    const reply = await post(url, { ...PAIR, a: "x".repeat(100 * 1024) });
    assert.equal(reply.status, 413);
    assert.match(((await reply.json()) as { error: string }).error, /larger than the limit/);
  });

  it("400 naming the field, with no stack or path", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...PAIR, samples: 65 }, /samples/],
      [{ question: "q", a: "x" }, /"b"|field "b"|b:/],
      [{ kind: "choice", question: "q", responses: ["only one"] }, /responses/],
      [{ ...PAIR, waits: -1 }, /waits/],
      [{ ...PAIR, kind: "essay" }, /kind/],
      [{ ...PAIR, temprature: 1 }, /temprature|body/],
      ["{not json", /not valid JSON/],
    ];
    for (const [body, field] of cases) {
      const reply = await post(url, body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      const { error } = (await reply.json()) as { error: string };
      assert.match(error, field);
      assert.doesNotMatch(error, /\/work|node_modules|at .*\.js/);
    }
  });
});

describe("j1 serve: the queue, the time limit, disconnects (one sequence)", () => {
  it("429 with Retry-After when the queue is full (queueLimit 0, one stream in flight)", async () => {
    const url = await serve({ engine: looping, token: TOKEN, queueLimit: 0 });
    const busy = await openStream(url, SLOW);
    try {
      const health = (await (await fetch(`${url}/health`)).json()) as { queue: { running: number } };
      assert.equal(health.queue.running, 1);
      const refused = await post(url, { ...PAIR, maxThinking: 5 });
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      assert.match(((await refused.json()) as { error: string }).error, /queue is full/);
    } finally {
      busy.close();
    }
    // The hung-up stream frees the sequence: the slot comes back within seconds, and the next request is served.
    const started = Date.now();
    await waitUntilIdle(url, 5000);
    const next = await post(url, { ...PAIR, maxThinking: 5 });
    assert.equal(next.status, 200);
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  });

  it("a disconnected stream frees the engine's only sequence: the next request succeeds within seconds", async () => {
    const url = await serve({ engine: looping, token: TOKEN });
    const stream = await openStream(url, SLOW);
    stream.close();
    const started = Date.now();
    const reply = await post(url, { ...PAIR, maxThinking: 20 });
    assert.equal(reply.status, 200);
    const judgment = (await reply.json()) as Judgment;
    assert.equal(judgment.thinkingEnd, "cap");
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    const health = (await (await fetch(`${url}/health`)).json()) as { queue: { running: number; waiting: number } };
    assert.deepEqual(health.queue, { ...health.queue, running: 0, waiting: 0 });
  });

  it("504 past the time limit, the generation aborted (the next request is served)", async () => {
    const url = await serve({ engine: looping, token: TOKEN, requestTimeoutMs: 300 });
    const started = Date.now();
    const slow = await post(url, SLOW);
    assert.equal(slow.status, 504);
    assert.match(((await slow.json()) as { error: string }).error, /longer than the limit of 300 ms/);
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    const next = await post(url, { ...PAIR, maxThinking: 5 });
    assert.equal(next.status, 200);
    // Streamed: the time limit ends the stream with an error event (the status line was already sent).
    const streamed = await post(url, { ...SLOW, stream: true });
    const events = parseSse(await streamed.text());
    const last = events[events.length - 1];
    assert.equal(last.event, "error");
    assert.equal((JSON.parse(last.data) as { status: number }).status, 504);
    assert.equal((await post(url, { ...PAIR, maxThinking: 5 })).status, 200);
  });
});

/** Starts `j1 serve` with these arguments and resolves with its URL once it prints one. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, "bin", "j1"), "serve", "--port", "0", "--token", TOKEN, "--threads", "1", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output = { stderr: "" };
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early (${code}): ${output.stderr}`)));
  });
  return { child, output, exited, url };
}

describe("j1 serve: the CLI", () => {
  it("SIGTERM with a stream in flight: the stream is cut after the grace, the engine disposed, exit 0", async () => {
    const model = await ensureTinyModel({ cacheDir: testCacheDir, spec: loopingSpec() });
    const cli = startCli(["--model", model, "--context-size", "32768"]);
    try {
      const url = await cli.url;
      const stream = await openStream(url, { ...SLOW, maxThinking: 60_000 });
      const started = Date.now();
      cli.child.kill("SIGTERM");
      assert.equal(await cli.exited, 0, cli.output.stderr);
      assert.ok(Date.now() - started < 15_000, `${Date.now() - started} ms`);
      stream.close();
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  it("`j1 serve --model tiny --port 0` prints its URL, answers /health and a judgment, exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "j1"), "serve", "--model", "tiny", "--port", "0", "--token", TOKEN, "--threads", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let stdout = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          // Resolved once both lines are out: the service's URL, then where the viewer is.
          const match = /on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*j1 viewer: open /.exec(stdout);
          if (match) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`exited early (${code}): ${stderr}`)));
      });
      assert.doesNotMatch(url, /:0$/);
      // The viewer's address is said, with the store it shows; and the page is there.
      assert.match(stdout, new RegExp(`j1 viewer: open ${url.replace(/[.]/g, "\\.")}/  \\(the runs in .*runs\\.sqlite\\)`));
      assert.equal((await fetch(`${url}/`)).status, 200);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      const reply = await post(url, { ...PAIR, waits: 1 });
      assert.equal(reply.status, 200);
      const judgment = (await reply.json()) as Judgment;
      assert.ok(judgment.verdict === "A" || judgment.verdict === "B");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /SIGTERM: finishing judgments in flight/);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
