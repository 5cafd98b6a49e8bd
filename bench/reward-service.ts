/**
 * Benchmark: the reward service under trainer-like load, against bare node:http in the same run.
 *
 *   node dist/bench/reward-service.js [--seconds S] [--max-requests N] [--clients 1,64] [--rounds R]
 *                                     [--baseline] [--parse] [--floor] [--hono] [--token] [--json] [--profile DIR]
 *
 * Starts the real service (`j1 reward serve --port 0`, a child process, so server and clients do not
 * share an event loop) on 127.0.0.1, then sends requests shaped as OpenRLHF's remote reward client sends
 * them (one sample per request: the full templated query, its prompt, its label; the JSON written as
 * Python's json.dumps writes it, which aiohttp and requests use: every non-ASCII character escaped, so
 * the bytes are ASCII), over keep-alive connections, for S seconds or N requests per phase, whichever
 * comes first. Prints requests/s and p50 / p99 latency, checks every answer, and stops the service with
 * SIGTERM. With --token the service requires a token, sent as `?token=` as OpenRLHF's client must send
 * it (it adds no headers), so the token check is part of every request.
 *
 * --baseline starts beside it a bare node:http server that only reads the body and answers a fixed reward
 * (the ceiling of this machine for any Node service), --parse one that also decodes the body and
 * JSON.parses it (the least any service that reads these bodies spends), --floor one that parses the JSON and scores it
 * with the same RewardScorer and writes the same answer, with no routing, guards or validation (what the
 * work itself costs), and --hono the library's hono app (createRewardApp) on @hono/node-server, which is
 * what `j1 reward serve` ran before it ran the plain node:http listener. All servers are up at once and
 * their phases alternate, round after round (the order rotating), so each sees the same machine; the
 * table gives the median of the rounds, the server process's CPU time per request (from /proc: what each
 * server spends, less moved by other load than requests/s) and the ratios to the bare server: each
 * round's ratio (its phases ran back to back), the median over the rounds (use an odd number of rounds),
 * and for requests/s the lowest and highest round. Goal at 64 clients: >= 0.95 of bare node:http's
 * requests/s, p99 <= 1.2x bare.
 * Figures depend on the machine and on what else runs on it: the client shares its cores with the server.
 *
 * --profile DIR runs every server under `node --cpu-prof` and leaves their profiles in DIR when they stop
 * (j1.cpuprofile, bare.cpuprofile, ...; open them in Chrome's DevTools, or sum self time by function):
 * where a request's server CPU goes, and what of it bare node:http spends too. The batches are left out
 * then, so the profiles hold one-sample requests only (and the start-up).
 *
 * Batches: one request holding 256 and then 1,024 responses (`{query, prompts, labels}` lists, as
 * OpenRLHF posts a whole batch), three times each: the time to answer against OpenRLHF's 180 s timeout.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { availableParallelism, loadavg } from "node:os";
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
const withFloor = args.includes("--floor");
const withParse = args.includes("--parse");
const withHono = args.includes("--hono");
const rounds = Number(option("--rounds", "3"));
const profileDir = option("--profile", "");
const withToken = args.includes("--token");
/** A token of the length `openssl rand -hex 16` gives. */
const TOKEN = "5f0c3a9e1b7d2c4f8a6e0b3d9c1f7a2e";
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
  return outputs.map(([output, reward]) => ({ body: pythonJson({ query: [`${prompt}${output}`], prompts: [prompt], labels: ["A"] }), reward }));
}

/** JSON as Python's json.dumps writes it by default (ensure_ascii): every character past ASCII as a \uXXXX escape. */
function pythonJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
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

