/**
 * j1 serve's read-only run routes and its batch route, on the real tiny engine and a real run store made
 * by runEval (a three-pair run): list, show, report, filtered and paged items, one item with its trace,
 * 404s, the token; and a JSON-lines batch whose bad middle line gives an error naming line 2.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { renderJson } from "../src/eval/report/index.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { runEval } from "../src/eval/runner.js";
import { SAMPLE_PAIRS, samplePairsRun } from "./helpers/sample-runs.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { openRunStore } from "../src/store/run-store.js";
import type { RunStore } from "../src/store/types.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const TOKEN = "runs-test-token";
const auth = { authorization: `Bearer ${TOKEN}` };

let engine: LlamaCppEngine;
let store: RunStore;
let runId: string;
let base: string;
let bare: string;
const servers: RunningServer[] = [];

async function get(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.json() };
}

describe("j1 serve: run routes and batches", () => {
  before(async () => {
    engine = await tinyEngine();
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-serve-runs-"));
    const settings = samplePairsRun(work, { waits: 1 });
    store = openRunStore(path.join(work, "runs.sqlite"));
    runId = (await runEval({ settings, store, engine, label: "serve runs test" })).runId;
    const options = { engine, token: TOKEN, maxBodyBytes: 64 * 1024, queueLimit: 1, requestTimeoutMs: 60_000, format: { chatFormat: "auto" as const } };
    const server = await listen(createJudgeApp({ ...options, store }), "127.0.0.1", 0);
    servers.push(server);
    base = server.url.replace(/\/$/, "");
    const without = await listen(createJudgeApp(options), "127.0.0.1", 0);
    servers.push(without);
    bare = without.url.replace(/\/$/, "");
  });
  after(async () => {
    for (const server of servers) await server.close(1000);
    store?.close();
    await engine?.dispose();
  });

  it("lists and shows runs as j1 runs list/show --json", async () => {
    const list = await get(`${base}/v1/runs`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, JSON.parse(JSON.stringify(store.listRuns())));
    const show = await get(`${base}/v1/runs/${runId}`);
    assert.equal(show.status, 200);
    assert.equal(show.body.run.id, runId);
    assert.deepEqual(show.body.report, JSON.parse(JSON.stringify(buildRunReport(store, runId))));
  });

  it("gives the report as j1 report --json", async () => {
    const report = await get(`${base}/v1/runs/${runId}/report`);
    assert.equal(report.status, 200);
    assert.deepEqual(report.body, JSON.parse(renderJson([buildRunReport(store, runId)]))[0]);
  });

  it("filters and pages items; wrong ones are those whose verdict differs from the label", async () => {
    const all = await get(`${base}/v1/runs/${runId}/items`);
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 3);
    for (const item of all.body.items) assert.equal(item.judgment, undefined);
    const expectedWrong = all.body.items.filter((item: any) => item.verdict !== item.label).map((item: any) => item.id);
    const wrong = await get(`${base}/v1/runs/${runId}/items?filter=wrong&point=final`);
    assert.deepEqual(
      wrong.body.items.map((item: any) => item.id),
      expectedWrong,
    );
    const page = await get(`${base}/v1/runs/${runId}/items?offset=1&limit=1`);
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.items[0].id, all.body.items[1].id);
    assert.equal((await get(`${base}/v1/runs/${runId}/items?limit=501`)).status, 400);
    const bad = await get(`${base}/v1/runs/${runId}/items?filter=nope`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /filter/);
  });

  it("gives one item with its trace", async () => {
    const id = (await get(`${base}/v1/runs/${runId}/items`)).body.items[0].id;
    const one = await get(`${base}/v1/runs/${runId}/items/${encodeURIComponent(id)}?point=final`);
    assert.equal(one.status, 200);
    assert.ok(Array.isArray(one.body.judgment.runs) && one.body.judgment.runs.length > 0);
    assert.ok(Array.isArray(one.body.judgment.runs[0].trace) && one.body.judgment.runs[0].trace.length > 0);
    // What was judged, read again from the run's data file: the question and both responses, in the item's order.
    const pair = SAMPLE_PAIRS.find((candidate) => `pairs:${candidate.id}` === id)!;
    assert.deepEqual(one.body.text, { question: pair.question, a: pair.a, b: pair.b });
  });

  it("point=final names a sweep run's last point, on the items, one item and the export", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-serve-sweep-"));
    const swept = (await runEval({ settings: { ...samplePairsRun(work, { waits: 1 }), sweep: { setting: "waits", values: [0, 1] } }, store, engine, label: "swept" })).runId;
    const items = await get(`${base}/v1/runs/${swept}/items?point=final`);
    assert.equal(items.status, 200, JSON.stringify(items.body));
    assert.equal(items.body.point, "waits=1");
    assert.equal(items.body.total, 3);
    const one = await get(`${base}/v1/runs/${swept}/items/pairs%3Ap1?point=final`);
    assert.equal(one.body.point, "waits=1");
    const exported = await fetch(`${base}/v1/runs/${swept}/export?point=final`, { headers: auth });
    assert.equal(exported.status, 200);
    const rows = (await exported.text()).trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual([...new Set(rows.map((row) => row.point))], ["waits=1"]);
    assert.equal((await get(`${base}/v1/runs/${swept}/items?point=waits=9`)).status, 400);
  });

  it("judges a batch of JSON lines; a bad line in the middle names line 2 and the others go on", async () => {
    const lines = [
      JSON.stringify({ id: "first", question: "2+2?", a: "4", b: "5" }),
      JSON.stringify({ id: "second", question: "missing b", a: "4" }),
      JSON.stringify({ id: "third", kind: "rating", question: "2+2?", response: "4" }),
    ];
    const response = await fetch(`${base}/v1/judgments/batch`, { method: "POST", headers: { ...auth, "content-type": "application/x-ndjson" }, body: `${lines.join("\n")}\n` });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/x-ndjson/);
    const answers = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(answers.length, 3);
    const errors = answers.filter((answer) => answer.error !== undefined);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].id, "second");
    assert.equal(errors[0].status, 400);
    assert.match(errors[0].error, /line 2/);
    assert.match(errors[0].error, /"b"/);
    const judged = answers.filter((answer) => answer.error === undefined);
    assert.deepEqual(judged.map((answer) => answer.id).sort(), ["first", "third"]);
    for (const answer of judged) assert.ok(Array.isArray(answer.runs));
    const refused = await fetch(`${base}/v1/judgments/batch`, { method: "POST", body: lines[0] });
    assert.equal(refused.status, 401);
  });

  it("answers 404 for an unknown run or no store, and 401 without the token", async () => {
    const missing = await get(`${base}/v1/runs/nosuchrun`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /nosuchrun/);
    assert.equal((await get(`${base}/v1/runs/nosuchrun/items`)).status, 404);
    const none = await get(`${bare}/v1/runs`);
    assert.equal(none.status, 404);
    assert.match(none.body.error, /no run store/);
    assert.equal((await get(`${base}/v1/runs`, {})).status, 401);
    assert.equal((await get(`${base}/v1/runs/${runId}/report`, {})).status, 401);
  });
});
