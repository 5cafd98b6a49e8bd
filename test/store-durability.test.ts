/**
 * Invariant 4 (docs/architecture.md, "Invariants") on a real SQLite file and real processes: a run killed with SIGKILL at any point
 * keeps every judgment it committed, has no duplicate, stays readable, resumes where it stopped, and ends
 * with exactly the judgments (and the decisions a report is computed from) of an uninterrupted run. And a
 * reader is never refused while writers write.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { itemPointKey, openRunStore, type ExportRow, type RunStore } from "../src/store/run-store.js";
import { sampleItem, sampleJudgment, sampleKey } from "./fixtures/store/judgments.js";

const WRITER = fileURLToPath(new URL("./fixtures/store/store-writer.js", import.meta.url));

let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "j1-store-kill-"));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface WriterOutcome {
  /** Indexes the writer printed, i.e. judgments whose save had returned. */
  printed: number[];
  finished: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer child; with `killAfter`, SIGKILLs it as soon as it has printed that many lines. */
function runWriter(file: string, runId: string, total: number, delayMs: number, killAfter?: number): Promise<WriterOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, runId, String(total), String(delayMs)], { stdio: ["ignore", "pipe", "pipe"] });
    const outcome: WriterOutcome = { printed: [], finished: false, code: null, signal: null, stderr: "" };
    let pending = "";
    let killed = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "finished") outcome.finished = true;
        else outcome.printed.push(Number(line));
      }
      if (killAfter !== undefined && !killed && outcome.printed.length >= killAfter) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (outcome.stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      outcome.code = code;
      outcome.signal = signal;
      resolve(outcome);
    });
  });
}

