/**
 * Benchmark: the web viewer on a 10,000-judgment run. A real SQLite store gets one run of 10,000 pairs,
 * written through the store API with synthetic judgments of realistic size (a ~3,000-character prompt,
 * ~1,500 characters of thinking with two injected waits, the answer; verdicts varied so filters have work),
 * and its report saved as `j1 eval` does. The real service (createJudgeApp; its engine is never called)
 * serves it, and Debian's Chromium, through playwright-core, loads the run page five times in a fresh
 * page each: the time from navigation until the run's report is shown and until the item list is shown.
 * Baselines from the same process and browser: a page of JSON from the same server (/health), and the
 * viewer's runs list. Also the API's own times, from Node. Medians of 5.
 *
 *   node dist/bench/viewer-load.js [--items 10000] [--json]
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchChromium } from "../test/helpers/browser.js";
import type { Judgment } from "../src/core/judgment.js";
import type { TraceSpan } from "../src/core/trace.js";
import type { Engine } from "../src/engines/engine.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen } from "../src/server/reward-server.js";
import { judgmentKey, openRunStore } from "../src/store/run-store.js";

const args = process.argv.slice(2);
const itemsIndex = args.indexOf("--items");
const N = itemsIndex >= 0 ? Number(args[itemsIndex + 1]) : 10_000;
const LOADS = 5;
const TOKEN = "bench-token";

const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-viewer-"));
const store = openRunStore(path.join(work, "runs.sqlite"));
const run = store.createRun({ benchmark: "pairs", label: "synthetic 10k, waits=2", settings: { benchmarks: ["pairs"], seed: 0 } });
let started = performance.now();
const categories = ["chat", "chat-hard", "safety", "reasoning"];
const items = Array.from({ length: N }, (_, index) => ({ id: `pairs:item-${index}`, category: categories[index % 4], label: index % 2 === 0 ? "A" : "B" }));
store.setRunItems(run.id, items, 0);
const filler = (seed: number, length: number) => {
  const words = ["the", "response", "correct", "because", "first", "second", "answer", "claims", "checks", "units", "wrong", "clearly"];
  let text = "";
  for (let index = 0; text.length < length; index++) text += `${words[(seed * 7 + index * 13) % words.length]} `;
  return text;
};
items.forEach((item, index) => {
  const verdict = index % 5 === 0 ? (item.label === "A" ? "B" : "A") : item.label;
  const trace: TraceSpan[] = [
    { source: "prompt", text: `<|im_start|>system\nYou are a judge.<|im_end|>\n<|im_start|>user\nQuestion ${index}: ${filler(index, 3000)}<|im_end|>\n<|im_start|>assistant\n<think>\n`, tokens: 720 },
    { source: "generated", text: filler(index + 1, 600), tokens: 130, role: "thinking" },
    { source: "injected", text: "Wait", tokens: 1, role: "wait" },
    { source: "generated", text: filler(index + 2, 500), tokens: 110, role: "thinking" },
    { source: "injected", text: "Wait", tokens: 1, role: "wait" },
    { source: "generated", text: filler(index + 3, 400), tokens: 90, role: "thinking" },
    { source: "generated", text: "</think>", tokens: 1, role: "think-end" },
    { source: "injected", text: "[[", tokens: 1, role: "answer-prefix" },
    { source: "generated", text: `${verdict}]]`, tokens: 2, role: "answer" },
  ];
  const usage = { promptTokens: 720, thinkingTokens: 331, injectedTokens: 3, answerTokens: 2, evaluatedTokens: 1055, cachedTokens: 0 };
  const confidence = 0.5 + ((index * 37) % 50) / 100;
  const judgment: Judgment = {
    kind: "pairwise",
    verdict,
    score: null,
    status: "ok",
    confidence,
    waitsUsed: 2,
    forcedEnd: false,
    thinkingEnd: "waits-used",
    trace,
    usage,
    wallMs: 900,
    runs: [{ order: "AB", sample: 0, seed: index, verdict, rawVerdict: verdict, score: null, status: "ok", confidence, waitsUsed: 2, forcedEnd: false, thinkingEnd: "waits-used", trace, usage, wallMs: 900 }],
  };
  store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key: judgmentKey({ bench: "viewer", item: item.id }), judgment });
});
const saveSeconds = (performance.now() - started) / 1000;
store.setRunStatus(run.id, "done");
started = performance.now();
store.saveReport(run.id, buildRunReport(store, run.id));
const reportSeconds = (performance.now() - started) / 1000;

// The service needs an engine object for its judgment routes; none is called here.
const engine = { capabilities: { parallelSessions: 1 }, describe: () => ({}) } as unknown as Engine;
const server = await listen(createJudgeApp({ engine, token: TOKEN, maxBodyBytes: 65_536, queueLimit: 1, requestTimeoutMs: 60_000, store }), "127.0.0.1", 0);
const base = server.url.replace(/\/$/, "");

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function apiMs(url: string): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < LOADS; index++) {
    const begin = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    times.push(performance.now() - begin);
  }
  return median(times);
}

const profile = mkdtempSync(path.join(os.tmpdir(), "j1-bench-chromium-"));
const context = await launchChromium(profile);
await context.addInitScript(`sessionStorage.setItem("j1.token", ${JSON.stringify(TOKEN)})`);
/** Median ms from navigation until each selector is visible, over LOADS fresh pages. */
async function pageMs(url: string, selectors: string[]): Promise<number[]> {
  const times: number[][] = selectors.map(() => []);
  for (let index = 0; index < LOADS; index++) {
    const page = await context.newPage();
    const begin = performance.now();
    await page.goto(url, { waitUntil: "commit" });
    await Promise.all(
      selectors.map(async (selector, which) => {
        await page.locator(selector).first().waitFor({ timeout: 30_000 });
        times[which].push(performance.now() - begin);
      }),
    );
    await page.close();
  }
  return times.map(median);
}

