/**
 * Bad requests to every route of `j1 serve` (real tiny engine, real HTTP, real SQLite): malformed JSON,
 * wrong types, values out of range, unknown fields, bodies past the limit, prototype names and path tricks
 * in ids and file names, wrong methods, missing or wrong tokens. The rule for each: a 4xx answer with a
 * JSON `error` that says what is wrong (the viewer's static routes may answer a plain 404), never a 2xx
 * (a bad request taken) or a 5xx, never a stack trace in the answer, nothing logged as a service error;
 * and the service still answers /health at the end. The tally is printed as a diagnostic.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { openRunStore } from "../src/store/run-store.js";
import type { RunStore } from "../src/store/types.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const TOKEN = "t0ken";
const base = mkdtempSync(path.join(os.tmpdir(), "j1-serve-bad-requests-"));
const root = path.join(base, "root");
const MAX_BODY = 64 * 1024;

interface Request {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A static file route: a plain-text 404 is a fine answer there. */
  plain?: boolean;
}

interface Answer {
  status: number;
  body: string;
}

/** Raw HTTP, so paths go as written (no URL normalisation) and any Host or header can be sent. */
function send(url: string, request: Request): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.path, headers: { authorization: `Bearer ${TOKEN}`, ...request.headers } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

const JSON_TYPE = { "content-type": "application/json" };
const PAIR = { question: "2+2?", a: "4", b: "5" };

