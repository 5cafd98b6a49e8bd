/**
 * Eval runs started through `j1 serve` (POST /v1/runs), on the real tiny engine, real HTTP and real
 * SQLite: progress as server-sent events to the end, the run's report, a live judgment answered while a
 * run goes on, a cancel that keeps what was judged (resumable), one run at a time (429), and bad bodies
 * named by field.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import type { RunState } from "../src/server/eval-runs-routes.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { openRunStore } from "../src/store/run-store.js";
import { shellQuote } from "../src/core/shell-quote.js";
import type { RunStore } from "../src/store/types.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const run = promisify(execFile);
const J1 = path.resolve("bin/j1");
const root = mkdtempSync(path.join(os.tmpdir(), "j1-serve-runs-"));
const TOKEN = "runs-token";

function writePairs(name: string, count: number): void {
  const lines = Array.from({ length: count }, (_, index) => JSON.stringify({ id: `p${index}`, question: `What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1), label: index % 3 === 0 ? "B" : "A" }));
  writeFileSync(path.join(root, name), `${lines.join("\n")}\n`);
}

/** Reads a server-sent event stream to its end; returns the events in order. */
async function readEvents(url: string): Promise<Array<{ event: string; state: RunState }>> {
  const reply = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(reply.status, 200);
  const text = await reply.text();
  return text
    .split(/\n\n/)
    .filter((block) => block.includes("data:"))
    .map((block) => {
      const lines = block.split("\n");
      return { event: lines.find((line) => line.startsWith("event:"))?.slice(6).trim() ?? "message", state: JSON.parse(lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("")) as RunState };
    });
}

/** Reads the event stream until a progress event reports at least `count` items done, then hangs up. */
async function waitForProgress(url: string, count: number): Promise<RunState> {
  const reply = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const reader = (reply.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before the run made progress");
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        const data = block.split("\n").find((line) => line.startsWith("data:"));
        if (!data) continue;
        const state = JSON.parse(data.slice(5)) as RunState;
        if (state.done >= count) return state;
      }
    }
  } finally {
    await reader.cancel();
  }
}

