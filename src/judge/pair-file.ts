import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { J1Error, badInput, errorMessage } from "../core/errors.js";
import type { PairInput } from "../core/template.js";

export interface PairRecord extends PairInput {
  id: string;
  /** 1-based line in the file. */
  line: number;
}

const TEXT_FIELDS = ["question", "a", "b"] as const;

/**
 * The non-blank lines of a JSONL file with their 1-based numbers, streamed; a missing or unreadable file
 * (or a folder) is a bad-input error naming it (`what` says what the file was for). A UTF-8 byte order
 * mark before the first line (as some Windows editors write) is not part of the line.
 */
export async function* jsonlLines(file: string, what = "the input"): AsyncGenerator<{ text: string; line: number }> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    throw badInput(`cannot read ${what} (${errorMessage(error)})`, { file });
  }
  if (!isFile) throw badInput(`cannot read ${what}: a folder or device, not a file`, { file });
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 && raw.startsWith(BOM) ? raw.slice(BOM.length) : raw;
      if (text.trim().length > 0) yield { text, line };
    }
  } catch (error) {
    if (error instanceof J1Error) throw error;
    throw badInput(`cannot read ${what} (${errorMessage(error)})`, { file, line: line + 1 });
  }
}

const BOM = "\uFEFF";

/**
 * Reads pairs to judge from JSONL (`question`, `a`, `b`, optional `id`, `context`), streaming. A bad line
 * stops with an error naming the file, line and field, before any judging of later lines.
 */
export async function* readPairsFile(file: string): AsyncGenerator<PairRecord> {
  const seen = new Set<string>();
  for await (const { text, line } of jsonlLines(file)) yield parsePairLine(text, file, line, seen);
}

export function parsePairLine(text: string, file: string, line: number, seen: Set<string>): PairRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badInput(`not valid JSON (${errorMessage(error)})`, { file, line });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badInput("each line must be a JSON object", { file, line });
  const record = value as Record<string, unknown>;
  for (const field of TEXT_FIELDS) {
    if (!(field in record)) throw badInput("missing", { file, line, field });
    if (typeof record[field] !== "string") throw badInput(`must be a string, got ${typeof record[field]}`, { file, line, field });
  }
  if (record.context !== undefined && typeof record.context !== "string") throw badInput("must be a string", { file, line, field: "context" });
  const rawId = record.id;
  if (rawId !== undefined && typeof rawId !== "string" && typeof rawId !== "number") throw badInput("must be a string or a number", { file, line, field: "id" });
  const id = rawId === undefined ? `line-${line}` : String(rawId);
  if (seen.has(id)) throw badInput(`duplicate id "${id}"`, { file, line, field: "id" });
  seen.add(id);
  return { id, line, question: record.question as string, a: record.a as string, b: record.b as string, context: record.context as string | undefined };
}
