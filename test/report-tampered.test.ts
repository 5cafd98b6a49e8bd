import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { projectRoot } from "../src/eval/benchmarks/data-location.js";
import { SAMPLE_PAIRS } from "./helpers/sample-runs.js";

// A run store is a file anyone may have written: every stored field that reaches `j1 report --html` (and
// the viewer, which renders with the same modules) is escaped, however it was crafted.

const PAYLOAD = `"><img src=x onerror=alert(1)><script>alert(2)</script>`;

test("j1 report --html of a tampered store: span roles, token counts, statuses and verdicts never become markup", async (t) => {
  const work = await mkdtemp(join(tmpdir(), "j1-tampered-"));
  t.after(() => (process.env.KEEP ? undefined : rm(work, { recursive: true, force: true })));
  if (process.env.KEEP) console.error(work);
  const data = join(work, "pairs.jsonl");
  await writeFile(data, `${SAMPLE_PAIRS.map((pair) => JSON.stringify(pair)).join("\n")}\n`);
  const store = join(work, "runs.sqlite");
  const j1 = (...args: string[]) => spawnSync(process.execPath, [join(projectRoot(), "bin", "j1"), ...args], { encoding: "utf8", env: { ...process.env, J1_CACHE_DIR: join(work, "cache"), NO_COLOR: "1" }, timeout: 300_000 });
  const run = j1("eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--chat-format", "chatml", "--json", "--progress", "quiet", "--store", store, "--allow-errors");
  assert.equal(run.status, 0, run.stderr);
  const runId = (JSON.parse(run.stdout) as { run: { runId: string } }).run.runId;

  const db = new Database(store);
  const rows = db.prepare("SELECT seq, body, encoding FROM judgments").all() as Array<{ seq: number; body: Buffer; encoding: string }>;
  assert.ok(rows.length > 0);
  for (const row of rows) {
    assert.equal(row.encoding, "json");
    type Trace = Array<{ role?: unknown; tokens?: unknown; source: string }>;
    const judgment = JSON.parse(row.body.toString("utf8")) as { trace: Trace; runs: Array<{ trace: Trace }> };
    // The representative trace (reports) and each pass's (the viewer's item page).
    for (const trace of [judgment.trace, ...judgment.runs.map((pass) => pass.trace)]) {
      for (const span of trace) {
        span.role = PAYLOAD;
        span.tokens = PAYLOAD;
      }
      trace.push({ source: "injected", role: PAYLOAD, tokens: PAYLOAD, text: "Wait" } as never);
    }
    // Every item wrong and failed, so each one is listed with its trace.
    db.prepare("UPDATE judgments SET body = ?, verdict = ?, status = ? WHERE seq = ?").run(Buffer.from(JSON.stringify(judgment)), PAYLOAD, PAYLOAD, row.seq);
  }
  db.prepare("DELETE FROM reports").run();
  db.close();

  const page = join(work, "report.html");
  const report = j1("report", runId, "--store", store, "--html", page);
  assert.equal(report.status, 0, report.stderr);
  const html = await readFile(page, "utf8");
  assert.ok(html.includes("&lt;img src=x"), "the payload is shown, escaped");
  assert.ok(!html.includes("<img src=x"), "no payload image element");
  assert.ok(!html.includes("<script>alert"), "no payload script element");
  assert.ok(!/injected-"/.test(html), "no payload class attribute");
});