describe("eval runs through j1 serve (tiny model, real HTTP, real SQLite)", () => {
  let engine: LlamaCppEngine;
  let store: RunStore;
  let server: RunningServer;
  const call = (method: string, route: string, body?: unknown) =>
    fetch(`${server.url}${route}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

  before(async () => {
    writePairs("small.jsonl", 12);
    writePairs("large.jsonl", 400);
    engine = await tinyEngine();
    store = openRunStore(path.join(root, "runs.sqlite"));
    server = await listen(
      createJudgeApp({ engine, token: TOKEN, maxBodyBytes: 64 * 1024, queueLimit: 8, requestTimeoutMs: 60_000, format: { chatFormat: "chatml" }, store, evalRuns: { format: { chatFormat: "chatml" }, dataRoot: root, maxRuns: 1 } }),
      "127.0.0.1",
      0,
    );
  });
  after(async () => {
    await server.close();
    store.close();
    await engine.dispose();
  });

  it("starts a run, streams its progress to the end, and the run's report is then served", async () => {
    const started = await call("POST", "/v1/runs", { bench: "pairs", data: { pairs: "small.jsonl" }, order: "as-given", waits: 1 });
    assert.equal(started.status, 202);
    const { runId, events } = (await started.json()) as { runId: string; events: string };
    const seen = await readEvents(`${server.url}${events}`);
    const last = seen[seen.length - 1];
    assert.equal(last.event, "done");
    assert.equal(last.state.done, 12);
    assert.equal(last.state.total, 12);
    assert.ok(seen.slice(0, -1).every((entry) => entry.event === "progress" && entry.state.done <= 12));
    const report = (await (await call("GET", `/v1/runs/${runId}/report`)).json()) as { benchmarks: Array<{ benchmark: string; score: { score: number } }> };
    assert.equal(report.benchmarks[0].benchmark, "pairs");
    // The tiny model always says A: 8 of the 12 labels are A.
    assert.equal(last.state.scores?.pairs, report.benchmarks[0].score.score);
    assert.ok(Math.abs(report.benchmarks[0].score.score - (100 * 8) / 12) < 1e-9);
    assert.equal(store.getRun(runId).status, "done");
    // A client that connects after the end gets the final state at once.
    const late = await readEvents(`${server.url}${events}`);
    assert.deepEqual(
      late.map((entry) => entry.event),
      ["done"],
    );
  });

  it("answers a live judgment while a run goes on, refuses a second run (429), and a cancel keeps what was judged", async () => {
    const started = await call("POST", "/v1/runs", { bench: "pairs", data: { pairs: "large.jsonl" }, order: "as-given", waits: 4 });
    assert.equal(started.status, 202);
    const { runId } = (await started.json()) as { runId: string };
    const going = await waitForProgress(`${server.url}/v1/runs/${runId}/events`, 5);
    assert.equal(going.status, "running");
    assert.ok(going.judgmentsPerSecond > 0 && going.etaSeconds !== undefined, "progress carries a rate and an ETA");
    const second = await call("POST", "/v1/runs", { bench: "pairs", data: { pairs: "small.jsonl" } });
    assert.equal(second.status, 429);
    assert.ok(second.headers.get("retry-after"));
    const live = await call("POST", "/v1/judgments", { question: "2+2?", a: "4", b: "5" });
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as { verdict: string }).verdict, "A");
    const shown = await call("GET", `/v1/runs/${runId}`);
    const stillGoing = (await shown.json()) as { run: { status: string } };
    assert.equal(shown.status, 200, JSON.stringify(stillGoing));
    assert.equal(stillGoing.run.status, "running", "the live judgment did not wait for the run to end");
    const early = await call("GET", `/v1/runs/${runId}/report`);
    assert.equal(early.status, 409, "no report before every item is judged");
    const cancelled = await call("DELETE", `/v1/runs/${runId}`);
    assert.equal(cancelled.status, 200);
    const state = (await cancelled.json()) as RunState & { resume: string };
    assert.equal(state.status, "cancelled");
    assert.ok(state.done > 0 && state.done < 400, `judged ${state.done} of 400 before the cancel`);
    // The service's own store: the command runs as given wherever the service was started.
    assert.equal(state.resume, `j1 eval --resume ${runId} --store ${shellQuote(store.file)}`);
    assert.equal(store.doneItemPoints(runId).size, state.done, "every judged item is in the store");
    const events = await readEvents(`${server.url}/v1/runs/${runId}/events`);
    assert.equal(events[events.length - 1].event, "cancelled");
  });

  it("sends no CORS headers unless an origin is named, and then only to that origin", async () => {
    const preflight = (url: string, origin: string) => fetch(`${url}/v1/judgments`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" } });
    const closed = await preflight(server.url, "http://page.example");
    assert.equal(closed.headers.get("access-control-allow-origin"), null);
    const open = await listen(createJudgeApp({ engine, maxBodyBytes: 1024, queueLimit: 1, requestTimeoutMs: 10_000, corsOrigins: ["http://page.example"] }), "127.0.0.1", 0);
    try {
      const allowed = await preflight(open.url, "http://page.example");
      assert.equal(allowed.headers.get("access-control-allow-origin"), "http://page.example");
      assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /authorization/);
      const other = await preflight(open.url, "http://elsewhere.example");
      assert.notEqual(other.headers.get("access-control-allow-origin"), "http://elsewhere.example");
    } finally {
      await open.close();
    }
    const refused = await run(J1, ["serve", "--model", "tiny", "--cors", "http://page.example/app"]).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--cors.*did you mean http:\/\/page\.example/);
    const noFolder = await run(J1, ["serve", "--model", "tiny", "--data-root", path.join(root, "no-such-folder")]).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(noFolder.code, 2);
    assert.match(noFolder.stderr, /--data-root.*no folder/);
  });

  it("refuses bad bodies naming the field, and data outside the service's folder", async () => {
    for (const [body, pattern] of [
      [{ bench: "pairs", data: { pairs: "small.jsonl" }, colour: "blue" }, /colour/],
      [{ bench: "nonesuch" }, /bench/],
      [{ bench: "pairs", data: { pairs: "../../etc/passwd" } }, /outside/],
      [{ bench: "pairs", data: { pairs: "missing.jsonl" } }, /no file/],
      [{ bench: "pairs", data: { pairs: "small.jsonl" }, sweep: ["confidence=0.9"] }, /sweep/],
      [{ bench: "pairs", data: { pairs: "small.jsonl" }, waits: -1 }, /waits/],
    ] as const) {
      const reply = await call("POST", "/v1/runs", body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.match(((await reply.json()) as { error: string }).error, pattern);
    }
    const noToken = await fetch(`${server.url}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(noToken.status, 401);
    assert.equal((await call("GET", "/v1/runs/nonesuch/events")).status, 404);
  });
});