/** Bare node:http that decodes and parses the body (as the service does for ASCII bodies), then answers a fixed reward. */
const PARSE_SERVER = `
const http = require("node:http");
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = JSON.parse((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString("latin1"));
    response.setHeader("content-type", "application/json");
    response.end(Array.isArray(body.query) ? '{"rewards":[1.0],"scores":[1.0],"extra_logs":{}}' : "{}");
  });
});
server.listen(0, "127.0.0.1", () => console.log("on http://127.0.0.1:" + server.address().port));
process.on("SIGTERM", () => { server.close(); server.closeAllConnections(); process.exitCode = 0; });
`;

/** The floor: node:http, JSON.parse and the service's scorer and answer, nothing else (no routes, guards, validation). */
const FLOOR_SERVER = `
const http = require("node:http");
const { pathToFileURL } = require("node:url");
const dist = ${JSON.stringify(join(ROOT, "dist", "src"))};
Promise.all([import(pathToFileURL(dist + "/reward/reward-batch.js").href), import(pathToFileURL(dist + "/reward/reward-options.js").href)]).then(([batch, options]) => {
  const scorer = new batch.RewardScorer(options.resolveRewardOptions());
  const floatList = (values) => "[" + values.map((v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))).join(",") + "]";
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const scored = scorer.scoreBatch(body.query, body.prompts, body.labels);
      const logs = Object.entries(scored.extraLogs).map(([name, values]) => JSON.stringify(name) + ":" + floatList(values));
      const text = '{"rewards":' + floatList(scored.rewards) + ',"scores":' + floatList(scored.scores) + ',"extra_logs":{' + logs.join(",") + "}}";
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      response.end(text);
    });
  });
  server.keepAliveTimeout = 65000;
  server.listen(0, "127.0.0.1", () => console.log("on http://127.0.0.1:" + server.address().port));
  process.on("SIGTERM", () => { server.close(); server.closeAllConnections(); process.exitCode = 0; });
});
`;

/** The same service through the library's hono app on @hono/node-server: what `j1 reward serve` ran before. */
const HONO_SERVER = `
const { pathToFileURL } = require("node:url");
const dist = ${JSON.stringify(join(ROOT, "dist", "src"))};
const load = (file) => import(pathToFileURL(dist + file).href);
Promise.all([load("/reward/reward-batch.js"), load("/reward/reward-options.js"), load("/server/reward-app.js"), load("/server/reward-server.js")]).then(async ([batch, options, app, server]) => {
  const running = await server.listen(app.createRewardApp({ scorer: new batch.RewardScorer(options.resolveRewardOptions()), maxBodyBytes: 64 * 1024 * 1024, token: process.env.J1_REWARD_TOKEN }), "127.0.0.1", 0);
  console.log("on " + running.url);
  process.on("SIGTERM", () => running.close().then(() => { process.exitCode = 0; }));
});
`;

type Variant = "j1" | "bare" | "parse" | "floor" | "hono";

/** The services whose rewards are real, and so checked (bare and parse answer a fixed one). */
const scores = (variant: Variant) => variant !== "bare" && variant !== "parse";

/** The services that check a token (bare and floor measure node:http and the work, not the guards). */
const checksToken = (variant: Variant) => variant === "j1" || variant === "hono";

function startService(variant: Variant): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const scripts: Record<Exclude<Variant, "j1">, string> = { bare: BARE_SERVER, parse: PARSE_SERVER, floor: FLOOR_SERVER, hono: HONO_SERVER };
  // Every server is profiled, so the service's profile can be read against bare node:http's of the same run.
  const profile = profileDir !== "" ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `${variant}.cpuprofile`] : [];
  const command = variant === "j1" ? [...profile, join(ROOT, "bin", "j1"), "reward", "serve", "--host", "127.0.0.1", "--port", "0"] : [...profile, "-e", scripts[variant]];
  const env = { ...process.env };
  delete env.J1_REWARD_TOKEN;
  if (withToken && checksToken(variant)) env.J1_REWARD_TOKEN = TOKEN;
  const child = spawn(process.execPath, command, { stdio: ["pipe", "pipe", "pipe"], env });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) resolve({ url: match[1], child });
    });
    child.once("exit", (code) => reject(new Error(`${variant} server exited (${code}): ${stderr}`)));
  });
}

