import type Database from "better-sqlite3";

/**
 * Large reads as columns. better-sqlite3 makes every cell's JavaScript value by a call of its own into V8;
 * a report reads about a million cells at 100k judgments (items and decisions), and those calls were most
 * of its store time. Here SQLite gathers each column of a chunk of rows into one JSON array
 * (json_group_array) and JSON.parse makes the chunk's values at once: 100k decisions in 243 ms of CPU
 * instead of 364 ms, 100k items in 142 ms instead of 245 ms (bench figures, a loaded 2-core EPYC).
 * JSON keeps what the rows hold: text as text, integers up to 2^53 and every double exactly (SQLite writes
 * the shortest text that reads back the same double; ±Inf as 9e999, which JSON.parse reads as ±Infinity).
 */

/** Rows per chunk: a chunk's JSON is about a megabyte, whatever the run's size. */
export const COLUMN_CHUNK = 16384;

/**
 * The SQL of one chunk: the rows `select` gives (a SELECT whose first column is named `position`, and which
 * ends in a WHERE clause), after the position bound as its last parameter, in position order, as one row
 * of JSON arrays: [positions, ...each of `columns`].
 */
export function columnChunkSql(select: string, columns: readonly string[]): string {
  const arrays = ["position", ...columns].map((column) => `json_group_array(${column})`).join(", ");
  return `SELECT ${arrays} FROM (${select} AND position > ? ORDER BY position LIMIT ${COLUMN_CHUNK})`;
}

/**
 * The chunks of a columnChunkSql statement, each as its parsed columns (positions first), until a chunk
 * comes back short. A column's values are the chunk's rows in the same order as its positions.
 */
export function* columnChunks(statement: Database.Statement, params: readonly unknown[]): Generator<unknown[][]> {
  // Below any position: positions are integers, and the first chunk starts at the first.
  let after = Number.NEGATIVE_INFINITY;
  for (;;) {
    const texts = statement.raw(true).get(...params, after) as string[];
    const columns = texts.map((text) => JSON.parse(text) as unknown[]);
    const positions = columns[0] as number[];
    if (positions.length === 0) return;
    yield columns;
    if (positions.length < COLUMN_CHUNK) return;
    for (const position of positions) if (position > after) after = position;
  }
}

/**
 * Whether positions are in increasing order. The chunk's rows are aggregated from a subquery ordered by
 * position, which SQLite follows, but SQL does not promise an aggregate's input order: a reader that needs
 * the order checks it.
 */
export function increasing(positions: readonly number[]): boolean {
  for (let index = 1; index < positions.length; index++) if (!(positions[index] > positions[index - 1])) return false;
  return true;
}
