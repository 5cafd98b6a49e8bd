/**
 * The run store on a real SQLite file: runs, items, judgments, keys, reports and exports round-trip; a
 * duplicate (run, item, point) is impossible; a judgment saved by one run is found by the next through its
 * key; errors are J1Error("store") that name the file and say what to do.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { J1Error } from "../src/core/errors.js";
import { canonicalJson, defaultStorePath, itemPointKey, judgmentKey, openRunStore, type RunStore } from "../src/store/run-store.js";
import { isRunId, newRunId } from "../src/store/run-id.js";
import { SCHEMA_VERSION } from "../src/store/schema.js";
import { COLUMN_CHUNK } from "../src/store/column-reads.js";
import type { ScoredItem } from "../src/eval/types.js";
import { sampleItem, sampleJudgment, sampleKey } from "./fixtures/store/judgments.js";

let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "j1-store-"));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
function freshStore(): RunStore {
  // A folder that does not exist yet: openRunStore creates it.
  return openRunStore(join(tmp, `case-${++counter}`, "nested", "runs.sqlite"));
}

function isStoreError(pattern: RegExp) {
  return (error: unknown) => error instanceof J1Error && error.code === "store" && pattern.test(error.message);
}

test("run ids are short, sortable by time and well formed", () => {
  const id = newRunId(new Date("2026-11-27T23:30:00.123Z"), () => "ab12");
  assert.equal(id, "r20261127-233000-ab12");
  assert.ok(isRunId(newRunId()));
  assert.ok(newRunId(new Date("2026-01-02T00:00:00Z")) < newRunId(new Date("2026-01-10T00:00:00Z")));
});

test("judgment keys depend on content, not on field order; bad values are refused", () => {
  const one = judgmentKey({ model: "m", options: { waits: 2, temperature: 0 }, item: { id: "x", hash: "h" }, point: "final" });
  const same = judgmentKey({ point: "final", item: { hash: "h", id: "x" }, options: { temperature: 0, waits: 2 }, model: "m", ignored: undefined });
  const other = judgmentKey({ model: "m", options: { waits: 3, temperature: 0 }, item: { id: "x", hash: "h" }, point: "final" });
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.equal(one, same);
  assert.notEqual(one, other);
  assert.equal(canonicalJson({ b: [1, { d: 1, c: "x" }], a: null }), '{"a":null,"b":[1,{"c":"x","d":1}]}');
  assert.throws(() => judgmentKey({ temperature: Number.NaN }), /NaN/);
  assert.throws(() => judgmentKey({ seed: 1n }), /bigint/);
});

test("default store path: $J1_STORE, else .j1/runs.sqlite under the current folder", () => {
  assert.equal(defaultStorePath({}, "/home/u/project"), "/home/u/project/.j1/runs.sqlite");
  assert.equal(defaultStorePath({ J1_STORE: "/data/j1.sqlite" }, "/home/u/project"), "/data/j1.sqlite");
  assert.equal(defaultStorePath({ J1_STORE: "stores/a.sqlite" }, "/home/u/project"), "/home/u/project/stores/a.sqlite");
});

test("the store file is in WAL mode with the current schema version", () => {
  const store = freshStore();
  store.close();
  const db = new Database(store.file, { readonly: true });
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  db.close();
  // Reopening an existing store migrates nothing and loses nothing.
  openRunStore(store.file).close();
});

test("runs started in the same millisecond are listed newest first, not by their random id suffix", () => {
  const store = freshStore();
  const created = Array.from({ length: 8 }, (_, index) => store.createRun({ benchmark: "rewardbench", label: `run ${index}`, settings: {} }).id);
  store.close();
  // One creation time for all: only the order they were started in can tell them apart.
  const db = new Database(store.file);
  db.prepare("UPDATE runs SET created_at = '2026-12-07T16:46:08.123Z'").run();
  db.close();
  const reopened = openRunStore(store.file);
  assert.deepEqual(reopened.listRuns().map((run) => run.id), [...created].reverse());
  reopened.close();
});

test("runs round-trip; listed newest first with their counts; found by unique prefix", () => {
  const store = freshStore();
  const settings = { engine: { kind: "llamacpp", model: "tiny.gguf" }, template: { name: "default", hash: "cafe" }, scaling: { waits: 2 }, samples: 1, swap: false, seed: 7, limit: null };
  const first = store.createRun({ benchmark: "rewardbench", label: "tiny waits=2", settings });
  assert.ok(isRunId(first.id), first.id);
  assert.equal(first.status, "running");
  assert.deepEqual(first.settings, settings);
  assert.equal(first.items, undefined);
  const second = store.createRun({ benchmark: "judgebench", label: "tiny swap", settings: { swap: true } });
  assert.notEqual(first.id, second.id);

  assert.deepEqual(store.getRun(first.id), first);
  store.setRunItems(first.id, [sampleItem(0), sampleItem(1), sampleItem(2)], 4);
  for (const index of [0, 1]) store.saveJudgment({ runId: first.id, itemId: sampleItem(index).id, point: "final", key: sampleKey(index), judgment: sampleJudgment(index) });
  store.saveJudgment({ runId: first.id, itemId: sampleItem(0).id, point: "waits=1", key: sampleKey(0, "waits=1"), judgment: sampleJudgment(0) });
  store.setRunStatus(first.id, "interrupted", { reason: "SIGINT" });

  const listed = store.listRuns();
  assert.deepEqual(listed.map((run) => run.id), [second.id, first.id]);
  assert.equal(listed[1].judgments, 3);
  assert.equal(listed[1].itemsJudged, 2);
  assert.equal(listed[1].items, 3);
  assert.equal(listed[1].skipped, 4);
  assert.equal(listed[1].status, "interrupted");
  assert.deepEqual(listed[1].summary, { reason: "SIGINT" });
  assert.equal(listed[0].judgments, 0);

  // Resumed without a new summary: the status changes, the last summary stays.
  store.setRunStatus(first.id, "running");
  assert.equal(store.getRun(first.id).status, "running");
  assert.deepEqual(store.getRun(first.id).summary, { reason: "SIGINT" });

  // Unique prefixes (with or without the leading "r") find the run; shared ones are ambiguous.
  const third = store.createRun({ benchmark: "rewardbench", label: "x", settings: {} });
  const shared = commonPrefix([first.id, second.id, third.id]);
  assert.throws(() => store.getRun(shared), isStoreError(/ambiguous/));
  const runs = [first, second, third];
  for (const run of runs) {
    const others = runs.filter((other) => other !== run).map((other) => other.id);
    const unique = run.id.slice(0, Math.max(...others.map((other) => commonPrefix([run.id, other]).length)) + 1);
    assert.equal(store.getRun(unique).id, run.id);
    assert.equal(store.getRun(unique.slice(1)).id, run.id);
  }
  store.close();
});

test("an unknown run id is an error naming the id, the file and `j1 runs list`", () => {
  const store = freshStore();
  assert.throws(() => store.getRun("r20990101-000000-ffff"), (error: unknown) => {
    assert.ok(error instanceof J1Error);
    assert.equal(error.code, "store");
    assert.match(error.message, /r20990101-000000-ffff/);
    assert.ok(error.message.includes(store.file));
    assert.match(error.message, /j1 runs list/);
    return true;
  });
  assert.throws(() => store.getRun(""), isStoreError(/no run ""/));
  assert.throws(() => store.setRunStatus("nope", "done"), isStoreError(/no run "nope"/));
  assert.throws(() => store.runItems("nope"), isStoreError(/no run "nope"/));
  assert.throws(() => store.exportRun("nope"), isStoreError(/no run "nope"/));
  // A judgment for a run that does not exist is refused (foreign key), with the operation named.
  assert.throws(
    () => store.saveJudgment({ runId: "nope", itemId: "x", point: "final", key: sampleKey(0), judgment: sampleJudgment(0) }),
    isStoreError(/save judgment \(run "nope", item "x", point "final"\).*FOREIGN KEY/),
  );
  store.close();
});

test("items are saved once, in order, with group and meta; a resume with other items is refused", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardmath", label: "x", settings: {} });
  const items = Array.from({ length: 50 }, (_, index) => sampleItem(49 - index));
  store.setRunItems(run.id, items, 2);
  assert.deepEqual(store.runItems(run.id), items);
  assert.equal(store.getRun(run.id).items, 50);

  // Resume: same ids (even listed in another order) are accepted and the saved list is kept.
  store.setRunItems(run.id, [...items].reverse(), 0);
  assert.deepEqual(store.runItems(run.id), items);
  assert.equal(store.getRun(run.id).skipped, 2);

  assert.throws(() => store.setRunItems(run.id, items.slice(0, 40), 0), isStoreError(/started with 50 items and the data now gives 40: 10 saved item\(s\) are missing/));
  assert.throws(() => store.setRunItems(run.id, [...items, sampleItem(99)], 0), isStoreError(/1 item\(s\) are new \("item-00099"\)/));

  const other = store.createRun({ benchmark: "rewardmath", label: "y", settings: {} });
  assert.throws(() => store.setRunItems(other.id, [sampleItem(1), sampleItem(1)], 0), isStoreError(/"item-00001" appears twice/));
  assert.equal(store.getRun(other.id).items, undefined, "a refused item list leaves nothing behind");
  store.close();
});

test("judgments round-trip exactly, with decision columns for scoring", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardbench", label: "x", settings: {} });
  const indexes = [0, 1, 2, 3, 5, 7, 10, 20, 30];
  store.setRunItems(run.id, indexes.map(sampleItem), 0);
  for (const index of [...indexes].reverse()) {
    assert.equal(store.saveJudgment({ runId: run.id, itemId: sampleItem(index).id, point: "final", key: sampleKey(index), judgment: sampleJudgment(index) }), true);
  }
  for (const index of indexes) assert.deepEqual(store.judgment(run.id, sampleItem(index).id, "final"), sampleJudgment(index));
  assert.equal(store.judgment(run.id, sampleItem(0).id, "waits=9"), undefined);

  // Large traces are gzipped in the row; small ones stay readable JSON.
  const db = new Database(store.file, { readonly: true });
  const encodings = db.prepare(`SELECT item_id, encoding FROM judgments ORDER BY item_id`).all() as Array<{ item_id: string; encoding: string }>;
  db.close();
  assert.equal(encodings.find((row) => row.item_id === sampleItem(10).id)?.encoding, "json+gzip");
  assert.equal(encodings.find((row) => row.item_id === sampleItem(1).id)?.encoding, "json");

  const decisions = store.decisions(run.id, "final");
  assert.deepEqual([...decisions.keys()], indexes.map((index) => sampleItem(index).id), "in the items' order, not the saving order");
  const ok = decisions.get(sampleItem(2).id);
  assert.deepEqual(ok, { itemId: "item-00002", verdict: "tie", status: "ok", orders: { AB: "tie" }, confidence: 0.52, thinkingTokens: 42, evaluatedTokens: 58, score: null });
  const swapped = decisions.get(sampleItem(5).id);
  assert.deepEqual(swapped?.orders, { AB: "tie", BA: "tie" });
  assert.equal(swapped?.confidence, undefined);
  assert.equal(swapped?.thinkingTokens, 2 * 45);
  const engineError = decisions.get(sampleItem(7).id);
  assert.equal(engineError?.status, "engine-error");
  assert.equal(engineError?.verdict, null);
  assert.deepEqual(engineError?.orders, { AB: null });
  assert.equal(decisions.get(sampleItem(20).id)?.status, "parse-error");
  assert.equal(store.decisions(run.id, "waits=1").size, 0);

  // The caller can give the per-order verdicts in the item's labelling itself.
  store.saveJudgment({ runId: run.id, itemId: sampleItem(0).id, point: "waits=1", key: sampleKey(0, "waits=1"), judgment: sampleJudgment(1), orders: { AB: "A", BA: "B" } });
  assert.deepEqual(store.decisions(run.id, "waits=1").get(sampleItem(0).id)?.orders, { AB: "A", BA: "B" });
  store.close();
});

test("decisions come in the items' order, then judgments of items missing from the run's list by id, as one LEFT JOIN ordered them", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "pairs", label: "order", settings: {} });
  store.setRunItems(run.id, [sampleItem(3), sampleItem(1), sampleItem(2)], 0);
  const ids = [sampleItem(2).id, "z-stray", sampleItem(3).id, "a-stray", sampleItem(1).id];
  ids.forEach((id, index) => store.saveJudgment({ runId: run.id, itemId: id, point: "final", key: sampleKey(index), judgment: sampleJudgment(index) }));
  const decisions = store.decisions(run.id, "final");
  assert.deepEqual([...decisions.keys()], [sampleItem(3).id, sampleItem(1).id, sampleItem(2).id, "a-stray", "z-stray"]);
  // The same rows and order as the query the store used before (an independent reading of the file).
  const db = new Database(store.file, { readonly: true });
  const before = db
    .prepare(`SELECT j.item_id, j.orders FROM judgments j LEFT JOIN run_items i ON i.run_id = j.run_id AND i.item_id = j.item_id WHERE j.run_id = ? AND j.point = 'final' ORDER BY i.position IS NULL, i.position, j.item_id`)
    .all(run.id) as Array<{ item_id: string; orders: string }>;
  db.close();
  assert.deepEqual([...decisions.values()].map((decision) => [decision.itemId, decision.orders]), before.map((row) => [row.item_id, JSON.parse(row.orders)]));
  // Aligned with the run's items (a report reads them so, placed by position): each item's decision, as
  // in the map; aligned with a list that is not the run's (shorter, longer, reordered): each by its id.
  const items = store.runItems(run.id);
  const byId = (list: readonly ScoredItem[]) => list.map((item) => decisions.get(item.id));
  assert.deepEqual(store.itemDecisions(run.id, "final", items), byId(items));
  for (const list of [items.slice(1), [...items, sampleItem(9)], [...items].reverse()]) assert.deepEqual(store.itemDecisions(run.id, "final", list), byId(list));
  assert.deepEqual(store.itemDecisions(run.id, "waits=1", items), [undefined, undefined, undefined]);
  store.close();
});

test("items and their decisions read as columns across chunks: every value as the rows hold it, in the items' order", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "pairs", label: "chunks", settings: {} });
  // More than two chunks of items (column-reads.ts), with groups, kinds, meta and texts JSON must escape.
  const count = 2 * COLUMN_CHUNK + 5;
  const items: ScoredItem[] = Array.from({ length: count }, (_, index) => ({
    id: index % 1000 === 3 ? `pairs:"quoted"\\${index}\u0000é` : `pairs:${index}`,
    category: ["x", "y\nz"][index % 2],
    label: "A",
    ...(index % 3 === 0 ? { group: `g${Math.floor(index / 3)}` } : {}),
    ...(index % 4 === 0 ? { meta: { i: index % 3, note: "ü", big: 2 ** 53 - index } } : {}),
    ...(index % 7 === 0 ? { kind: "rating" as const } : {}),
  }));
  store.setRunItems(run.id, items, 0);
  assert.deepEqual(store.runItems(run.id), items);
  // Judgments through the store for a few, copied in SQL to most of the others (not every item is judged).
  const judged = Array.from({ length: 12 }, (_, index) => index);
  const judgment = (index: number) => ({ ...sampleJudgment(index), ...(index === 4 ? { confidence: 0.1 + 0.2 } : {}), ...(index === 5 ? { score: 7.25 } : {}) });
  for (const index of judged) store.saveJudgment({ runId: run.id, itemId: items[index].id, point: "final", key: sampleKey(index), judgment: judgment(index) });
  const db = new Database(store.file);
  const columns = (db.prepare("PRAGMA table_info(judgments)").all() as Array<{ name: string }>).map((column) => column.name).filter((column) => !["seq", "item_id", "key"].includes(column));
  const copy = db.prepare(`INSERT INTO judgments (item_id, key, ${columns.join(", ")}) SELECT ?, key || ?, ${columns.join(", ")} FROM judgments WHERE run_id = ? AND item_id = ? AND point = 'final'`);
  db.transaction(() => {
    for (let index = 12; index < count; index++) if (index % 11 !== 0) copy.run(items[index].id, `/${index}`, run.id, items[index % 12].id);
  })();
  db.prepare("UPDATE judgments SET probe_tokens = 17, engine_errors = 2 WHERE run_id = ? AND item_id = ?").run(run.id, items[COLUMN_CHUNK + 1].id);
  db.close();
  const decisions = store.decisions(run.id, "final");
  const aligned = store.itemDecisions(run.id, "final", store.runItems(run.id));
  assert.equal(aligned.length, count);
  assert.deepEqual(aligned, items.map((item) => decisions.get(item.id)));
  assert.equal(aligned.filter((decision) => decision === undefined).length, items.filter((_, index) => index >= 12 && index % 11 === 0).length);
  assert.equal(aligned[4]?.confidence, 0.1 + 0.2);
  assert.equal(aligned[5]?.score, 7.25);
  assert.deepEqual([aligned[COLUMN_CHUNK + 1]?.probeTokens, aligned[COLUMN_CHUNK + 1]?.engineErrors], [17, 2]);
  store.close();
});

test("saving the same (run, item, point) twice keeps one row, the first", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardbench", label: "x", settings: {} });
  const itemId = sampleItem(1).id;
  assert.equal(store.saveJudgment({ runId: run.id, itemId, point: "final", key: sampleKey(1), judgment: sampleJudgment(1) }), true);
  assert.equal(store.saveJudgment({ runId: run.id, itemId, point: "final", key: sampleKey(1), judgment: sampleJudgment(2) }), false);
  assert.equal(store.saveJudgment({ runId: run.id, itemId, point: "waits=1", key: sampleKey(1, "waits=1"), judgment: sampleJudgment(2) }), true);
  assert.deepEqual(store.judgment(run.id, itemId, "final"), sampleJudgment(1));
  assert.equal(store.listRuns()[0].judgments, 2);
  assert.deepEqual(store.doneItemPoints(run.id), new Set([itemPointKey(itemId, "final"), itemPointKey(itemId, "waits=1")]));
  store.close();
});

test("a judgment saved by one run is found by its key from another run (and another connection)", () => {
  const store = freshStore();
  const earlier = store.createRun({ benchmark: "rewardbench", label: "first", settings: {} });
  store.saveJudgment({ runId: earlier.id, itemId: sampleItem(4).id, point: "final", key: sampleKey(4), judgment: sampleJudgment(4) });
  store.close();

  const reopened = openRunStore(store.file);
  const later = reopened.createRun({ benchmark: "rewardbench", label: "second", settings: {} });
  const found = reopened.findJudgmentByKey(sampleKey(4));
  assert.deepEqual(found, sampleJudgment(4));
  assert.equal(reopened.findJudgmentByKey(sampleKey(4, "final", "another-model")), undefined);
  assert.equal(reopened.findJudgmentByKey(sampleKey(5)), undefined);
  // The runner then saves it under the new run too.
  reopened.saveJudgment({ runId: later.id, itemId: sampleItem(4).id, point: "final", key: sampleKey(4), judgment: found! });
  assert.deepEqual(reopened.judgment(later.id, sampleItem(4).id, "final"), sampleJudgment(4));

  // A good judgment is preferred over an engine failure saved under the same key.
  const failed = { ...sampleJudgment(4), verdict: null, status: "engine-error" as const, error: "timeout" };
  const third = reopened.createRun({ benchmark: "rewardbench", label: "third", settings: {} });
  const key = judgmentKey({ case: "prefer-ok" });
  reopened.saveJudgment({ runId: third.id, itemId: "x", point: "final", key, judgment: failed });
  assert.deepEqual(reopened.findJudgmentByKey(key), failed);
  reopened.saveJudgment({ runId: later.id, itemId: "x", point: "final", key, judgment: sampleJudgment(4) });
  assert.deepEqual(reopened.findJudgmentByKey(key), sampleJudgment(4));
  reopened.close();
});

test("points are listed in a human order", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardbench", label: "sweep", settings: { sweep: { waits: [0, 1, 2, 10] } } });
  for (const point of ["waits=10", "waits=2", "waits=0", "waits=1"]) {
    store.saveJudgment({ runId: run.id, itemId: "a", point, key: sampleKey(0, point), judgment: sampleJudgment(0) });
    store.saveJudgment({ runId: run.id, itemId: "b", point, key: sampleKey(1, point), judgment: sampleJudgment(1) });
  }
  assert.deepEqual(store.points(run.id), ["waits=0", "waits=1", "waits=2", "waits=10"]);
  assert.deepEqual(store.points("nope"), []);
  store.close();
});

test("export yields every judgment with its item fields, item by item, across pages", async () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardbench", label: "x", settings: {} });
  const total = 450; // more than one page of items
  store.setRunItems(run.id, Array.from({ length: total }, (_, index) => sampleItem(index)), 0);
  for (let index = total - 1; index >= 0; index--) {
    for (const point of ["waits=10", "waits=2"]) {
      store.saveJudgment({ runId: run.id, itemId: sampleItem(index).id, point, key: sampleKey(index, point), judgment: sampleJudgment(index) });
    }
  }
  // A judgment whose item is not in the item list is still exported (last), never dropped.
  store.saveJudgment({ runId: run.id, itemId: "stray", point: "final", key: sampleKey(0), judgment: sampleJudgment(0) });

  const rows = [];
  // The consumer awaits between rows (as a file writer does) while the same connection keeps writing.
  for await (const row of store.exportRun(run.id.slice(0, 12))) {
    rows.push(row);
    if (rows.length === 10) store.saveReport(run.id, { during: "export" });
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(rows.length, 2 * total + 1);
  assert.deepEqual(rows.slice(0, 4).map((row) => [row.itemId, row.point]), [
    ["item-00000", "waits=2"],
    ["item-00000", "waits=10"],
    ["item-00001", "waits=2"],
    ["item-00001", "waits=10"],
  ]);
  const first = rows[0];
  assert.deepEqual(Object.keys(first).slice(0, 7), ["runId", "itemId", "point", "key", "category", "label", "group"]);
  assert.equal(first.runId, run.id);
  assert.equal(first.category, sampleItem(0).category);
  assert.equal(first.group, sampleItem(0).group);
  assert.deepEqual(first.judgment, sampleJudgment(0));
  assert.deepEqual(rows.find((row) => row.itemId === "item-00001")?.meta, sampleItem(1).meta);
  const stray = rows[rows.length - 1];
  assert.equal(stray.itemId, "stray");
  assert.equal(stray.category, undefined);
  // Plain objects: one JSON line each.
  assert.deepEqual(JSON.parse(JSON.stringify(rows[5])), rows[5]);
  store.close();
});

test("reports are saved per run and replaced on a second save", () => {
  const store = freshStore();
  const run = store.createRun({ benchmark: "rewardbench", label: "x", settings: {} });
  assert.equal(store.getReport(run.id), undefined);
  store.saveReport(run.id, { runId: run.id, benchmarks: [{ benchmark: "rewardbench", score: { score: 86.91 } }] });
  store.saveReport(run.id, { runId: run.id, benchmarks: [{ benchmark: "rewardbench", score: { score: 90.15 } }] });
  assert.deepEqual(store.getReport(run.id), { runId: run.id, benchmarks: [{ benchmark: "rewardbench", score: { score: 90.15 } }] });
  assert.throws(() => store.saveReport("nope", {}), isStoreError(/save report of run "nope"/));
  store.close();
});

test("close is idempotent; a closed store says so", () => {
  const store = freshStore();
  store.close();
  store.close();
  assert.throws(() => store.listRuns(), isStoreError(/closed/));
});

test("SQLite failures become J1Error(store) naming the file and the operation", async () => {
  // Not a database at all.
  const garbage = join(tmp, "garbage.sqlite");
  await writeFile(garbage, "this is not a database, it is a text file that is long enough to have a header....");
  assert.throws(() => openRunStore(garbage), (error: unknown) => {
    assert.ok(error instanceof J1Error && error.code === "store");
    assert.ok(error.message.includes(garbage));
    assert.match(error.message, /is not a SQLite database/);
    return true;
  });
  // A store written by a newer j1 is refused rather than misread.
  const newer = join(tmp, "newer.sqlite");
  openRunStore(newer).close();
  const db = new Database(newer);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openRunStore(newer), isStoreError(/newer than this j1 understands/));
  // The folder cannot be created: a file is in the way.
  assert.throws(() => openRunStore(join(garbage, "runs.sqlite")), isStoreError(/cannot be created: a part of its folder is a file/));
  assert.ok(existsSync(garbage));
});

function commonPrefix(ids: string[]): string {
  let length = 0;
  while (ids.every((id) => id[length] === ids[0][length]) && length < ids[0].length) length++;
  return ids[0].slice(0, length);
}

test("a store written by a newer j1 is the user's input: the command exits 2 naming the file and what to do", async () => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const root = join(fileURLToPath(new URL(".", import.meta.url)), "../..");
  const newer = join(tmp, "newer-cli.sqlite");
  openRunStore(newer).close();
  const db = new Database(newer);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const result = spawnSync(process.execPath, [join(root, "bin/j1"), "runs", "list", "--store", newer], { encoding: "utf8" });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /newer-cli\.sqlite: schema version \d+ is newer than this j1 understands .*pass --store another file/);
});
