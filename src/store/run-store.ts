import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { J1Error, badInput } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import type { ScoredItem } from "../eval/types.js";
import { decodeJudgment, encodeJudgment, ordersOf } from "./judgment-codec.js";
import { runExport } from "./run-export.js";
import { newRunId } from "./run-id.js";
import { columnChunks, columnChunkSql, increasing } from "./column-reads.js";
import { comparePoints, DECISION_COLUMNS, decisionFromValues, ITEM_COLUMNS, itemFromValues, runFromRow, sharedOrders, type JudgmentRow, type RunRow } from "./rows.js";
import { migrate } from "./schema.js";
import { storeError } from "./store-error.js";
import type { ExportRow, RunConfig, RunListing, RunRecord, RunStatus, RunStore, SaveJudgmentInput, StoredDecision } from "./types.js";

export { judgmentKey, canonicalJson, sha256Hex } from "./judgment-key.js";
export { defaultStorePath } from "./store-path.js";

/**
 * A store that must already exist (reading commands: `j1 runs show|export`, `j1 report`): a mistyped
 * --store is refused (exit 2) rather than created empty.
 */
export function openExistingStore(file: string): RunStore {
  if (!existsSync(file)) throw badInput("no run store here (j1 eval creates one; pass --store FILE or set $J1_STORE to use another)", { file: path.resolve(file), field: "--store" });
  return openRunStore(file);
}
export { itemPointKey } from "./types.js";
export type { ExportRow, RunConfig, RunKind, RunListing, RunRecord, RunStatus, RunStore, SaveJudgmentInput, StoredDecision } from "./types.js";
export { RUN_KINDS } from "./types.js";

/** How long a statement waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;
const RUN_STATUSES: readonly RunStatus[] = ["running", "done", "failed", "interrupted"];

/**
 * Opens (creating folders and file as needed) the run store at `file` and brings its schema up to date.
 *
 * WAL mode: readers (a second `j1 runs show`, the web viewer) never block the writer nor the other way
 * round. synchronous = NORMAL: in WAL mode a committed transaction survives the process being killed
 * (kill -9, a crash) because it is already in the WAL file the OS holds; only a power loss can drop the
 * last few commits, and even then the database stays consistent.
 */
