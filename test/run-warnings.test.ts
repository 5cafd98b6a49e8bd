/**
 * Notes and engine warnings reach the user of an eval run: on stderr while it runs, in the run store, and in
 * every report face (JSON, markdown, HTML).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const j1 = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd, encoding: "utf8", timeout: 120_000 });

describe("run warnings", () => {
  it("the chat-format fallback note of the tiny model is kept with the run and shown by the reports", () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-warnings-"));
    const data = path.join(work, "pairs.jsonl");
    writeFileSync(data, [0, 1, 2].map((index) => JSON.stringify({ id: `p${index}`, question: `q${index}`, a: "a", b: "b", label: "A" })).join("\n"));
    const store = path.join(work, "runs.sqlite");
    const run = j1(work, "eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--store", store, "--json", "--progress", "quiet");
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /no thinking format of its own/);
    const report = JSON.parse(run.stdout) as { runId: string; warnings?: string[] };
    assert.ok(report.warnings?.some((warning) => warning.includes("no thinking format of its own")), JSON.stringify(report.warnings));
    const html = path.join(work, "report.html");
    const md = path.join(work, "report.md");
    const reported = j1(work, "report", report.runId, "--store", store, "--html", html, "--md", md);
    assert.equal(reported.status, 0, reported.stderr);
    assert.match(readFileSync(html, "utf8"), /<ul class="warnings"><li>the chat template has no thinking format/);
    assert.match(readFileSync(md, "utf8"), /warning: the chat template has no thinking format/);
  });
});