// One warm-up load, so the figures are of a page whose modules the server has read once (as in use).
await pageMs(`${base}/#/run/${run.id}`, ["table.items tbody tr"]);
const [healthMs] = await pageMs(`${base}/health`, ["body"]);
const [runsListMs] = await pageMs(`${base}/#/`, ["table.runs tbody tr"]);
const [reportShownMs, itemsShownMs] = await pageMs(`${base}/#/run/${run.id}`, ["#run-report svg, #run-report section", "table.items tbody tr"]);
const [wrongShownMs] = await pageMs(`${base}/#/run/${run.id}?filter=wrong&offset=1000`, ["table.items tbody tr"]);
const [traceShownMs] = await pageMs(`${base}/#/run/${run.id}/item/${encodeURIComponent("pairs:item-9999")}`, ["mark.injected-wait"]);
const api = {
  items: await apiMs(`${base}/v1/runs/${run.id}/items?limit=50`),
  itemsWrong: await apiMs(`${base}/v1/runs/${run.id}/items?filter=wrong&offset=1000&limit=50`),
  report: await apiMs(`${base}/v1/runs/${run.id}/report`),
  search: await apiMs(`${base}/v1/runs/${run.id}/items?q=question%209999:`),
  compareSelf: await apiMs(`${base}/v1/runs/${run.id}/compare/${run.id}?limit=50`),
};
await context.close();
await server.close(1000);
store.close();
rmSync(profile, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });

const figures = { items: N, saveSeconds, reportSeconds, browser: { healthMs, runsListMs, reportShownMs, itemsShownMs, wrongShownMs, traceShownMs }, apiMs: api };
if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else {
  const row = (name: string, ms: number) => console.log(`| ${name.padEnd(52)} | ${ms.toFixed(0).padStart(7)} |`);
  console.log(`j1 viewer, one run of ${N.toLocaleString("en-US")} judgments (written in ${saveSeconds.toFixed(1)} s, report built in ${reportSeconds.toFixed(1)} s)`);
  console.log(`median of ${LOADS} loads, Chromium headless, fresh page each\n`);
  console.log(`| ${"what".padEnd(52)} | ${"ms".padStart(7)} |`);
  console.log(`| ${"-".repeat(52)} | ${"-".repeat(7)} |`);
  row("baseline: /health (JSON page, same server)", healthMs);
  row("baseline: viewer runs list shown", runsListMs);
  row("run page: report (curves, metrics) shown", reportShownMs);
  row("run page: item list shown (first 50)", itemsShownMs);
  row("run page: filter=wrong, offset 1000, list shown", wrongShownMs);
  row("trace view of one item shown", traceShownMs);
  row("API GET /items?limit=50", api.items);
  row("API GET /items?filter=wrong&offset=1000", api.itemsWrong);
  row("API GET /report (saved)", api.report);
  row("API GET /items?q=… (search, decodes every trace)", api.search);
  row("API GET /compare (run with itself)", api.compareSelf);
}
