/**
 * A `--base-url` where nothing listens is said at once: "connection refused: is the server running at
 * URL?", one attempt, no retry schedule, exit 2 in the CLI (like a model file that is not there). A
 * server that answered once and then refuses (restarting mid-run) is still retried, and so is a 503 while
 * a server loads. Attempts are counted (fetch calls to the dead port), never timed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, afterEach, test } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { warningText } from "../src/engines/engine-warnings.js";
import { HttpClient } from "../src/engines/openai/http-client.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { startFaultServer, type FaultServer } from "./helpers/fault-server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-refused-"));
const engines: OpenAIEngine[] = [];
const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** A port nobody listens on: taken from the system, then given back. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `body`, counting this process's fetch calls to `port`; returns the count and what `body` threw. */
async function countingFetches(port: number | string, body: () => Promise<unknown>): Promise<{ calls: number; error: unknown }> {
  const original = globalThis.fetch;
  let calls = 0;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (String(input instanceof Request ? input.url : input).includes(`:${port}/`)) calls++;
    return original(input, init);
  }) as typeof fetch;
  try {
    await body();
    return { calls, error: undefined };
  } catch (error) {
    return { calls, error };
  } finally {
    globalThis.fetch = original;
  }
}

test("a base URL nothing listens at: one attempt, then 'connection refused: is the server running at URL?' as bad input", async () => {
  const port = await deadPort();
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  // Four retries allowed, 1 ms apart: today's retry schedule, made short, would show as five attempts.
  const { calls, error } = await countingFetches(port, async () => engines.push(await createOpenAIEngine({ baseUrl, maxRetries: 4, retryDelayMs: 1 })));
  assert.ok(error instanceof J1Error, `expected a J1Error, got ${String(error)}`);
  assert.equal(error.message, `connection refused: is the server running at ${baseUrl}?`);
  assert.equal(error.code, "bad-input");
  assert.equal(error.isRetryable, false);
  assert.equal(error.context.field, "--base-url");
  assert.equal(calls, 1, "one attempt, no retries");
});

test("a fleet: a server refused at start is marked down with the same words, the others judge; all refused names every URL", async () => {
  const live = await startFaultServer();
  servers.push(live);
  const dead = `http://127.0.0.1:${await deadPort()}/v1`;
  const engine = await createOpenAIEngine({ baseUrl: live.baseUrl, baseUrls: [live.baseUrl, dead], maxRetries: 4, retryDelayMs: 1, healthIntervalMs: 60_000 });
  engines.push(engine);
  const down = (engine.warnings ?? []).map(warningText).find((text) => text.includes(dead));
  assert.ok(down?.includes(`connection refused: is the server running at ${dead}?`), String(down));
  assert.deepEqual(engine.servers().map((server) => [server.baseUrl, server.up]), [[live.baseUrl, true], [dead, false]]);

  const other = `http://127.0.0.1:${await deadPort()}/v1`;
  await assert.rejects(createOpenAIEngine({ baseUrl: dead, baseUrls: [dead, other], maxRetries: 4, retryDelayMs: 1 }), (error: unknown) => {
    assert.ok(error instanceof J1Error);
    assert.equal(error.code, "bad-input");
    assert.equal(error.message, `connection refused by every server of the fleet: is any running at ${dead}, ${other}?`);
    return true;
  });
});

test("a server that answered once and then refuses (restarting mid-run) is retried as before", async () => {
  const server = await startFaultServer();
  const port = new URL(server.baseUrl).port;
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, maxRetries: 2, retryDelayMs: 1, timeoutMs: 5_000 });
  engines.push(engine);
  const session = await engine.open([{ text: "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n", trusted: true }]);
  await server.close();
  const { calls, error } = await countingFetches(port, () => session.generate({ stopAt: "</think>", maxTokens: 8, temperature: 0, seed: 1 }));
  assert.ok(error instanceof J1Error, String(error));
  assert.equal(error.code, "engine-http");
  assert.match(error.message, /ECONNREFUSED/);
  assert.match(error.message, /gave up after 3 attempts/);
  assert.equal(calls, 3, "the first attempt and two retries");
});

test("a server still loading (503) at first contact is asked again until it answers", async () => {
  let asked = 0;
  const loading = createHttpServer((request, response) => {
    asked++;
    response.writeHead(asked <= 2 ? 503 : 200, { "content-type": "application/json" });
    response.end(asked <= 2 ? '{"error":{"code":503,"message":"Loading model"}}' : '{"object":"list","data":[]}');
  });
  await new Promise<void>((resolve) => loading.listen(0, "127.0.0.1", resolve));
  try {
    const client = new HttpClient({ timeoutMs: 5_000, maxRetries: 4, concurrency: 1, retryDelayMs: 1 });
    const answer = await client.getJson(`http://127.0.0.1:${(loading.address() as AddressInfo).port}/v1/models`);
    assert.deepEqual(answer, { object: "list", data: [] });
    assert.equal(asked, 3);
  } finally {
    await new Promise<void>((resolve) => loading.close(() => resolve()));
  }
});

test("CLI: j1 judge and j1 eval on a dead --base-url exit 2 at once with the message, after one request", async () => {
  const port = await deadPort();
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  // Counts the CLI's own fetch calls to the dead port (it runs in one process: bin/j1 imports the CLI).
  const counter = path.join(work, "count-fetch.mjs");
  writeFileSync(
    counter,
    `const original = globalThis.fetch; let calls = 0;
globalThis.fetch = (input, init) => { if (String(input).includes(":${port}/")) calls++; return original(input, init); };
process.on("exit", () => process.stderr.write("fetch calls: " + calls + "\\n"));\n`,
  );
  const pairs = path.join(work, "pairs.jsonl");
  writeFileSync(pairs, `${JSON.stringify({ question: "q", a: "x", b: "y", label: "A" })}\n`);
  for (const args of [
    ["judge", "--base-url", baseUrl, "-q", "2+2?", "-a", "4", "-b", "5"],
    ["eval", "--bench", "pairs", "--data", pairs, "--base-url", baseUrl, "--store", path.join(work, "runs.sqlite"), "--progress", "quiet"],
  ]) {
    const run = spawnSync(process.execPath, ["--import", counter, path.join(root, "bin/j1"), ...args], { cwd: work, encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 2, `${args[0]}: ${run.stderr}`);
    assert.ok(run.stderr.includes(`j1: connection refused: is the server running at ${baseUrl}?\n`), `${args[0]}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr, /gave up after|\n\s+at /, args[0]);
    assert.match(run.stderr, /^fetch calls: 1$/m, args[0]);
  }
});

test("CLI: a --base-url whose host name does not resolve exits 2 at once, naming the host, after one request", () => {
  // `.invalid` never resolves (RFC 6761): getaddrinfo answers ENOTFOUND, which no retry changes.
  const baseUrl = "http://nosuch-host.invalid:8080/v1";
  const run = spawnSync(process.execPath, [path.join(root, "bin/j1"), "judge", "--base-url", baseUrl, "-q", "2+2?", "-a", "4", "-b", "5"], { cwd: work, encoding: "utf8", timeout: 120_000 });
  assert.equal(run.status, 2, run.stderr);
  assert.ok(run.stderr.includes("j1: host not found: nosuch-host.invalid does not resolve (check the host name in http://nosuch-host.invalid:8080/v1)"), run.stderr);
  assert.doesNotMatch(run.stderr, /gave up after|\n\s+at /);
});