function post(url: URL, body: string, agent: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
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
  /** The server process's CPU time per request (user + system, from /proc): less moved by other load than req/s. */
  serverCpuMicroseconds: number;
}

/** Clock ticks per second of /proc's CPU times. */
const TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** A process's CPU seconds so far (user + system), or NaN where /proc is not there. */
function cpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the 14th field.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

async function runPhase(url: URL, clients: number, bodies: ReturnType<typeof samples>, limitSeconds: number, limitRequests: number, checkRewards = true, serverPid?: number): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const cpuBefore = cpuSeconds(serverPid);
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
  const serverCpuMicroseconds = (1e6 * (cpuSeconds(serverPid) - cpuBefore)) / latencies.length;
  return { clients, requests: latencies.length, errors, seconds: elapsed, requestsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: latencies[latencies.length - 1], serverCpuMicroseconds };
}

/**
 * The scorer's time per one-sample request in process, two ways: on the same parsed bodies round after
 * round (warm: V8 has seen every string before), and on bodies parsed afresh each time from their bytes as
 * the server parses them, timing the scoring only (cold strings, as every request brings). The gap between
 * the two is what scoring costs a server beyond the warm loop.
 */
function scoringAlone(bodies: ReturnType<typeof samples>): { warm: number; fresh: number } {
  const scorer = new RewardScorer(resolveRewardOptions());
  type Body = { query: string[]; prompts: string[]; labels: string[] };
  const parsed = bodies.map((sample) => JSON.parse(sample.body) as Body);
  const bytes = bodies.map((sample) => Buffer.from(sample.body, "latin1"));
  const rounds = 20_000;
  // Once untimed, so neither figure carries the compiler's warm-up.
  for (let index = 0; index < rounds; index++) {
    const sample = parsed[index % parsed.length];
    scorer.scoreBatch(sample.query, sample.prompts, sample.labels);
  }
  let started = performance.now();
  for (let index = 0; index < rounds; index++) {
    const sample = parsed[index % parsed.length];
    scorer.scoreBatch(sample.query, sample.prompts, sample.labels);
  }
  const warm = ((performance.now() - started) * 1000) / rounds;
  let scoring = 0;
  for (let index = 0; index < rounds; index++) {
    const sample = JSON.parse(bytes[index % bytes.length].toString("latin1")) as Body;
    started = performance.now();
    scorer.scoreBatch(sample.query, sample.prompts, sample.labels);
    scoring += performance.now() - started;
  }
  return { warm, fresh: (scoring * 1000) / rounds };
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

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  if ((await exited) !== 0) process.exitCode = 1;
}

