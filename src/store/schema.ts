import type Database from "better-sqlite3";

/**
 * The run store's schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
 * been applied, so an old store file is upgraded in place when a newer j1 opens it, and a store written by
 * a newer j1 is refused instead of being misread.
 *
 * Append only: never edit a migration that has shipped; add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: runs, their item lists, judgments (one row per run, item and point), and final reports.
  `
  CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    benchmark   TEXT NOT NULL,
    label       TEXT NOT NULL,
    settings    TEXT NOT NULL,             -- JSON: everything needed to resume the run as it was started
    status      TEXT NOT NULL,
    summary     TEXT,                      -- JSON, set with the status (e.g. the error that stopped a run)
    item_count  INTEGER,                   -- NULL until the item list is saved
    skipped     INTEGER,                   -- malformed rows skipped when the items were loaded
    created_at  TEXT NOT NULL,             -- ISO 8601, UTC, millisecond precision
    updated_at  TEXT NOT NULL
  );
  CREATE INDEX runs_created ON runs (created_at);

  -- What scoring needs of each item (no texts), saved once per run so a report never reloads the data.
  CREATE TABLE run_items (
    run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id   TEXT NOT NULL,
    position  INTEGER NOT NULL,            -- the loader's order, kept for reports and exports
    category  TEXT NOT NULL,
    label     TEXT NOT NULL,
    grp       TEXT,
    meta      TEXT,                        -- JSON
    PRIMARY KEY (run_id, item_id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX run_items_position ON run_items (run_id, position);

  -- One judgment per (run, item, point). The UNIQUE constraint is what makes a duplicate impossible, even
  -- when a killed run is resumed or two processes race; the key column finds a judgment already computed
  -- with the same inputs by any run.
  CREATE TABLE judgments (
    seq               INTEGER PRIMARY KEY,   -- commit order
    run_id            TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id           TEXT NOT NULL,
    point             TEXT NOT NULL,
    key               TEXT NOT NULL,
    kind              TEXT NOT NULL,
    verdict           TEXT,
    score             REAL,
    status            TEXT NOT NULL,
    confidence        REAL,
    orders            TEXT NOT NULL,         -- JSON: per-order verdicts, {"AB": ..., "BA": ...}
    thinking_tokens   INTEGER NOT NULL,
    evaluated_tokens  INTEGER NOT NULL,
    body              BLOB NOT NULL,         -- the whole Judgment as JSON, gzipped when large
    encoding          TEXT NOT NULL,         -- "json" or "json+gzip"
    saved_at          TEXT NOT NULL,
    UNIQUE (run_id, item_id, point)
  );
  CREATE INDEX judgments_key ON judgments (key);
  CREATE INDEX judgments_point ON judgments (run_id, point);

  CREATE TABLE reports (
    run_id    TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    report    TEXT NOT NULL,               -- JSON
    saved_at  TEXT NOT NULL
  );
  `,
  // v2: what a run is (an evaluation, a `data sft` build, a `judge --input` file) in its own column, where
  // it used to hide in `benchmark`; and each item's kind (pair, rating, choice; NULL: a pair, as before).
  `
  ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'eval';
  UPDATE runs SET kind = 'data-sft' WHERE benchmark = 'data-sft';
  ALTER TABLE run_items ADD COLUMN kind TEXT;
  -- Runs of a judgment that failed in the engine: a pair whose one order hit an outage is "inconsistent",
  -- not "engine-error", and --retry-errors must still find it.
  ALTER TABLE judgments ADD COLUMN engine_errors INTEGER NOT NULL DEFAULT 0;
  UPDATE judgments SET engine_errors = 1 WHERE status = 'engine-error';
  `,
  // v3: the tokens an adaptive policy spent on verdict probes (of evaluated_tokens), so the compute–accuracy
  // frontier counts them without reading every judgment body.
  `
  ALTER TABLE judgments ADD COLUMN probe_tokens INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to SCHEMA_VERSION. Each migration runs in its own IMMEDIATE transaction together
 * with the version bump, and the version is re-read inside it, so two processes opening a new store at the
 * same moment cannot both apply the same migration.
 */
export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    // The user's input (a store a newer j1 wrote), not a failure of j1: refused like a path that is no store
    // (isStorePathRefusal), so the CLI exits 2.
    throw Object.assign(new Error(`schema version ${current} is newer than this j1 understands (${SCHEMA_VERSION}); upgrade j1, or pass --store another file`), { code: "J1_NEWER_SCHEMA" });
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    const apply = db.transaction(() => {
      const now = db.pragma("user_version", { simple: true }) as number;
      if (now !== version) return; // another process applied it first
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    });
    apply.immediate();
  }
}