/** What the store holds for the run after a kill, read through a new connection as a resuming run would. */
function inspect(file: string, runId: string): { saved: number[]; rows: number; distinct: number; integrity: string } {
  const db = new Database(file, { readonly: true });
  try {
    const integrity = db.pragma("integrity_check", { simple: true }) as string;
    const rows = db.prepare(`SELECT COUNT(*) FROM judgments WHERE run_id = ?`).pluck().get(runId) as number;
    const distinct = db.prepare(`SELECT COUNT(*) FROM (SELECT DISTINCT item_id, point FROM judgments WHERE run_id = ?)`).pluck().get(runId) as number;
    const ids = db.prepare(`SELECT item_id FROM judgments WHERE run_id = ?`).pluck().all(runId) as string[];
    const saved = ids.map((id) => Number(id.slice("item-".length))).sort((a, b) => a - b);
    return { saved, rows, distinct, integrity };
  } finally {
    db.close();
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/** Everything a report is computed from, minus what legitimately differs between two runs (id, save times). */
function reportInputs(store: RunStore, runId: string): unknown {
  const strip = ({ runId: _run, savedAt: _saved, ...rest }: ExportRow) => rest;
  return {
    items: store.runItems(runId),
    skipped: store.getRun(runId).skipped,
    points: store.points(runId),
    decisions: [...store.decisions(runId, "final").entries()],
    export: [...store.exportRun(runId)].map(strip),
  };
}

/** The same run computed in one go, in process: what the killed-and-resumed run must end up equal to. */
function uninterruptedRun(store: RunStore, total: number): string {
  const run = store.createRun({ benchmark: "rewardbench", label: "uninterrupted", settings: { total } });
  store.setRunItems(run.id, range(total).map(sampleItem), 0);
  for (const index of range(total)) {
    store.saveJudgment({ runId: run.id, itemId: sampleItem(index).id, point: "final", key: sampleKey(index), judgment: sampleJudgment(index) });
  }
  store.setRunStatus(run.id, "done");
  return run.id;
}

/** After a kill: every printed judgment is there, saved ones are a prefix (no gaps), no duplicates, file sound. */
function assertNothingLost(file: string, runId: string, outcome: WriterOutcome, total: number): number {
  assert.equal(outcome.signal, "SIGKILL", `the writer was killed, not finished (stderr: ${outcome.stderr})`);
  assert.equal(outcome.finished, false);
  const state = inspect(file, runId);
  assert.equal(state.integrity, "ok");
  assert.equal(state.rows, state.distinct, "no (item, point) saved twice");
  const saved = new Set(state.saved);
  for (const index of outcome.printed) assert.ok(saved.has(index), `printed judgment ${index} is in the store`);
  assert.deepEqual(state.saved, range(state.saved.length), "judgments are committed in order, without gaps");
  assert.ok(state.saved.length < total, "the kill landed before the end");
  return state.saved.length;
}

async function killAndResume(name: string, total: number, delayMs: number, kills: number[], note: (text: string) => void): Promise<void> {
  const file = join(tmp, `${name}.sqlite`);
  const setup = openRunStore(file);
  const run = setup.createRun({ benchmark: "rewardbench", label: name, settings: { total } });
  setup.close();

  let before = 0;
  for (const killAfter of kills) {
    const outcome = await runWriter(file, run.id, total, delayMs, killAfter);
    assert.ok(outcome.printed.length >= killAfter);
    // A resumed writer never redoes what was done: it starts exactly where the last one stopped.
    if (outcome.printed.length > 0) assert.equal(outcome.printed[0], before, "resumed at the first missing judgment");
    before = assertNothingLost(file, run.id, outcome, total);
    // How far past the last printed line the kill landed (commits whose line was not read yet).
    note(`${name}: killed after ${outcome.printed.length} lines read, ${before} judgments committed`);
  }

  const last = await runWriter(file, run.id, total, 0);
  assert.equal(last.code, 0, last.stderr);
  assert.ok(last.finished);
  assert.deepEqual(last.printed, range(total).slice(before), "the resume saved exactly the missing judgments");

  const state = inspect(file, run.id);
  assert.equal(state.integrity, "ok");
  assert.deepEqual(state.saved, range(total), "complete, each judgment once");
  assert.equal(state.rows, total);

  const store = openRunStore(file);
  const done = store.doneItemPoints(run.id);
  assert.equal(done.size, total);
  assert.ok(done.has(itemPointKey(sampleItem(total - 1).id, "final")));
  assert.equal(store.getRun(run.id).status, "done");
  // A late duplicate save (a second resume racing this one) changes nothing.
  assert.equal(store.saveJudgment({ runId: run.id, itemId: sampleItem(0).id, point: "final", key: sampleKey(0), judgment: sampleJudgment(1) }), false);

  const reference = uninterruptedRun(store, total);
  assert.deepEqual(reportInputs(store, run.id), reportInputs(store, reference), "same decisions and judgments as an uninterrupted run");
  store.close();
}

test("kill -9 between judgments (engine-like pauses): nothing lost or duplicated, resumes to the uninterrupted result", async (t) => {
  await killAndResume("paced", 600, 1, [100, 150], (text) => t.diagnostic(text));
});

test("kill -9 while writing flat out: nothing lost or duplicated, resumes to the uninterrupted result", async (t) => {
  await killAndResume("flat-out", 8000, 0, [800, 1600], (text) => t.diagnostic(text));
});

test("a reader is never refused while two writer processes write", async () => {
  const file = join(tmp, "concurrent.sqlite");
  const total = 1500;
  const setup = openRunStore(file);
  const first = setup.createRun({ benchmark: "rewardbench", label: "writer 1", settings: {} });
  const second = setup.createRun({ benchmark: "rewardbench", label: "writer 2", settings: {} });
  setup.close();

  // A second connection (this process) reads continually while the two children write.
  const reader = openRunStore(file);
  const writers = Promise.all([runWriter(file, first.id, total, 0), runWriter(file, second.id, total, 0)]);
  let running = true;
  void writers.finally(() => (running = false));
  let reads = 0;
  let lastSeen = 0;
  while (running) {
    const counts = reader.listRuns().map((run) => run.judgments);
    const seen = counts.reduce((sum, count) => sum + count, 0);
    assert.ok(seen >= lastSeen, "committed judgments never disappear");
    lastSeen = seen;
    const decisions = reader.decisions(first.id, "final");
    assert.ok(reader.doneItemPoints(first.id).size >= decisions.size);
    reads++;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const [one, two] = await writers;
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.ok(one.finished && two.finished);
  assert.ok(reads > 5, `the reader read while the writers wrote (${reads} reads)`);
  assert.deepEqual(reader.listRuns().map((run) => [run.judgments, run.status]), [
    [total, "done"],
    [total, "done"],
  ]);
  // Both runs hold the same judgments: whichever wrote an index second reused the first's by its key.
  assert.deepEqual([...reader.decisions(first.id, "final").values()], [...reader.decisions(second.id, "final").values()]);
  reader.close();
});
