/**
 * Benchmark: the reward service under trainer-like load.
 *
 *   node dist/bench/reward-service.js [--seconds S] [--max-requests N] [--clients 1,64] [--json]
 *
 * Starts the real service (`j1 reward serve --port 0`, a child process, so server and clients do not
 * share an event loop) on 127.0.0.1, then for each client count sends requests shaped as OpenRLHF's remote
 * reward client sends them (one sample per request: the full templated query, its prompt, its label),
 * over keep-alive connections, for S seconds or N requests, whichever comes first. Prints requests/s and
 * p50 / p99 latency (goal at 64 clients: >= 5,000 requests/s, p99 < 20 ms), checks every answer, and
 * stops the service with SIGTERM. Also times the scoring alone, in process, to show what HTTP adds, and
 * (with --baseline) runs the same clients against a bare node:http server that only reads the body and
 * answers a fixed reward: the ceiling of this machine for any Node service, so the figures can be read.
 * Figures depend on the machine and on what else runs on it: the client shares its cores with the server.
 *
 * Batches: one request holding 256 and then 1,024 responses (`{query, prompts, labels}` lists, as
 * OpenRLHF posts a whole batch), three times each: the time to answer against OpenRLHF's 180 s timeout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChat, segmentsText } from "../src/core/chat-format.js";
import { DEFAULT_PAIRWISE_TEMPLATE, renderPairwise } from "../src/core/template.js";
import { RewardScorer } from "../src/reward/reward-batch.js";
import { resolveRewardOptions } from "../src/reward/reward-options.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 && index + 1 < args.length ? args[index + 1] : fallback;
};
const seconds = Number(option("--seconds", "5"));
const maxRequests = Number(option("--max-requests", "100000"));
const clientCounts = option("--clients", "1,64").split(",").map(Number);
const asJson = args.includes("--json");
const withBaseline = args.includes("--baseline");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A realistic sample: a judge prompt over two ~1 KB responses, and ~1.5 KB of thinking before the verdict. */
function samples(): Array<{ body: string; reward: number }> {
  const answerA = "To reverse a list in Python, call list.reverse() to do it in place, or use slicing: items[::-1] returns a new list. ".repeat(8);
  const answerB = "Use reversed(items), which returns an iterator; wrap it in list() if you need a list. Sorting does not reverse. ".repeat(8);
  const prompt = segmentsText(renderChat(renderPairwise(DEFAULT_PAIRWISE_TEMPLATE, { question: "How do I reverse a list in Python?", a: answerA, b: answerB }), "chatml"));
  const thinking = "Response A names both the in-place method and slicing, and both are right. Response B is right too but shorter. Wait, let me re-check: ".repeat(10);
  const outputs: Array<[string, number]> = [
    [`${thinking}\n</think>\n[[A]]<|im_end|>`, 1],
    [`${thinking}\n</think>\n[[B]]<|im_end|>`, 0],
    [`${thinking}<|im_end|>`, 0],
    [`${thinking}\n</think>\n［［A］］<|im_end|>`, 0],
  ];
  return outputs.map(([output, reward]) => ({ body: JSON.stringify({ query: [`${prompt}${output}`], prompts: [prompt], labels: ["A"] }), reward }));
}

/** The baseline: node:http alone, reading the body and answering a fixed reward (nothing parsed or scored). */
const BARE_SERVER = `
const http = require("node:http");
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    response.setHeader("content-type", "application/json");
    response.end('{"rewards":[1.0],"scores":[1.0],"extra_logs":{}}');
  });
});
server.listen(0, "127.0.0.1", () => console.log("on http://127.0.0.1:" + server.address().port));
process.on("SIGTERM", () => { server.close(); server.closeAllConnections(); process.exitCode = 0; });
`;

function startService(bare = false): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const command = bare ? ["-e", BARE_SERVER] : [join(ROOT, "bin", "j1"), "reward", "serve", "--host", "127.0.0.1", "--port", "0"];
  const child = spawn(process.execPath, command, { stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) resolve({ url: match[1], child });
    });
    child.once("exit", (code) => reject(new Error(`j1 reward serve exited (${code}): ${stderr}`)));
  });
}

