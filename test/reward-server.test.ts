/**
 * The reward service (the node:http listener `j1 reward serve` runs) on a real port (127.0.0.1): a bounded load test with keep-alive clients, graceful
 * shutdown with a request in flight, the generated verl Python file calling the live service through
 * python3, and the real CLI (`j1 reward serve`) stopping cleanly on SIGTERM.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChat, segmentsText } from "../src/core/chat-format.js";
import { DEFAULT_PAIRWISE_TEMPLATE, renderPairwise } from "../src/core/template.js";
import { RewardScorer } from "../src/reward/reward-batch.js";
import { resolveRewardOptions } from "../src/reward/reward-options.js";
import { renderVerlRewardFile } from "../src/reward/verl-client.js";
import { createRewardListener } from "../src/server/reward-listener.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TOKEN = "test-token";
const PROMPT = segmentsText(renderChat(renderPairwise(DEFAULT_PAIRWISE_TEMPLATE, { question: "What is 2+2?", a: "4", b: "5" }), "chatml"));

let dir: string;
let server: RunningServer;
let scorer: RewardScorer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "j1-reward-server-"));
  scorer = new RewardScorer(resolveRewardOptions());
  // The node:http listener `j1 reward serve` runs (test/reward-listener.test.ts: the hono app answers alike).
  server = await listen(createRewardListener({ scorer, token: TOKEN, maxBodyBytes: 1024 * 1024 }), "127.0.0.1", 0);
});

after(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function postJson(url: string, body: string, agent: http.Agent, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

test("server: 500 OpenRLHF-shaped requests, 16 concurrent keep-alive clients: all 200 and right", async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const responses = ["4 is right.\n</think>\n[[A]]", "5 looks right.\n</think>\n[[B]]", "no end of thinking [[A]]", "x</think>[[A]] [[B]]"];
  const expected = [1, 0, 0, 0];
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= 500) return;
      const kind = index % responses.length;
      const body = JSON.stringify({ query: [`${PROMPT}${responses[kind]}<|im_end|>`], prompts: [PROMPT], labels: ["A"] });
      const reply = await postJson(`${server.url}/get_reward`, body, agent, { authorization: `Bearer ${TOKEN}` });
      const rewards = reply.status === 200 ? (JSON.parse(reply.text) as { rewards: number[] }).rewards : undefined;
      if (reply.status !== 200 || rewards?.[0] !== expected[kind]) failures.push(`#${index}: ${reply.status} ${reply.text}`);
    }
  };
  const before = scorer.counters.outputs;
  await Promise.all(Array.from({ length: 16 }, worker));
  agent.destroy();
  assert.deepEqual(failures, []);
  assert.equal(scorer.counters.outputs - before, 500);
});

test("server: close lets a request in flight finish, then stops accepting", async () => {
  const own = await listen(createRewardListener({ scorer: new RewardScorer(resolveRewardOptions()), maxBodyBytes: 1024 * 1024 }), "127.0.0.1", 0);
  const body = JSON.stringify({ query: [`${PROMPT}x</think>[[A]]`], prompts: [PROMPT], labels: ["A"] });
  const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(`${own.url}/get_reward`, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", reject);
    // Half the body now, the rest after close() was called: the request is in flight during shutdown.
    request.write(body.slice(0, 20));
    setTimeout(() => {
      closed = own.close();
      setTimeout(() => request.end(body.slice(20)), 50);
    }, 50);
  });
  let closed: Promise<void> | undefined;
  const finished = await reply;
  assert.equal(finished.status, 200);
  assert.deepEqual(JSON.parse(finished.text).rewards, [1]);
  await closed;
  // Refused (or reset, on a busy machine): either way nothing is accepted any more.
  await assert.rejects(postJson(`${own.url}/get_reward`, body, new http.Agent()), /ECONNREFUSED|ECONNRESET/);
});

const python = spawnSync("python3", ["--version"]).status === 0;

test("server: the generated verl file scores through the live service (python3)", { skip: python ? false : "python3 is not installed" }, async () => {
  const file = join(dir, "j1_reward.py");
  await writeFile(file, renderVerlRewardFile({ url: server.url, tokenEnv: "MY_J1_TOKEN" }));
  const script = [
    "import importlib.util, json, sys",
    `spec = importlib.util.spec_from_file_location("j1_reward", ${JSON.stringify(file)})`,
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)",
    "out = []",
    // Called as verl calls it: keyword arguments, an extra_info dict with verl's own additions, extra kwargs.
    'out.append(module.compute_score(data_source="j1/pairs", solution_str="<think>\\n4 is right.\\n</think>\\n[[A]]", ground_truth="A", extra_info={"index": 0, "num_turns": None, "rollout_reward_scores": {}}, reward_router_address=None))',
    'out.append(module.compute_score("j1/pairs", "<think>x</think>[[A]]", "B"))',
    'out.append(module.compute_score("j1/pairs", "<think>x</think>［［B］］", "B"))',
    "try:",
    '    module.compute_score("j1/pairs", "<think>x</think>[[A]]", "maybe")',
    '    out.append("no error")',
    "except RuntimeError as error:",
    "    out.append(str(error))",
    "print(json.dumps(out))",
  ].join("\n");
  const run = (env: Record<string, string>) =>
    new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      // Asynchronous on purpose: the service answers from this same process.
      execFile("python3", ["-c", script], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 });
      });
    });
  const ok = await run({ MY_J1_TOKEN: TOKEN });
  assert.equal(ok.code, 0, ok.stderr);
  const [right, wrong, lookalike, refused] = JSON.parse(ok.stdout) as [Record<string, number>, Record<string, number>, Record<string, number>, string];
  assert.deepEqual(right, { score: 1.0, correct: 1.0, format: 1.0 });
  assert.deepEqual(wrong, { score: 0.0, correct: 0.0, format: 1.0 });
  assert.deepEqual(lookalike, { score: 0.0, correct: 0.0, format: 0.0 });
  assert.match(refused, /refused the request \(400\).*ground_truth/);

  // Without the token, the service refuses at once (no retries on a 4xx).
  const denied = await run({ MY_J1_TOKEN: "" });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /refused the request \(401\)/);

  // A service that is not there: retries, then a clear error.
  const gone = await run({ MY_J1_TOKEN: TOKEN, J1_REWARD_URL: "http://127.0.0.1:9", J1_REWARD_RETRIES: "2", J1_REWARD_TIMEOUT: "2" });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /failed 2 times/);
});

test("server: `j1 reward serve` binds, answers, and exits 0 on SIGTERM", async () => {
  const child = spawn(process.execPath, [join(ROOT, "bin", "j1"), "reward", "serve", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early (${code}): ${stderr}`)));
  });
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const reply = await fetch(`${url}/get_reward`, { method: "POST", body: JSON.stringify({ query: [`${PROMPT}x</think>[[A]]`], prompts: [PROMPT], labels: ["A"] }) });
  assert.deepEqual(((await reply.json()) as { rewards: number[] }).rewards, [1]);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: finishing requests in flight/);
  assert.match(stderr, /scored 1 outputs: 1 correct/);
});
