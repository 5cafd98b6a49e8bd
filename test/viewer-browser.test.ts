/**
 * The web viewer of j1 serve, in a real Chromium (Debian's, else the npm registry's: test/helpers/browser.ts; driven by playwright-core) against the real
 * service on the tiny engine and a real run store with two runEval runs on the same three pairs: one plain,
 * one sweeping waits 0-2 with both orders judged (so traces hold injected waits and a pass shown swapped).
 * It clicks through the runs list, a run, a filtered and a searched item list, a trace, a comparison and a
 * live streamed judgment. Before that, the routes the viewer adds (compare, search, export, the assets) over
 * plain HTTP. Screenshots go to test-artifacts/viewer/.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { runEval } from "../src/eval/runner.js";
import { samplePairsRun } from "./helpers/sample-runs.js";
import type { EvalSettings } from "../src/eval/eval-settings.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { openRunStore } from "../src/store/run-store.js";
import type { RunStore } from "../src/store/types.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const TOKEN = "viewer-test-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const SHOTS = path.resolve("test-artifacts/viewer");

let engine: LlamaCppEngine;
let store: RunStore;
let plainRun: string;
let sweptRun: string;
let base: string;
let server: RunningServer;
let context: BrowserContext | undefined;
let page: Page;
let profile: string;

async function get(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: any; type: string }> {
  const response = await fetch(url, { headers });
  const type = response.headers.get("content-type") ?? "";
  return { status: response.status, body: type.includes("application/json") ? await response.json() : await response.text(), type };
}

describe("j1 serve: the web viewer", () => {
  before(async () => {
    engine = await tinyEngine();
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-viewer-"));
    const settings = samplePairsRun(work, { waits: 0 });
    store = openRunStore(path.join(work, "runs.sqlite"));
    plainRun = (await runEval({ settings, store, engine, label: "plain waits=0" })).runId;
    const swept = { ...settings, swap: true, sweep: { setting: "waits", values: [0, 1, 2] } } as EvalSettings;
    sweptRun = (await runEval({ settings: swept, store, engine, label: "swap, waits 0-2" })).runId;
    server = await listen(createJudgeApp({ engine, token: TOKEN, maxBodyBytes: 64 * 1024, queueLimit: 2, requestTimeoutMs: 60_000, format: { chatFormat: "auto" }, store }), "127.0.0.1", 0);
    base = server.url.replace(/\/$/, "");
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close(1000);
    store?.close();
    await engine?.dispose();
  });

  it("compares two runs on the same items: flips, fixes and the thinking of each", async () => {
    const all = await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}`);
    assert.equal(all.status, 200);
    assert.equal(all.body.summary.common, 3);
    assert.equal(all.body.runs.b.point, "waits=2");
    const plain = (await get(`${base}/v1/runs/${plainRun}/items`)).body.items;
    const swept = (await get(`${base}/v1/runs/${sweptRun}/items?point=waits=2`)).body.items;
    const flips = plain.filter((item: any, index: number) => item.verdict !== swept[index].verdict).map((item: any) => item.itemId);
    assert.equal(all.body.summary.flipped, flips.length);
    assert.deepEqual(
      all.body.items.map((row: any) => [row.itemId, row.a.thinkingTokens, row.b.thinkingTokens]),
      plain.map((item: any, index: number) => [item.itemId, item.thinkingTokens, swept[index].thinkingTokens]),
    );
    // Waits only add thinking: the swept run thought more in total than the plain one.
    assert.ok(all.body.summary.thinkingTokens.b > all.body.summary.thinkingTokens.a);
    const flipped = await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}?filter=flipped`);
    assert.deepEqual(flipped.body.items.map((row: any) => row.itemId), flips);
    const bad = await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}?filter=nope`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^filter/);
    const badPoint = await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}?otherPoint=waits=9`);
    assert.equal(badPoint.status, 400);
    assert.match(badPoint.body.error, /^otherPoint/);
    assert.equal((await get(`${base}/v1/runs/${plainRun}/compare/nosuch`)).status, 404);
    assert.equal((await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}`, {})).status, 401);
  });

  it("searches items by their text and exports a run as JSON lines", async () => {
    const found = await get(`${base}/v1/runs/${plainRun}/items?q=france`);
    assert.equal(found.status, 200);
    assert.deepEqual(found.body.items.map((item: any) => item.itemId), ["pairs:p2"]);
    assert.equal((await get(`${base}/v1/runs/${plainRun}/items?q=no-such-text-anywhere`)).body.total, 0);
    assert.equal((await get(`${base}/v1/runs/${plainRun}/items?q=${"x".repeat(201)}`)).status, 400);
    const exported = await get(`${base}/v1/runs/${sweptRun}/export`);
    assert.equal(exported.status, 200);
    assert.match(exported.type, /application\/x-ndjson/);
    const rows = (exported.body as string).trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(rows.length, 9, "three items at three points");
    assert.deepEqual(rows, JSON.parse(JSON.stringify([...store.exportRun(sweptRun)])));
    const one = await get(`${base}/v1/runs/${sweptRun}/export?point=waits=1`);
    assert.equal((one.body as string).trim().split("\n").length, 3);
    assert.equal((await get(`${base}/v1/runs/${sweptRun}/export?point=nope`)).status, 400);
    assert.equal((await get(`${base}/v1/runs/${sweptRun}/export`, {})).status, 401);
  });

  it("serves the page, its code and the vendor modules without a token, with their content types", async () => {
    const pageHtml = await get(`${base}/`, {});
    assert.equal(pageHtml.status, 200);
    assert.match(pageHtml.type, /text\/html/);
    assert.match(pageHtml.body, /importmap/);
    for (const asset of ["/viewer/app.js", "/viewer/vendor/preact.js", "/viewer/vendor/preact-hooks.js", "/viewer/vendor/htm.js", "/viewer/eval/report/svg-curve.js", "/viewer/eval/scaling-trend.js"]) {
      const response = await get(`${base}${asset}`, {});
      assert.equal(response.status, 200, asset);
      assert.match(response.type, /text\/javascript/, asset);
    }
    assert.match((await get(`${base}/viewer/style.css`, {})).type, /text\/css/);
    // Every file of the viewer's folder is served (none left out of the allow list) and shipped in the package.
    for (const file of readdirSync(path.resolve("src/server/viewer")).filter((name) => name !== "index.html")) assert.equal((await get(`${base}/viewer/${file}`, {})).status, 200, file);
    assert.ok(JSON.parse(readFileSync("package.json", "utf8")).files.includes("src/server/viewer"));
    assert.equal((await get(`${base}/viewer/eval/../../run-store.js`, {})).status, 404);
    assert.equal((await get(`${base}/viewer/eval/report/nosuch.js`, {})).status, 404);
    assert.equal((await get(`${base}/viewer/vendor/zod.js`, {})).status, 404);
  });

  it("clicks through runs, a run, filtered and searched items, a trace, a comparison and a live judgment in Chromium", async () => {
    profile = mkdtempSync(path.join(os.tmpdir(), "j1-chromium-"));
    context = await launchChromium(profile);
    page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));

    // Without a token the page loads and says what is missing; with it, the runs and the paper's table.
    await page.goto(`${base}/`);
    await page.locator(".error").waitFor({ timeout: 10_000 }).catch((error) => assert.fail(`${error}; page errors: ${problems.join("; ")}`));
    assert.match(await page.locator(".error").innerText(), /token/i);
    // The 401s the tokenless page got are expected; from here on, no error may reach the console.
    problems.length = 0;
    await page.fill("input[name=token]", TOKEN);
    await page.click("form.token button");
    await page.locator(`tr[data-run="${sweptRun}"]`).waitFor();
    assert.equal(await page.locator("table.runs tbody tr").count(), 2);
    assert.equal(await page.getByText("Loading the j1 viewer").count(), 0, "the placeholder is replaced, not kept beside the app");
    await page.locator("table.paper tbody tr").first().waitFor();
    assert.equal(await page.locator("table.paper tbody tr").count(), 2);
    assert.match(await page.locator("table.paper thead").innerText(), /pairs/);
    await page.screenshot({ path: path.join(SHOTS, "runs.png"), fullPage: true });

    // The swept run: its report section (a scaling curve over the waits) and its item list.
    await page.click(`tr[data-run="${sweptRun}"] a`);
    await page.locator("#run-report svg.curve").first().waitFor();
    await page.locator("table.items tbody tr").first().waitFor();
    assert.equal(await page.locator("table.items tbody tr").count(), 3);
    assert.match(await page.locator("#run-report").innerText(), /Uniform metrics/);
    // What matters first: the scores and curves sit above the item rows, the worst items' traces below them.
    const top = (selector: string) => page.locator(selector).first().evaluate((node) => node.getBoundingClientRect().top);
    assert.ok((await top("#run-report svg.curve")) < (await top("table.items")), "the curve is above the items");
    assert.ok((await top("table.items")) < (await top("#run-worst details.item")), "the worst items are below the items");
    // The verdict column lines up with its header (the report's own .verdict style does not reach it).
    const header = await page.locator("table.items th").nth(3).boundingBox();
    const cell = await page.locator("table.items tbody td.verdict-cell").first().boundingBox();
    assert.equal(Math.round(cell!.x), Math.round(header!.x), "the verdict cells start where their header does");
    // Two runs with one label are told apart by what else the page says (benchmark, when made).
    assert.match(await page.locator("#run-label").innerText(), /made \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    // A worst item judged in both orders says what each order gave, in the item's labels.
    assert.match(await page.locator("#run-worst details.item summary").first().innerText(), /AB gave (A|B|no verdict), BA gave (A|B|no verdict)/);
    await page.screenshot({ path: path.join(SHOTS, "run.png"), fullPage: true });

    // Filtered: the rows are those the API gives for the same filter.
    const wrongIds = (await get(`${base}/v1/runs/${sweptRun}/items?filter=wrong`)).body.items.map((item: any) => item.itemId);
    await page.selectOption("#filter", "wrong");
    await page.waitForFunction(`document.querySelector("#item-count")?.textContent?.startsWith("${wrongIds.length} item")`);
    assert.deepEqual(await page.locator("table.items tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-item"))), wrongIds);
    assert.match(page.url(), /filter=wrong/);
    await page.selectOption("#filter", "");
    await page.fill("#search", "France");
    await page.press("#search", "Enter");
    await page.waitForFunction(`document.querySelector("#item-count")?.textContent?.includes("France")`);
    assert.deepEqual(await page.locator("table.items tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-item"))), ["pairs:p2"]);

    // The trace: waits marked as injected, and the swapped pass says so, with both verdicts.
    await page.click('tr[data-item="pairs:p2"] a');
    await page.locator("section.pass").first().waitFor();
    assert.equal(await page.locator("section.pass").count(), 2, "both orders of the pair");
    // What was judged, outside the folded prompt: the question and both responses in the item's order.
    assert.equal(await page.locator("#item-question .item-text").innerText(), "Capital of France?");
    assert.equal(await page.locator("#item-a .item-text").innerText(), "Lyon");
    assert.equal(await page.locator("#item-b .item-text").innerText(), "Paris");
    assert.ok((await page.locator("mark.injected-wait").count()) >= 2, "waits=2 marks each injected wait");
    assert.match(await page.locator("mark.injected-wait").first().innerText(), /⟦Wait⟧/);
    const swapped = page.locator('section.pass[data-order="BA"]');
    assert.match(await swapped.locator(".order-note.swapped").innerText(), /Shown swapped: the model saw the item's B as "Response A"/);
    const judgment = (await get(`${base}/v1/runs/${sweptRun}/items/pairs%3Ap2`)).body.judgment;
    const ba = judgment.runs.find((run: any) => run.order === "BA");
    assert.equal(await swapped.locator(".raw-verdict").innerText(), `[[${ba.rawVerdict ?? "—"}]]`);
    assert.equal(await swapped.locator(".item-verdict").innerText(), ba.verdict ?? "—");
    if (ba.rawVerdict === "A" || ba.rawVerdict === "B") assert.notEqual(ba.rawVerdict, ba.verdict, "a swapped pass's written letter names the other response");
    // The verdict trajectory: the verdicts read on the way (at 0 and 1 waits of the sweep), a dot each, in the item's labels.
    assert.deepEqual(
      ba.probes.map((probe: any) => probe.waits),
      [0, 1],
    );
    assert.equal(await swapped.locator(".trajectory-row circle").count(), ba.probes.length);
    const flipped = ba.probes.map((probe: any) => (probe.verdict === "A" ? "B" : probe.verdict === "B" ? "A" : "none"));
    assert.equal((await swapped.locator(".trajectory-text").innerText()).split(" → ").map((part) => part.split(" ")[0]).join(","), flipped.join(","));
    await page.screenshot({ path: path.join(SHOTS, "trace.png"), fullPage: true });

    // The comparison, reached from the run page's selector.
    await page.goto(`${base}/#/run/${plainRun}`);
    await page.locator("#compare-with").waitFor();
    await page.selectOption("#compare-with", sweptRun);
    await page.locator("#flip-summary").waitFor();
    const compare = (await get(`${base}/v1/runs/${plainRun}/compare/${sweptRun}`)).body.summary;
    assert.match(await page.locator("#flip-summary").innerText(), new RegExp(`^${compare.flipped} verdicts? flipped`));
    await page.selectOption("#change", "all");
    await page.waitForFunction(`document.querySelectorAll("table.compare tbody tr").length === 3`);
    await page.screenshot({ path: path.join(SHOTS, "compare.png"), fullPage: true });

    // A live judgment: thinking arrives (and is shown) before the verdict.
    await page.click('a[href="#/judge"]');
    await page.fill("textarea[name=question]", "Which is larger, 3 or 7?");
    await page.fill("input[name=waits]", "2");
    await page.click("#judge");
    await page.locator("#verdict").waitFor();
    const sequence = (await page.locator("#live").getAttribute("data-sequence"))?.split(",") ?? [];
    assert.equal(sequence[0], "generated", `first event: ${sequence.join(",")}`);
    assert.ok(sequence.indexOf("wait") > 0 && sequence.indexOf("wait") < sequence.indexOf("judgment"), sequence.join(","));
    assert.ok((await page.locator("#live span.thinking").count()) > 0);
    assert.equal(await page.locator("#live mark.injected-wait").count(), 2);
    assert.equal(await page.inputValue("input[name=waits]"), "2", "the form keeps what was typed");
    assert.match(await page.locator("#verdict").innerText(), /Verdict (A|B|none)/);
    await page.screenshot({ path: path.join(SHOTS, "judge.png"), fullPage: true });
    // Both orders: each pass's thinking in its own box, and the result says what each order gave.
    await page.check("input[name=swap]");
    await page.click("#judge");
    await page.locator("#verdict").waitFor();
    assert.equal(await page.locator("#live .pass-live").count(), 2);
    assert.match(await page.locator('#live .pass-live[data-order="BA"] h4').innerText(), /shown swapped/);
    assert.equal(await page.locator('#live .pass-live[data-order="AB"] mark.injected-wait').count(), 2);
    assert.equal(await page.locator('#live .pass-live[data-order="BA"] mark.injected-wait').count(), 2);
    assert.match(await page.locator("#verdict").innerText(), /AB gave (A|B|no verdict), BA gave (A|B|no verdict) .* 4 waits injected \(2 \+ 2 by pass\)/);
    await page.screenshot({ path: path.join(SHOTS, "judge-both-orders.png"), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
