/**
 * `j1 serve` against what a hostile client or a hostile data folder can do (real tiny engine, real HTTP,
 * real SQLite): symlinks, FIFOs and devices in --data-root, cross-site requests without a token, a Host
 * the service does not answer to, concurrent run requests past --max-runs, prototype names as files, and
 * /health telling the model's path.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
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

const base = mkdtempSync(path.join(os.tmpdir(), "j1-serve-hardening-"));
const root = path.join(base, "root");
const outside = path.join(base, "outside");
const pairs = (count: number) => `${Array.from({ length: count }, (_, index) => JSON.stringify({ id: `p${index}`, question: `q${index}?`, a: "yes", b: "no", label: "A" })).join("\n")}\n`;

/** A request with a Host header of our choosing (fetch does not let one set it). */
function rawRequest(url: string, options: { method: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method, headers: options.headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

describe("j1 serve hardened (tiny model, real HTTP, real SQLite)", () => {
  let engine: LlamaCppEngine;
  let store: RunStore;
  let server: RunningServer;
  const post = (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => fetch(`${server.url}/v1/runs`, { method: "POST", headers, body: JSON.stringify(body) });

  before(async () => {
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(path.join(outside, "secret.jsonl"), pairs(2));
    writeFileSync(path.join(outside, "notjson.txt"), "TOP SECRET TEXT\n");
    symlinkSync(path.join(outside, "secret.jsonl"), path.join(root, "l.jsonl"));
    symlinkSync(path.join(outside, "notjson.txt"), path.join(root, "n.jsonl"));
    symlinkSync("/dev/zero", path.join(root, "z.jsonl"));
    execFileSync("mkfifo", [path.join(root, "f.jsonl")]);
    writeFileSync(path.join(root, "..foo.jsonl"), pairs(2));
    writeFileSync(path.join(root, "many.jsonl"), pairs(40));
    engine = await tinyEngine();
    store = openRunStore(path.join(base, "runs.sqlite"));
    // No token: what a page on another site can make a browser send is refused by type, Origin and Host.
    server = await listen(
      createJudgeApp({ engine, maxBodyBytes: 64 * 1024, queueLimit: 8, requestTimeoutMs: 60_000, format: { chatFormat: "chatml" }, store, evalRuns: { format: { chatFormat: "chatml" }, dataRoot: root, maxRuns: 1 }, allowedHosts: ["127.0.0.1", "localhost"] }),
      "127.0.0.1",
      0,
    );
  });
  after(async () => {
    await server.close();
    store.close();
    await engine.dispose();
  });

  it("refuses a symlink out of the data root, a FIFO and a device, without quoting what lies behind them", async () => {
    for (const [file, pattern] of [
      ["l.jsonl", /"l\.jsonl" is outside the service's data folder/],
      ["n.jsonl", /"n\.jsonl" is outside the service's data folder/],
      ["z.jsonl", /"z\.jsonl" is outside the service's data folder/],
      ["f.jsonl", /"f\.jsonl" is not a regular file/],
    ] as const) {
      const reply = await post({ bench: "pairs", data: { pairs: file } });
      const text = ((await reply.json()) as { error: string }).error;
      assert.equal(reply.status, 400, `${file}: ${text}`);
      assert.match(text, pattern);
      assert.ok(!text.includes("TOP SECRET"), "the target's content is never quoted");
    }
    // Five runs naming the FIFO leave the service answering.
    for (let index = 0; index < 5; index++) assert.equal((await post({ bench: "pairs", data: { pairs: "f.jsonl" } })).status, 400);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it("refuses cross-site requests: a text/plain body (415), a foreign Origin (403), a Host it does not answer to (403)", async () => {
    const plain = await post({ bench: "pairs", data: { pairs: "..foo.jsonl" } }, { "content-type": "text/plain" });
    assert.equal(plain.status, 415);
    const foreign = await post({ bench: "pairs", data: { pairs: "..foo.jsonl" } }, { "content-type": "application/json", origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    assert.match(((await foreign.json()) as { error: string }).error, /origin "https:\/\/evil\.example" are refused/);
    const rebound = await rawRequest(`${server.url}/v1/runs`, { method: "GET", headers: { host: "evil.example" } });
    assert.equal(rebound.status, 403);
    assert.match((JSON.parse(rebound.body) as { error: string }).error, /Host header "evil\.example" does not name this service/);
    const own = await rawRequest(`${server.url}/health`, { method: "GET", headers: { host: `localhost:${new URL(server.url).port}` } });
    assert.equal(own.status, 200);
  });

  it("--max-runs 1 holds under concurrent requests; a name starting with two dots inside the root is inside", async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, () => post({ bench: "pairs", data: { pairs: "many.jsonl" } })));
    const statuses = replies.map((reply) => reply.status).sort();
    assert.deepEqual(statuses, [202, 429, 429, 429, 429, 429]);
    const started = replies.find((reply) => reply.status === 202) as Response;
    const { runId } = (await started.json()) as { runId: string };
    assert.equal((await fetch(`${server.url}/v1/runs/${runId}`, { method: "DELETE" })).status < 300, true);
    for (let attempt = 0; attempt < 200 && store.getRun(runId).status === "running"; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    const dots = await post({ bench: "pairs", data: { pairs: "..foo.jsonl" } });
    assert.equal(dots.status, 202, await dots.clone().text());
  });

  it("a prototype property is not a viewer file (404, not 500)", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) assert.equal((await fetch(`${server.url}/viewer/vendor/${name}`)).status, 404, name);
  });

  it("/health tells a caller without the token the model's name, never its path", async () => {
    const app = createJudgeApp({ engine, token: "t0ken", maxBodyBytes: 1024, queueLimit: 1, requestTimeoutMs: 1000 });
    const full = engine.describe() as { modelFile?: string };
    assert.ok(typeof full.modelFile === "string" && path.isAbsolute(full.modelFile), "the tiny engine has a model file");
    const anonymous = JSON.stringify(await (await app.request("/health")).json());
    assert.ok(!anonymous.includes(full.modelFile as string), anonymous);
    assert.ok(anonymous.includes(path.basename(full.modelFile as string)));
    const trusted = JSON.stringify(await (await app.request("/health", { headers: { authorization: "Bearer t0ken" } })).json());
    assert.ok(trusted.includes(full.modelFile as string));
  });
});
