import type Database from "better-sqlite3";
import { comparePoints, exportFromRows, itemFromRow, type ItemRow, type JudgmentRow } from "./rows.js";
import type { ExportRow } from "./types.js";

/** Items per page: small enough to keep memory flat on a 100,000-item run, large enough to be quick. */
const PAGE_ITEMS = 200;

/**
 * Every judgment of a run with its item's fields, item by item in the loader's order and point by point.
 * Read in pages with `.all()`, never with an open cursor: the consumer may await (writing a file) between
 * rows, and an open cursor would hold a read transaction and keep the connection busy across that await.
 * Judgments whose item is not in the run's item list (saved before the list, or by an older j1) come last,
 * so nothing in the store is left out of an export.
 */
export function* runExport(runId: string, statement: (sql: string) => Database.Statement): Generator<ExportRow> {
  const itemPage = statement(`SELECT * FROM run_items WHERE run_id = ? AND position > ? ORDER BY position LIMIT ${PAGE_ITEMS}`);
  const judgmentsOfPage = statement(
    `SELECT j.* FROM judgments j JOIN run_items i ON i.run_id = j.run_id AND i.item_id = j.item_id
     WHERE j.run_id = ? AND i.position > ? AND i.position <= ?`,
  );
  let after = -1;
  for (;;) {
    const items = (itemPage.all(runId, after) as ItemRow[]).map((row) => ({ row, item: itemFromRow(row) }));
    if (items.length === 0) break;
    const last = items[items.length - 1].row.position;
    const byItem = new Map<string, JudgmentRow[]>();
    for (const row of judgmentsOfPage.all(runId, after, last) as JudgmentRow[]) {
      const list = byItem.get(row.item_id) ?? [];
      list.push(row);
      byItem.set(row.item_id, list);
    }
    for (const { item } of items) {
      const rows = (byItem.get(item.id) ?? []).sort((a, b) => comparePoints(a.point, b.point));
      for (const row of rows) yield exportFromRows(row, item);
    }
    after = last;
  }
  yield* orphans(runId, statement);
}

function* orphans(runId: string, statement: (sql: string) => Database.Statement): Generator<ExportRow> {
  const page = statement(
    `SELECT j.* FROM judgments j
     WHERE j.run_id = ? AND (j.item_id, j.point) > (?, ?)
       AND NOT EXISTS (SELECT 1 FROM run_items i WHERE i.run_id = j.run_id AND i.item_id = j.item_id)
     ORDER BY j.item_id, j.point LIMIT ${PAGE_ITEMS}`,
  );
  let after: [string, string] = ["", ""];
  for (;;) {
    const rows = page.all(runId, ...after) as JudgmentRow[];
    if (rows.length === 0) return;
    for (const row of rows) yield exportFromRows(row, undefined);
    const last = rows[rows.length - 1];
    after = [last.item_id, last.point];
  }
}