const median = (values: readonly number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

/** The median phase of the rounds, field by field. */
function medianPhase(phases: readonly PhaseResult[]): PhaseResult {
  const pick = (field: keyof PhaseResult) => median(phases.map((phase) => phase[field]));
  return {
    clients: phases[0].clients,
    requests: phases.reduce((sum, phase) => sum + phase.requests, 0),
    errors: phases.reduce((sum, phase) => sum + phase.errors, 0),
    seconds: pick("seconds"),
    requestsPerSecond: pick("requestsPerSecond"),
    p50Ms: pick("p50Ms"),
    p99Ms: pick("p99Ms"),
    maxMs: pick("maxMs"),
    serverCpuMicroseconds: pick("serverCpuMicroseconds"),
  };
}

/** A service's figures over bare node:http's at one client count: the median over the rounds of each round's ratio (the two phases of a round ran back to back, so a load that drifts moves both). */
interface Ratios {
  clients: number;
  requestsPerSecond: number;
  p99: number;
  serverCpu: number;
  /** The lowest and highest round's requests/s ratio. */
  requestsPerSecondRange: [number, number];
}

function ratiosToBare(service: Map<number, PhaseResult[]> | undefined, bare: Map<number, PhaseResult[]> | undefined): Ratios[] | undefined {
  if (service === undefined || bare === undefined) return undefined;
  return clientCounts.map((clients) => {
    const mine = service.get(clients) ?? [];
    const base = bare.get(clients) ?? [];
    const per = (field: keyof PhaseResult) => mine.map((phase, round) => phase[field] / base[round][field]);
    const throughput = per("requestsPerSecond");
    return { clients, requestsPerSecond: median(throughput), p99: median(per("p99Ms")), serverCpu: median(per("serverCpuMicroseconds")), requestsPerSecondRange: [Math.min(...throughput), Math.max(...throughput)] };
  });
}

function printTable(title: string, results: readonly PhaseResult[], ratios?: readonly Ratios[]): void {
  console.log(title);
  console.log(`clients  requests  errors  req/s     p50 ms  p99 ms  max ms  server CPU µs/req${ratios ? "  req/s / bare (rounds' range)  p99 / bare  CPU / bare" : ""}`);
  for (const row of results) {
    const ratio = ratios?.find((entry) => entry.clients === row.clients);
    const shown = ratio
      ? `  ${ratio.requestsPerSecond.toFixed(3).padStart(12)} (${ratio.requestsPerSecondRange.map((value) => value.toFixed(2)).join("-")})  ${ratio.p99.toFixed(2).padStart(10)}  ${ratio.serverCpu.toFixed(2).padStart(10)}`
      : "";
    console.log(
      `${String(row.clients).padStart(7)}  ${String(row.requests).padStart(8)}  ${String(row.errors).padStart(6)}  ${row.requestsPerSecond.toFixed(0).padStart(8)}  ${row.p50Ms.toFixed(2).padStart(6)}  ${row.p99Ms.toFixed(2).padStart(6)}  ${row.maxMs.toFixed(1).padStart(6)}  ${row.serverCpuMicroseconds.toFixed(1).padStart(17)}${shown}`,
    );
  }
}

/** The machine's load average (1, 5, 15 minutes), for the record: ratios measured on a busy machine move. */
const load = () => loadavg().map((value) => value.toFixed(2)).join(" / ");

async function main(): Promise<void> {
  const loadBefore = load();
  const bodies = samples();
  const variants: Variant[] = ["j1", ...(withBaseline ? (["bare"] as const) : []), ...(withParse ? (["parse"] as const) : []), ...(withFloor ? (["floor"] as const) : []), ...(withHono ? (["hono"] as const) : [])];
  const servers = new Map<Variant, { url: string; child: ChildProcessWithoutNullStreams }>();
  const phases = new Map<Variant, Map<number, PhaseResult[]>>(variants.map((variant) => [variant, new Map(clientCounts.map((clients) => [clients, []]))]));
  const batches: BatchResult[] = [];
  try {
    for (const variant of variants) servers.set(variant, await startService(variant));
    const endpoint = (variant: Variant) => new URL(`/get_reward${withToken && checksToken(variant) ? `?token=${TOKEN}` : ""}`, servers.get(variant)?.url);
    // Warm-up: JIT, connections.
    for (const variant of variants) await runPhase(endpoint(variant), 8, bodies, 1, 2000, scores(variant));
    for (let round = 0; round < rounds; round++) {
      for (const clients of clientCounts) {
        const order = variants.map((_, index) => variants[(index + round) % variants.length]);
        for (const variant of order) phases.get(variant)?.get(clients)?.push(await runPhase(endpoint(variant), clients, bodies, seconds, maxRequests, scores(variant), servers.get(variant)?.child.pid));
      }
    }
    if (profileDir === "") for (const size of BATCH_SIZES) batches.push(await runBatch(endpoint("j1"), bodies, size));
  } finally {
    for (const server of servers.values()) await stop(server.child);
  }
  const results = (variant: Variant) => clientCounts.map((clients) => medianPhase(phases.get(variant)?.get(clients) ?? []));
  const j1 = results("j1");
  const bare = withBaseline ? results("bare") : undefined;
  const parse = withParse ? results("parse") : undefined;
  const floor = withFloor ? results("floor") : undefined;
  const hono = withHono ? results("hono") : undefined;
  const toBare = (variant: Variant) => ratiosToBare(phases.get(variant), withBaseline ? phases.get("bare") : undefined);
  const ratios = { j1: toBare("j1"), parse: withParse ? toBare("parse") : undefined, floor: withFloor ? toBare("floor") : undefined, hono: withHono ? toBare("hono") : undefined };
  const microseconds = scoringAlone(bodies);
  const bodyBytes = Math.round(bodies.reduce((sum, sample) => sum + Buffer.byteLength(sample.body), 0) / bodies.length);

  if (asJson) {
    console.log(JSON.stringify({ bodyBytes, scoringMicroseconds: microseconds, rounds, token: withToken, load: { before: loadBefore, after: load(), cores: availableParallelism() }, phases: j1, baseline: bare, parse, floor, hono, ratios, batches }));
  } else {
    const shape = `OpenRLHF-shaped requests of ~${bodyBytes} bytes, keep-alive, ${seconds}s or ${maxRequests} requests per phase, median of ${rounds} rounds${withToken ? ", token in the query" : ""}`;
    console.log(`load average (1 / 5 / 15 min) on ${availableParallelism()} cores: ${loadBefore} before, ${load()} after`);
    printTable(`reward service (j1 reward serve): ${shape}`, j1, ratios.j1);
    if (bare) printTable("baseline: bare node:http reading the same bodies and answering a fixed reward", bare);
    if (parse) printTable("parse: bare node:http + decoding and JSON.parse of the body (what any service reading these bodies spends)", parse, ratios.parse);
    if (floor) printTable("floor: node:http + JSON.parse + the same scorer and answer (no routes, guards, validation)", floor, ratios.floor);
    if (hono) printTable("hono: the library's hono app (createRewardApp) on @hono/node-server, as j1 reward serve ran before", hono, ratios.hono);
    console.log(`scoring alone (parse label, find response, read output), in process: ${microseconds.warm.toFixed(1)} µs per request on bodies parsed once, ${microseconds.fresh.toFixed(1)} µs on bodies parsed afresh each time (as a server sees them)`);
    for (const batch of batches) {
      console.log(`one batch of ${batch.responses} responses (${(batch.bodyBytes / 1e6).toFixed(1)} MB): median ${batch.medianMs.toFixed(0)} ms, max ${batch.maxMs.toFixed(0)} ms (${((100 * batch.maxMs) / OPENRLHF_TIMEOUT_MS).toFixed(3)}% of OpenRLHF's 180 s timeout), ${batch.errors} wrong rewards`);
    }
    const wide = ratios.j1?.find((row) => row.clients === 64);
    if (wide) {
      const ratio = wide.requestsPerSecond;
      const p99 = wide.p99;
      console.log(`goal at 64 clients (>= 0.95 of bare node:http, p99 <= 1.2x bare): ${ratio.toFixed(3)}, p99 ${p99.toFixed(2)}x: ${ratio >= 0.95 && p99 <= 1.2 ? "met" : "NOT met"} on this machine`);
      // The parse server does nothing but read what any reward service must read: its ratio bounds the goal.
      const parsed = ratios.parse?.find((row) => row.clients === 64);
      if (parsed) console.log(`  bare node:http that only parses the body reaches ${parsed.requestsPerSecond.toFixed(3)}, p99 ${parsed.p99.toFixed(2)}x, in the same run`);
    }
  }
  if (j1.some((row) => row.errors > 0) || batches.some((batch) => batch.errors > 0)) process.exitCode = 1;
}

await main();
