import { createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { badInput, errorMessage, J1Error } from "../../core/errors.js";
import { parseCsv } from "./csv-stream.js";
import { splitJsonArray } from "./json-array-stream.js";
import { MAX_ROW_CHARS } from "./row-limit.js";

/**
 * One source row as read from a file, before any benchmark-specific checks. A row that could not even be
 * decoded (a line that is not JSON, a CSV record with the wrong number of fields) arrives as `fault`, so
 * the loader decides whether to stop or skip it; faults of the whole file (missing, not an array,
 * corrupt gzip) are thrown instead, since nothing after them can be trusted.
 */
export interface SourceRow {
  file: string;
  /** 1-based data row (element, record) number in the file. */
  row: number;
  /** 1-based line where the row starts; absent for formats without lines (Parquet). */
  line?: number;
  value?: unknown;
  fault?: J1Error;
  /**
   * The row's JSON text (JSON Lines, JSON arrays): how a number was written (`1` or `1.0`) is lost once
   * parsed, and the official scripts tell them apart.
   */
  text?: string;
}

export type RowFormat = "jsonl" | "json" | "csv" | "parquet";

/**
 * The error for a bad row or field: names the file, the line where the row starts (text formats), the
 * row's index (1-based; the only thing that tells rows apart in a one-line JSON array), the row's id where
 * it has one, and the field: `data.json:1: row 7 (id "p7"): field "label": must be ...`.
 */
export function rowFault(row: Pick<SourceRow, "file" | "row" | "line"> & { id?: string }, field: string | undefined, problem: string): J1Error {
  const place = row.line === undefined ? row.file : `${row.file}:${row.line}`;
  const which = `row ${row.row}${row.id === undefined ? "" : ` (id ${JSON.stringify(row.id)})`}`;
  const where = [place, which, field === undefined ? undefined : `field "${field}"`].filter(Boolean).join(": ");
  return new J1Error("bad-input", `${where}: ${problem}`, { context: { file: row.file, line: row.line, row: row.row, id: row.id, field } });
}

function isGzip(file: string): boolean {
  return file.toLowerCase().endsWith(".gz");
}

/** The format from the file name (a trailing .gz is looked through); JSON files are sniffed further. */
export function formatFromName(file: string): RowFormat | undefined {
  const name = basename(file).toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".parquet")) return "parquet";
  return undefined;
}

async function ensureReadable(file: string): Promise<void> {
  try {
    await access(file);
  } catch (error) {
    throw badInput(`cannot read the file (${errorMessage(error)})`, { file });
  }
  if ((await stat(file)).isDirectory()) throw badInput("is a folder; this benchmark reads one file here", { file });
}

/** Text of a (possibly gzipped) file as a stream of chunks; a corrupt gzip surfaces as a file error. */
export function textChunks(file: string): AsyncIterable<string> {
  const raw = createReadStream(file);
  let stream: Readable = raw;
  if (isGzip(file)) {
    const gunzip = createGunzip();
    raw.on("error", (error) => gunzip.destroy(error));
    stream = raw.pipe(gunzip);
  }
  stream.setEncoding("utf8");
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as string;
    } catch (error) {
      if (error instanceof J1Error) throw error;
      throw badInput(`cannot read the file (${errorMessage(error)})`, { file });
    } finally {
      stream.destroy();
      raw.destroy();
    }
  })();
}

/** JSON Lines, one row per non-blank line; a line that is not a JSON value is a row fault. */
export async function* readJsonLines(file: string): AsyncGenerator<SourceRow> {
  await ensureReadable(file);
  let line = 0;
  let row = 0;
  for await (const rawText of splitLines(textChunks(file), file)) {
    line++;
    const text = line === 1 ? rawText.replace(/^\ufeff/, "") : rawText;
    if (text.trim().length === 0) continue;
    row++;
    yield { file, row, line, text, ...parseJson(text, { file, row, line }) };
  }
}

/** A decoded value, or the fault of a text that is not JSON (a row-level problem, not a file-level one). */
function parseJson(text: string, place: Pick<SourceRow, "file" | "row" | "line">): { value: unknown } | { fault: J1Error } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { fault: rowFault(place, undefined, `not valid JSON (${error.message})`) };
  }
}