export function openRunStore(file: string): RunStore {
  const resolved = path.resolve(file);
  let db: Database.Database | undefined;
  try {
    mkdirSync(path.dirname(resolved), { recursive: true });
    db = new Database(resolved, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
  } catch (error) {
    db?.close();
    throw storeError(resolved, "open", error);
  }
  return new SqliteRunStore(resolved, db);
}

class SqliteRunStore implements RunStore {
  readonly file: string;
  private db: Database.Database | undefined;
  /** Prepared once per SQL text: runs insert thousands of judgments with the same statement. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  // ---- runs ---------------------------------------------------------------------------------------

  createRun(config: RunConfig): RunRecord {
    return this.guard("create run", () => {
      const now = new Date();
      const stamp = now.toISOString();
      const settings = JSON.stringify(config.settings);
      // Two runs started in the same second draw new random suffixes until one is free.
      for (let attempt = 0; ; attempt++) {
        const id = newRunId(now);
        const inserted = this.statement(
          `INSERT INTO runs (id, kind, benchmark, label, settings, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'running', ?, ?) ON CONFLICT (id) DO NOTHING`,
        ).run(id, config.kind ?? "eval", config.benchmark, config.label, settings, stamp, stamp);
        if (inserted.changes === 1) return this.requireRun(id);
        if (attempt >= 20) throw new Error(`no free run id for ${stamp}`);
      }
    });
  }

  getRun(id: string): RunRecord {
    return this.guard(`read run "${id}"`, () => {
      if (id.trim() === "") throw this.unknownRun(id);
      const exact = this.statement(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
      if (exact !== undefined) return runFromRow(exact);
      // A unique prefix is enough, with or without the leading "r" (people copy the date part).
      for (const prefix of id.startsWith("r") ? [id] : [id, `r${id}`]) {
        const matches = this.statement(`SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6`).all(prefix.length, prefix) as RunRow[];
        if (matches.length === 1) return runFromRow(matches[0]);
        if (matches.length > 1) {
          const shown = matches.slice(0, 5).map((row) => row.id).join(", ");
          throw new J1Error("store", `run "${id}" is ambiguous in ${this.file}: it starts ${matches.length > 5 ? "more than 5 runs" : `${matches.length} runs`} (${shown}); give more of the id`, {
            context: { file: this.file, run: id },
          });
        }
      }
      throw this.unknownRun(id);
    });
  }

  /** Newest first; runs started in the same millisecond in the order they were started (rowid), not by their ids' random suffix. */
  listRuns(): RunListing[] {
    return this.guard("list runs", () => {
      const rows = this.statement(
        `SELECT r.*,
           (SELECT COUNT(*) FROM judgments j WHERE j.run_id = r.id) AS judgments,
           (SELECT COUNT(DISTINCT j.item_id) FROM judgments j WHERE j.run_id = r.id) AS items_judged
         FROM runs r ORDER BY r.created_at DESC, r.rowid DESC`,
      ).all() as Array<RunRow & { judgments: number; items_judged: number }>;
      return rows.map((row) => ({ ...runFromRow(row), judgments: row.judgments, itemsJudged: row.items_judged }));
    });
  }

  setRunStatus(id: string, status: RunStatus, summary?: unknown): void {
    this.guard(`set status of run "${id}"`, () => {
      if (!RUN_STATUSES.includes(status)) throw new J1Error("store", `unknown run status "${status}" (expected ${RUN_STATUSES.join(", ")})`);
      // Without a summary the earlier one stays: "running" again on resume keeps what the last stop said.
      const changed = this.statement(`UPDATE runs SET status = ?, summary = coalesce(?, summary), updated_at = ? WHERE id = ?`).run(
        status,
        summary === undefined ? null : JSON.stringify(summary),
        new Date().toISOString(),
        id,
      );
      if (changed.changes === 0) throw this.unknownRun(id);
    });
  }

  setRunItems(id: string, items: readonly ScoredItem[], skipped: number): void {
    this.guard(`save items of run "${id}"`, () => {
      const seen = new Set<string>();
      for (const item of items) {
        if (seen.has(item.id)) throw new J1Error("store", `run "${id}": item id "${item.id}" appears twice; item ids must be unique within a run`, { context: { run: id, item: item.id } });
        seen.add(item.id);
      }
      // IMMEDIATE: take the write lock before reading, so two processes resuming the same run cannot both
      // find "no items yet" and insert them twice.
      const save = this.database().transaction(() => {
        const run = this.requireRun(id);
        if (run.items !== undefined) {
          this.checkSameItems(id, seen);
          return;
        }
        const insert = this.statement(`INSERT INTO run_items (run_id, item_id, position, kind, category, label, grp, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
        items.forEach((item, position) => {
          insert.run(id, item.id, position, item.kind === undefined || item.kind === "pair" ? null : item.kind, item.category, item.label, item.group ?? null, item.meta === undefined ? null : JSON.stringify(item.meta));
        });
        this.statement(`UPDATE runs SET item_count = ?, skipped = ?, updated_at = ? WHERE id = ?`).run(items.length, skipped, new Date().toISOString(), id);
      });
      save.immediate();
    });
  }

  runItems(id: string): ScoredItem[] {
    return this.guard(`read items of run "${id}"`, () => {
      this.requireRun(id);
      // Read as columns (column-reads.ts): a report reads 100k items.
      const chunk = this.statement(columnChunkSql(`SELECT position, ${ITEM_COLUMNS.join(", ")} FROM run_items WHERE run_id = ?`, ITEM_COLUMNS));
      const items: ScoredItem[] = [];
      const values = new Array<unknown>(ITEM_COLUMNS.length);
      for (const [positions, ...columns] of columnChunks(chunk, [id])) {
        const order = increasing(positions as number[]) ? undefined : positions.map((_, at) => at).sort((x, y) => (positions[x] as number) - (positions[y] as number));
        for (let at = 0; at < positions.length; at++) {
          const row = order === undefined ? at : order[at];
          for (let column = 0; column < columns.length; column++) values[column] = columns[column][row];
          items.push(itemFromValues(values));
        }
      }
      return items;
    });
  }

  // ---- judgments ----------------------------------------------------------------------------------

  saveJudgment(input: SaveJudgmentInput): boolean {
    const { runId, itemId, point, key, judgment } = input;
    return this.guard(`save judgment (run "${runId}", item "${itemId}", point "${point}")`, () => {
      if (point.length === 0 || key.length === 0) throw new J1Error("store", `a judgment needs a point and a key (item "${itemId}")`);
      const { body, encoding } = encodeJudgment(judgment);
      // ON CONFLICT on exactly this unique key (rather than INSERT OR IGNORE, which would also swallow a
      // NOT NULL violation): a second save of the same (run, item, point) is a no-op, never a second row.
      // One statement outside any explicit transaction: SQLite commits it before run() returns.
      const onConflict = input.replaceEngineError
        ? `ON CONFLICT (run_id, item_id, point) DO UPDATE SET key = excluded.key, kind = excluded.kind, verdict = excluded.verdict,
             score = excluded.score, status = excluded.status, confidence = excluded.confidence, orders = excluded.orders,
             thinking_tokens = excluded.thinking_tokens, evaluated_tokens = excluded.evaluated_tokens, body = excluded.body,
             encoding = excluded.encoding, saved_at = excluded.saved_at, engine_errors = excluded.engine_errors,
             probe_tokens = excluded.probe_tokens
           WHERE judgments.status = 'engine-error' OR judgments.engine_errors > 0`
        : `ON CONFLICT (run_id, item_id, point) DO NOTHING`;
      const result = this.statement(
        `INSERT INTO judgments (run_id, item_id, point, key, kind, verdict, score, status, confidence, orders,
                                thinking_tokens, evaluated_tokens, body, encoding, saved_at, engine_errors, probe_tokens)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ${onConflict}`,
      ).run(
        runId,
        itemId,
        point,
        key,
        judgment.kind,
        judgment.verdict,
        judgment.score,
        judgment.status,
        judgment.confidence ?? null,
        JSON.stringify(input.orders ?? ordersOf(judgment)),
        judgment.usage.thinkingTokens,
        judgment.usage.evaluatedTokens,
        body,
        encoding,
        new Date().toISOString(),
        judgment.runs.filter((run) => run.status === "engine-error").length,
        judgment.usage.probeTokens ?? 0,
      );
      return result.changes === 1;
    });
  }

  findJudgmentByKey(key: string): Judgment | undefined {
    return this.guard("find judgment by key", () => {
      // Any run's copy will do (they are the same computation); one that did not fail in the engine is
      // preferred, so a later run can reuse a good judgment even if some earlier run saved an outage.
      const row = this.statement(
        `SELECT body, encoding FROM judgments WHERE key = ? ORDER BY engine_errors > 0 OR status = 'engine-error', seq LIMIT 1`,
      ).get(key) as Pick<JudgmentRow, "body" | "encoding"> | undefined;
      return row === undefined ? undefined : decodeJudgment(row.body, row.encoding);
    });
  }

  doneItemPoints(runId: string): Set<string> {
    return this.guard(`read progress of run "${runId}"`, () => {
      const done = new Set<string>();
      const rows = this.statement(`SELECT item_id, point FROM judgments WHERE run_id = ?`).raw(true).iterate(runId) as IterableIterator<[string, string]>;
      for (const [itemId, point] of rows) done.add(`${itemId}\u0000${point}`);
      return done;
    });
  }

  decisions(runId: string, point: string): Map<string, StoredDecision> {
    return this.guard(`read decisions of run "${runId}" at "${point}"`, () => {
      // In the items' order, so anything that walks the map gives the same result on every run: read by
      // the items' position index (no sort), then any judgment whose item is not in the run's list (none,
      // unless the list was edited by hand) by item id, as one ORDER BY over a LEFT JOIN gave them.
      const columns = DECISION_COLUMNS.map((column) => `j.${column}`).join(", ");
      const rows = this.statement(
        `SELECT ${columns} FROM run_items i JOIN judgments j ON j.run_id = i.run_id AND j.item_id = i.item_id AND j.point = ?
         WHERE i.run_id = ? ORDER BY i.position`,
      ).raw(true).all(point, runId) as unknown[][];
      const total = this.statement(`SELECT count(*) FROM judgments WHERE run_id = ? AND point = ?`).pluck(true).get(runId, point) as number;
      if (rows.length < total) {
        const strays = this.statement(
          `SELECT ${columns} FROM judgments j WHERE j.run_id = ? AND j.point = ?
           AND NOT EXISTS (SELECT 1 FROM run_items i WHERE i.run_id = j.run_id AND i.item_id = j.item_id) ORDER BY j.item_id`,
        ).raw(true).all(runId, point) as unknown[][];
        for (const row of strays) rows.push(row);
      }
      const ordersOf = sharedOrders();
      const decisions = new Map<string, StoredDecision>();
      for (const row of rows) {
        const decision = decisionFromValues(row, ordersOf);
        decisions.set(decision.itemId, decision);
      }
      return decisions;
    });
  }

  itemDecisions(runId: string, point: string, items: readonly ScoredItem[]): Array<StoredDecision | undefined> {
    return this.guard(`read decisions of run "${runId}" at "${point}"`, () => {
      const aligned = this.isRunItemList(runId, items) ? this.decisionsByPosition(runId, point, items) : undefined;
      if (aligned !== undefined) return aligned;
      // Another list than the run's: each item's decision by its id.
      const byId = this.decisions(runId, point);
      return items.map((item) => byId.get(item.id));
    });
  }

  /**
   * Whether `items` is the run's item list as runItems gave it (position k at index k), so a decision's
   * position says whose it is: the count, and the ids at the first, middle and last positions (three rows
   * read, not 100k; a list of the right length in another order, or positions with a gap, fail there).
   */
  private isRunItemList(runId: string, items: readonly ScoredItem[]): boolean {
    const count = this.statement(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck(true).get(runId) as number;
    if (count !== items.length) return false;
    const probes = [...new Set([0, count >> 1, count - 1])].filter((position) => position >= 0);
    const held = this.statement(`SELECT position, item_id FROM run_items WHERE run_id = ? AND position IN (${probes.map(() => "?").join(", ")})`).raw(true).all(runId, ...probes) as Array<[number, string]>;
    return held.length === probes.length && held.every(([position, id]) => items[position]?.id === id);
  }

  /**
   * The decisions of the run's items at `point`, placed by their item's position (read in place of the
   * id, which is taken from `items`): read as columns (column-reads.ts). Undefined if a position falls
   * outside the list (a list edited by hand), where the ids decide instead.
   */
  private decisionsByPosition(runId: string, point: string, items: readonly ScoredItem[]): Array<StoredDecision | undefined> | undefined {
    // DECISION_COLUMNS[0] is the item id: the position takes its place.
    const columns = DECISION_COLUMNS.slice(1);
    const chunk = this.statement(
      columnChunkSql(
        `SELECT i.position AS position, ${columns.map((column) => `j.${column} AS ${column}`).join(", ")}
         FROM run_items i JOIN judgments j ON j.run_id = i.run_id AND j.item_id = i.item_id AND j.point = ? WHERE i.run_id = ?`,
        columns,
      ),
    );
    const aligned = new Array<StoredDecision | undefined>(items.length).fill(undefined);
    const ordersOf = sharedOrders();
    const values = new Array<unknown>(DECISION_COLUMNS.length);
    for (const [positions, ...chunkColumns] of columnChunks(chunk, [point, runId])) {
      for (let row = 0; row < positions.length; row++) {
        const position = positions[row] as number;
        const item = items[position];
        if (item === undefined) return undefined;
        values[0] = item.id;
        for (let column = 0; column < chunkColumns.length; column++) values[column + 1] = chunkColumns[column][row];
        aligned[position] = decisionFromValues(values, ordersOf);
      }
    }
    return aligned;
  }

  judgment(runId: string, itemId: string, point: string): Judgment | undefined {
    return this.guard(`read judgment (run "${runId}", item "${itemId}", point "${point}")`, () => {
      const row = this.statement(`SELECT body, encoding FROM judgments WHERE run_id = ? AND item_id = ? AND point = ?`).get(runId, itemId, point) as
        | Pick<JudgmentRow, "body" | "encoding">
        | undefined;
      return row === undefined ? undefined : decodeJudgment(row.body, row.encoding);
    });
  }

  points(runId: string): string[] {
    return this.guard(`read points of run "${runId}"`, () => {
      const points = this.statement(`SELECT DISTINCT point FROM judgments WHERE run_id = ?`).pluck(true).all(runId) as string[];
      return points.sort(comparePoints);
    });
  }

  exportRun(id: string): Generator<ExportRow> {
    // Resolved now, so an unknown id fails at the call rather than at the first iteration.
    const run = this.getRun(id);
    const pages = runExport(run.id, (sql) => this.statement(sql));
    return this.guardIterator(`export run "${run.id}"`, pages);
  }

  // ---- reports ------------------------------------------------------------------------------------

  saveReport(runId: string, report: unknown): void {
    this.guard(`save report of run "${runId}"`, () => {
      this.statement(
        `INSERT INTO reports (run_id, report, saved_at) VALUES (?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET report = excluded.report, saved_at = excluded.saved_at`,
      ).run(runId, JSON.stringify(report), new Date().toISOString());
    });
  }

  getReport(runId: string): unknown | undefined {
    return this.guard(`read report of run "${runId}"`, () => {
      const text = this.statement(`SELECT report FROM reports WHERE run_id = ?`).pluck(true).get(runId) as string | undefined;
      return text === undefined ? undefined : JSON.parse(text);
    });
  }

  close(): void {
    if (this.db === undefined) return;
    const db = this.db;
    this.db = undefined;
    this.statements.clear();
    try {
      db.close();
    } catch (error) {
      throw storeError(this.file, "close", error);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private database(): Database.Database {
    if (this.db === undefined) throw new J1Error("store", `run store ${this.file} is closed`, { context: { file: this.file } });
    return this.db;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.database().prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private guard<T>(operation: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw storeError(this.file, operation, error);
    }
  }

  private *guardIterator<T>(operation: string, inner: Generator<T>): Generator<T> {
    try {
      for (;;) {
        let step: IteratorResult<T>;
        try {
          step = inner.next();
        } catch (error) {
          throw storeError(this.file, operation, error);
        }
        if (step.done) return;
        yield step.value;
      }
    } finally {
      inner.return(undefined);
    }
  }

  private requireRun(id: string): RunRecord {
    const row = this.statement(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (row === undefined) throw this.unknownRun(id);
    return runFromRow(row);
  }

  private unknownRun(id: string): J1Error {
    return new J1Error("store", `no run "${id}" in ${this.file}; \`j1 runs list\` shows the runs there`, { context: { file: this.file, run: id } });
  }

  /** On resume the item list must be the one the run started with; otherwise its judgments mean something else. */
  private checkSameItems(id: string, ids: ReadonlySet<string>): void {
    const saved = this.statement(`SELECT item_id FROM run_items WHERE run_id = ? ORDER BY position`).pluck(true).all(id) as string[];
    const savedSet = new Set(saved);
    const missing = saved.filter((itemId) => !ids.has(itemId));
    const extra = [...ids].filter((itemId) => !savedSet.has(itemId));
    if (missing.length === 0 && extra.length === 0) return;
    const sample = (list: string[]) => list.slice(0, 3).map((itemId) => `"${itemId}"`).join(", ") + (list.length > 3 ? ", ..." : "");
    const parts = [
      missing.length > 0 ? `${missing.length} saved item(s) are missing now (${sample(missing)})` : "",
      extra.length > 0 ? `${extra.length} item(s) are new (${sample(extra)})` : "",
    ].filter(Boolean);
    throw new J1Error("store", `run "${id}" was started with ${saved.length} items and the data now gives ${ids.size}: ${parts.join("; ")}; resume with the same data and --limit, or start a new run`, {
      context: { file: this.file, run: id },
    });
  }
}