function post(url: URL, body: string, agent: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

interface PhaseResult {
  clients: number;
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

async function runPhase(url: URL, clients: number, bodies: ReturnType<typeof samples>, limitSeconds: number, limitRequests: number, checkRewards = true): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + limitSeconds * 1000;
  const client = async () => {
    while (sent < limitRequests && performance.now() < deadline) {
      const sample = bodies[sent++ % bodies.length];
      const begun = performance.now();
      const reply = await post(url, sample.body, agent);
      latencies.push(performance.now() - begun);
      if (reply.status !== 200 || (checkRewards && (JSON.parse(reply.text) as { rewards: number[] }).rewards[0] !== sample.reward)) errors++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((x, y) => x - y);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { clients, requests: latencies.length, errors, seconds: elapsed, requestsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: latencies[latencies.length - 1] };
}

function scoringAlone(bodies: ReturnType<typeof samples>): number {
  const scorer = new RewardScorer(resolveRewardOptions());
  const parsed = bodies.map((sample) => JSON.parse(sample.body) as { query: string[]; prompts: string[]; labels: string[] });
  const rounds = 20_000;
  const started = performance.now();
  for (let index = 0; index < rounds; index++) {
    const sample = parsed[index % parsed.length];
    scorer.scoreBatch(sample.query, sample.prompts, sample.labels);
  }
  return ((performance.now() - started) * 1000) / rounds;
}

/** OpenRLHF's remote reward client's timeout per request. */
const OPENRLHF_TIMEOUT_MS = 180_000;
export const BATCH_SIZES = [256, 1024];

interface BatchResult {
  responses: number;
  bodyBytes: number;
  medianMs: number;
  maxMs: number;
  errors: number;
}

/** One request holding `size` responses (the samples in turn), answered three times; every reward checked. */
async function runBatch(url: URL, bodies: ReturnType<typeof samples>, size: number): Promise<BatchResult> {
  const parsed = bodies.map((sample) => ({ ...(JSON.parse(sample.body) as { query: string[]; prompts: string[]; labels: string[] }), reward: sample.reward }));
  const picked = Array.from({ length: size }, (_, index) => parsed[index % parsed.length]);
  const body = JSON.stringify({ query: picked.map((entry) => entry.query[0]), prompts: picked.map((entry) => entry.prompts[0]), labels: picked.map((entry) => entry.labels[0]) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let errors = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const reply = await post(url, body, agent);
    times.push(performance.now() - started);
    const rewards = reply.status === 200 ? (JSON.parse(reply.text) as { rewards: number[] }).rewards : [];
    errors += rewards.length === size ? picked.filter((entry, index) => rewards[index] !== entry.reward).length : size;
  }
  agent.destroy();
  times.sort((x, y) => x - y);
  return { responses: size, bodyBytes: Buffer.byteLength(body), medianMs: times[1], maxMs: times[2], errors };
}

/** Starts a server, warms it up, runs every client count against it, stops it with SIGTERM. */
async function measure(bodies: ReturnType<typeof samples>, bare: boolean): Promise<{ url: string; results: PhaseResult[]; batches: BatchResult[] }> {
  const { url, child } = await startService(bare);
  const endpoint = new URL("/get_reward", url);
  const results: PhaseResult[] = [];
  const batches: BatchResult[] = [];
  try {
    await runPhase(endpoint, 8, bodies, 1, 2000, !bare); // warm-up: JIT, connections
    for (const clients of clientCounts) results.push(await runPhase(endpoint, clients, bodies, seconds, maxRequests, !bare));
    if (!bare) for (const size of BATCH_SIZES) batches.push(await runBatch(endpoint, bodies, size));
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const code = await exited;
    if (code !== 0) process.exitCode = 1;
  }
  return { url, results, batches };
}

function printTable(title: string, results: readonly PhaseResult[]): void {
  console.log(title);
  console.log("clients  requests  errors  req/s     p50 ms  p99 ms  max ms");
  for (const row of results) {
    console.log(
      `${String(row.clients).padStart(7)}  ${String(row.requests).padStart(8)}  ${String(row.errors).padStart(6)}  ${row.requestsPerSecond.toFixed(0).padStart(8)}  ${row.p50Ms.toFixed(2).padStart(6)}  ${row.p99Ms.toFixed(2).padStart(6)}  ${row.maxMs.toFixed(1).padStart(6)}`,
    );
  }
}

async function main(): Promise<void> {
  const bodies = samples();
  const { url, results, batches } = await measure(bodies, false);
  const baseline = withBaseline ? (await measure(bodies, true)).results : undefined;
  const microseconds = scoringAlone(bodies);
  const bodyBytes = Math.round(bodies.reduce((sum, sample) => sum + Buffer.byteLength(sample.body), 0) / bodies.length);

  if (asJson) {
    console.log(JSON.stringify({ bodyBytes, scoringMicroseconds: microseconds, phases: results, baseline, batches }));
  } else {
    printTable(`reward service on ${url}: OpenRLHF-shaped requests of ~${bodyBytes} bytes, keep-alive, ${seconds}s or ${maxRequests} requests per phase`, results);
    if (baseline) printTable("baseline: bare node:http reading the same bodies and answering a fixed reward", baseline);
    console.log(`scoring alone (parse label, find response, read output), in process: ${microseconds.toFixed(1)} µs per request`);
    const wide = results.find((row) => row.clients === 64);
    for (const batch of batches) {
      console.log(`one batch of ${batch.responses} responses (${(batch.bodyBytes / 1e6).toFixed(1)} MB): median ${batch.medianMs.toFixed(0)} ms, max ${batch.maxMs.toFixed(0)} ms (${((100 * batch.maxMs) / OPENRLHF_TIMEOUT_MS).toFixed(3)}% of OpenRLHF's 180 s timeout), ${batch.errors} wrong rewards`);
    }
    if (wide) console.log(`goal at 64 clients (>= 5000 req/s, p99 < 20 ms): ${wide.requestsPerSecond >= 5000 && wide.p99Ms < 20 ? "met" : "NOT met"} on this machine`);
  }
  if (results.some((row) => row.errors > 0) || batches.some((batch) => batch.errors > 0)) process.exitCode = 1;
}

await main();