/** Lines of a chunked text (LF or CRLF); the chunks need not end at line boundaries. */
async function* splitLines(chunks: AsyncIterable<string>, file: string): AsyncGenerator<string> {
  let rest = "";
  let line = 1;
  for await (const chunk of chunks) {
    // A long line spans many chunks: gather them without re-splitting what was gathered, up to a cap (a
    // symlink to /dev/zero is one endless line that would take all memory and end as "Invalid string length").
    if (!chunk.includes("\n")) {
      rest += chunk;
      if (rest.length > MAX_ROW_CHARS) throw badInput(`line ${line} is longer than ${MAX_ROW_CHARS.toLocaleString("en-US")} characters: not a benchmark row (a device or a broken file?)`, { file, line });
      continue;
    }
    const pieces = chunk.split("\n");
    pieces[0] = rest + pieces[0];
    rest = pieces.pop() ?? "";
    line += pieces.length;
    for (const piece of pieces) yield piece.endsWith("\r") ? piece.slice(0, -1) : piece;
  }
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}

/** A top-level JSON array, streamed element by element (see json-array-stream.ts). */
export async function* readJsonArray(file: string): AsyncGenerator<SourceRow> {
  await ensureReadable(file);
  let row = 0;
  for await (const element of splitJsonArray(textChunks(file), file)) {
    row++;
    const place = { file, row, line: element.line };
    if (element.text.trim().length === 0) {
      yield { ...place, fault: rowFault(place, undefined, "empty array element") };
      continue;
    }
    yield { ...place, text: element.text, ...parseJson(element.text, place) };
  }
}

/** CSV with a header row; each record becomes an object keyed by the header (values stay strings). */
export async function* readCsv(file: string): AsyncGenerator<SourceRow> {
  await ensureReadable(file);
  let header: string[] | undefined;
  let row = 0;
  for await (const record of parseCsv(textChunks(file), file)) {
    if (header === undefined) {
      header = record.fields.map((name) => name.trim());
      continue;
    }
    row++;
    const place = { file, row, line: record.line };
    if (record.fields.length !== header.length) {
      const problem = `has ${record.fields.length} fields, the header has ${header.length}`;
      yield { ...place, fault: rowFault(place, undefined, problem) };
      continue;
    }
    const value: Record<string, string> = {};
    header.forEach((name, index) => (value[name] = record.fields[index]));
    yield { ...place, value };
  }
}

/** Parquet read one row group at a time (hyparquet), so only one group is ever decoded in memory. */
export async function* readParquet(file: string): AsyncGenerator<SourceRow> {
  await ensureReadable(file);
  let metadata;
  const buffer = await asyncBufferFromFile(file);
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw badInput(`not a readable Parquet file (${errorMessage(error)})`, { file });
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd });
    for (const [offset, value] of rows.entries()) yield { file, row: rowStart + offset + 1, value: plainValue(value) };
    rowStart = rowEnd;
  }
}

/** Parquet INT64 columns decode as bigint; the loaders want plain JSON-like values. */
function plainValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === "object" && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainValue(inner)]));
  }
  return value;
}

/**
 * Whether a .json file is a JSON array or JSON Lines (some exports name JSONL ".json"): an array starts
 * with "["; JSON Lines has a complete JSON value on its first line. Anything else (one pretty-printed
 * object, say) is a file error rather than one fault per line.
 */
async function jsonLayout(file: string): Promise<"array" | "lines"> {
  let head = "";
  for await (const chunk of textChunks(file)) {
    head += chunk;
    const start = head.replace(/^\ufeff/, "").trimStart();
    if (start.startsWith("[") || start.includes("\n")) break;
  }
  const text = head.replace(/^\ufeff/, "").trimStart();
  if (text.startsWith("[")) return "array";
  const firstLine = text.split("\n", 1)[0];
  try {
    JSON.parse(firstLine);
    return "lines";
  } catch {
    throw badInput("a .json file must hold a JSON array of rows, or one JSON object per line (JSON Lines)", { file, line: 1 });
  }
}

/**
 * Rows of any supported file: .jsonl/.ndjson, .json (a JSON array, or JSON Lines when it starts with
 * "{"), .csv, .parquet; .gz versions of the text formats. Streams in every case.
 */
export async function* readRows(file: string, format?: RowFormat): AsyncGenerator<SourceRow> {
  await ensureReadable(file);
  const chosen = format ?? formatFromName(file);
  if (chosen === undefined) {
    throw badInput("unknown file type: expected .jsonl, .json, .csv or .parquet (text formats may be .gz)", { file });
  }
  if (chosen === "parquet") {
    if (isGzip(file)) throw badInput("a gzipped Parquet file is not supported (Parquet compresses itself): unzip it first", { file });
    yield* readParquet(file);
  } else if (chosen === "csv") {
    yield* readCsv(file);
  } else if (chosen === "jsonl") {
    yield* readJsonLines(file);
  } else {
    yield* (await jsonLayout(file)) === "array" ? readJsonArray(file) : readJsonLines(file);
  }
}