function judgments(): Request[] {
  const post = (what: string, body: string | unknown, headers: Record<string, string> = JSON_TYPE): Request => ({ what, method: "POST", path: "/v1/judgments", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const requests: Request[] = [
    post("bad JSON", "{"),
    post("an empty body", ""),
    post("a JSON array", "[]"),
    post("a JSON string", '"hi"'),
    post("JSON null", "null"),
    post("a number", "42"),
    post("trailing garbage", `${JSON.stringify(PAIR)}x`),
    post("no question", { a: "4", b: "5" }),
    post("no b", { question: "q", a: "4" }),
    post("an unknown field", { ...PAIR, bogus: 1 }),
    post("__proto__ as a field", `{"question":"q","a":"x","b":"y","__proto__":{"waits":3}}`),
    post("constructor as a field", { ...PAIR, constructor: { name: "x" } }),
    post("kind unknown", { ...PAIR, kind: "bogus" }),
    post("kind rating without response", { question: "q", kind: "rating" }),
    post("kind choice with one response", { question: "q", kind: "choice", responses: ["x"] }),
    post("a response with a pair", { ...PAIR, response: "r" }),
    post("a text too long for the body limit", { ...PAIR, a: "x".repeat(MAX_BODY) }),
    post("a body past the limit, no JSON", "x".repeat(MAX_BODY * 2)),
    post("text/plain", JSON.stringify(PAIR), { "content-type": "text/plain" }),
    post("no content type", JSON.stringify(PAIR), {}),
    post("form encoded", "question=q&a=x&b=y", { "content-type": "application/x-www-form-urlencoded" }),
    post("JSON nested 100,000 deep", `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
    post("a lone surrogate in the question", `{"question":"\\ud800","a":"x","b":"y","waits":-1}`),
    post("stream not a boolean", { ...PAIR, stream: "yes" }),
    post("earlyStop without samples", { ...PAIR, earlyStop: "decided" }),
    post("earlyStop bogus", { ...PAIR, samples: 3, earlyStop: "sometimes" }),
    post("stopWhen bogus", { ...PAIR, waits: 2, stopWhen: "bogus:1" }),
    post("stopWhen without waits", { ...PAIR, stopWhen: "confident:0.9" }),
    post("minThinking above maxThinking", { ...PAIR, minThinking: 100, maxThinking: 10 }),
    post("waitText empty", { ...PAIR, waits: 1, waitText: "" }),
  ];
  for (const [field, values] of [
    ["question", [5, null, ["q"], { text: "q" }, true]],
    ["a", [5, null, ["x"]]],
    ["waits", [-1, 1.5, "2", 65, 1e9, null, true]],
    ["samples", [0, 65, 2.5, "4", -3]],
    ["maxThinking", [0, 65_537, "10"]],
    ["minThinking", [-1, 70_000]],
    ["answerTokens", [0, 257]],
    ["temperature", [-1, 11, "hot"]],
    ["seed", [-1, 4_294_967_296, 0.5]],
    ["swap", ["yes", 1]],
    ["tie", ["no"]],
    ["trajectory", [0]],
  ] as const) {
    for (const value of values) requests.push(post(`${field} ${JSON.stringify(value)}`, { ...PAIR, [field]: value }));
  }
  return requests;
}

function batch(): Request[] {
  const post = (what: string, body: string, headers: Record<string, string> = JSON_TYPE): Request => ({ what: `batch: ${what}`, method: "POST", path: "/v1/judgments/batch", headers, body });
  return [post("an empty body", ""), post("only blank lines", "\n\n  \n"), post("text/plain", JSON.stringify(PAIR), { "content-type": "text/plain" }), post("past the body limit", `${JSON.stringify({ ...PAIR, a: "x".repeat(MAX_BODY) })}\n`)];
}

/** Lines of a batch that each must be answered 400, in a batch answered 200. */
const BAD_LINES = ["{", "[]", '"x"', JSON.stringify({ ...PAIR, id: { x: 1 } }), JSON.stringify({ ...PAIR, waits: -1 }), JSON.stringify({ question: 1 }), JSON.stringify({ ...PAIR, bogus: true }), `{"question":"q","a":"x","b":"y","__proto__":{"x":1}}`];

function runs(runId: string): Request[] {
  const start = (what: string, body: string | unknown, headers: Record<string, string> = JSON_TYPE): Request => ({ what: `POST /v1/runs: ${what}`, method: "POST", path: "/v1/runs", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const get = (what: string, route: string, plain = false): Request => ({ what, method: "GET", path: route, plain });
  return [
    start("bad JSON", "{"),
    start("no bench", { data: { pairs: "pairs.jsonl" } }),
    start("bench unknown", { bench: "nosuch" }),
    start("bench empty", { bench: "" }),
    start("bench a number", { bench: 5 }),
    start("an unknown field", { bench: "pairs", data: { pairs: "pairs.jsonl" }, bogus: 1 }),
    start("data outside the root (..)", { bench: "pairs", data: { pairs: "../outside.jsonl" } }),
    start("data an absolute path", { bench: "pairs", data: { pairs: "/etc/passwd" } }),
    start("data a folder", { bench: "pairs", data: { pairs: "." } }),
    start("data missing", { bench: "pairs", data: { pairs: "missing.jsonl" } }),
    start("data with a NUL", { bench: "pairs", data: { pairs: "pairs.jsonl\u0000.txt" } }),
    start("data URL-encoded ..", { bench: "pairs", data: { pairs: "%2e%2e/outside.jsonl" } }),
    start("data for a benchmark not asked for", { bench: "pairs", data: { harmless: "pairs.jsonl" } }),
    start("data malformed rows", { bench: "pairs", data: { pairs: "bad.jsonl" } }),
    start("data empty", { bench: "pairs", data: { pairs: "empty.jsonl" } }),
    start("waits a string", { bench: "pairs", data: { pairs: "pairs.jsonl" }, waits: "2" }),
    start("limit 0", { bench: "pairs", data: { pairs: "pairs.jsonl" }, limit: 0 }),
    start("sweep bogus", { bench: "pairs", data: { pairs: "pairs.jsonl" }, sweep: ["bogus=1"] }),
    start("stopWhen bogus", { bench: "pairs", data: { pairs: "pairs.jsonl" }, waits: 2, stopWhen: "x" }),
    start("order unknown", { bench: "pairs", data: { pairs: "pairs.jsonl" }, order: "random" }),
    start("text/plain", JSON.stringify({ bench: "pairs", data: { pairs: "pairs.jsonl" } }), { "content-type": "text/plain" }),
    get("a run that is not there", "/v1/runs/nosuch"),
    get("a run id of prototype name", "/v1/runs/constructor"),
    get("a run id __proto__", "/v1/runs/__proto__"),
    get("a run id with encoded dots", "/v1/runs/..%2f..%2fetc%2fpasswd"),
    get("a run id with a NUL", "/v1/runs/r%00x"),
    get("a run id 10,000 characters long", `/v1/runs/${"r".repeat(10_000)}`),
    get("a report of a run not there", "/v1/runs/nosuch/report"),
    get("items of a run not there", "/v1/runs/nosuch/items"),
    get("items: offset not a number", `/v1/runs/${runId}/items?offset=abc`),
    get("items: limit negative", `/v1/runs/${runId}/items?limit=-1`),
    get("items: limit huge", `/v1/runs/${runId}/items?limit=1e9`),
    get("items: point unknown", `/v1/runs/${runId}/items?point=bogus`),
    get("items: filter unknown", `/v1/runs/${runId}/items?filter=bogus`),
    get("an item that is not there", `/v1/runs/${runId}/items/nosuch`),
    get("an item of prototype name", `/v1/runs/${runId}/items/constructor`),
    get("an item with encoded dots", `/v1/runs/${runId}/items/%2e%2e`),
    get("compare with a run not there", `/v1/runs/${runId}/compare/nosuch`),
    get("compare with __proto__", `/v1/runs/${runId}/compare/__proto__`),
    get("export of a run not there", "/v1/runs/nosuch/export"),
    get("export: point unknown", `/v1/runs/${runId}/export?point=bogus`),
    get("events of a run not there", "/v1/runs/nosuch/events"),
    { what: "DELETE a run not there", method: "DELETE", path: "/v1/runs/nosuch" },
    { what: "DELETE a run of prototype name", method: "DELETE", path: "/v1/runs/constructor" },
    get("viewer: a file not there", "/viewer/nosuch.js", true),
    get("viewer: ../ out of the folder", "/viewer/../../package.json", true),
    get("viewer: encoded ../", "/viewer/%2e%2e%2f%2e%2e%2fpackage.json", true),
    get("viewer: vendor constructor", "/viewer/vendor/constructor", true),
    get("viewer: vendor __proto__", "/viewer/vendor/__proto__", true),
    get("viewer: vendor toString", "/viewer/vendor/toString", true),
    get("viewer: vendor encoded ../", "/viewer/vendor/..%2f..%2f..%2fpackage.json", true),
    get("viewer: eval ../", "/viewer/eval/../../../package.json", true),
    get("viewer: eval encoded ../", "/viewer/eval/%2e%2e/%2e%2e/%2e%2e/package.json", true),
    get("a double slash path", "//etc/passwd", true),
    get("no such route", "/v2/nothing"),
    { what: "PUT /v1/judgments", method: "PUT", path: "/v1/judgments", headers: JSON_TYPE, body: JSON.stringify(PAIR) },
    { what: "DELETE /health", method: "DELETE", path: "/health" },
    { what: "PATCH /v1/runs", method: "PATCH", path: "/v1/runs", headers: JSON_TYPE, body: "{}" },
    { what: "no token", method: "GET", path: "/v1/runs", headers: { authorization: "" } },
    { what: "a wrong token", method: "GET", path: "/v1/runs", headers: { authorization: "Bearer nope" } },
    { what: "an empty bearer", method: "GET", path: "/v1/runs", headers: { authorization: "Bearer " } },
    { what: "basic auth", method: "GET", path: "/v1/runs", headers: { authorization: "Basic dDA6a2Vu" } },
    { what: "no token on a judgment", method: "POST", path: "/v1/judgments", headers: { ...JSON_TYPE, authorization: "" }, body: JSON.stringify(PAIR) },
    { what: "a foreign Host", method: "GET", path: "/v1/runs", headers: { host: "evil.example" } },
    { what: "a foreign Origin on a judgment", method: "POST", path: "/v1/judgments", headers: { ...JSON_TYPE, origin: "https://evil.example" }, body: JSON.stringify(PAIR) },
  ];
}

const STACK = /\n\s+at .+:\d+:\d+/;

describe("bad requests to every route of j1 serve get a 4xx that says why", () => {
  let engine: LlamaCppEngine;
  let store: RunStore;
  let server: RunningServer;
  let runId = "";
  const logged: string[] = [];

  before(async () => {
    mkdirSync(root);
    const pairs = `${[1, 2].map((index) => JSON.stringify({ id: `p${index}`, question: `q${index}?`, a: "yes", b: "no", label: "A" })).join("\n")}\n`;
    writeFileSync(path.join(root, "pairs.jsonl"), pairs);
    writeFileSync(path.join(root, "bad.jsonl"), `${pairs}{"question": \n`);
    writeFileSync(path.join(root, "empty.jsonl"), "");
    writeFileSync(path.join(base, "outside.jsonl"), pairs);
    engine = await tinyEngine();
    store = openRunStore(path.join(base, "runs.sqlite"));
    server = await listen(
      createJudgeApp({
        engine,
        token: TOKEN,
        maxBodyBytes: MAX_BODY,
        queueLimit: 8,
        requestTimeoutMs: 60_000,
        format: { chatFormat: "chatml" },
        store,
        evalRuns: { format: { chatFormat: "chatml" }, dataRoot: root, maxRuns: 1 },
        allowedHosts: ["127.0.0.1", "localhost"],
        logError: (error) => logged.push(error instanceof Error ? (error.stack ?? error.message) : String(error)),
      }),
      "127.0.0.1",
      0,
    );
    // A finished run, for the routes that read one.
    const started = await send(server.url, { what: "start", method: "POST", path: "/v1/runs", headers: JSON_TYPE, body: JSON.stringify({ bench: "pairs", data: { pairs: "pairs.jsonl" } }) });
    assert.equal(started.status, 202, started.body);
    runId = (JSON.parse(started.body) as { runId: string }).runId;
    for (let attempt = 0; attempt < 600 && store.getRun(runId).status === "running"; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(store.getRun(runId).status, "done");
  });
  after(async () => {
    await server?.close();
    store?.close();
    await engine?.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it("every bad request: 4xx, an error that is a message, no stack, nothing logged; the service answers after", async (t) => {
    const requests = [...judgments(), ...batch(), ...runs(runId)];
    const wrong: string[] = [];
    let wrongStatus = 0;
    let stacks = 0;
    for (const request of requests) {
      const before = logged.length;
      const answer = await send(server.url, request);
      const problems: string[] = [];
      if (answer.status < 400 || answer.status >= 500) {
        problems.push(`HTTP ${answer.status}`);
        wrongStatus++;
      }
      if (STACK.test(answer.body) || logged.length > before) {
        problems.push(logged.length > before ? `logged: ${logged[logged.length - 1].split("\n")[0]}` : "a stack trace in the answer");
        stacks++;
      }
      if (!request.plain && answer.status >= 400) {
        let error: unknown;
        try {
          error = (JSON.parse(answer.body) as { error?: unknown }).error;
        } catch {
          error = undefined;
        }
        if (typeof error !== "string" || error.trim() === "") problems.push("no JSON error message");
      }
      if (problems.length > 0) wrong.push(`${request.what} (${request.method} ${request.path.slice(0, 80)}): ${problems.join("; ")}: ${answer.body.slice(0, 200)}`);
    }
    // Bad lines of a batch are answered one by one (the batch itself is 200): each line 400.
    const lines = await send(server.url, { what: "batch of bad lines", method: "POST", path: "/v1/judgments/batch", headers: JSON_TYPE, body: BAD_LINES.join("\n") });
    const answers = lines.body.trim().split("\n").map((line) => JSON.parse(line) as { status?: number; error?: string });
    for (const [index, line] of answers.entries()) {
      if (line.status !== 400 || typeof line.error !== "string") wrong.push(`batch line ${index + 1} (${BAD_LINES[index]}): ${JSON.stringify(line).slice(0, 200)}`);
    }
    t.diagnostic(`${requests.length + BAD_LINES.length} bad requests (${requests.length} requests and ${BAD_LINES.length} batch lines): ${wrongStatus + answers.filter((line) => line.status !== 400).length} answered other than 4xx, ${stacks} stack traces or logged errors`);
    assert.equal(answers.length, BAD_LINES.length);
    assert.deepEqual(wrong, []);
    assert.equal((await send(server.url, { what: "health", method: "GET", path: "/health" })).status, 200);
  });
});
