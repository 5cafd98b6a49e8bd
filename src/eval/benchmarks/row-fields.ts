import type { J1Error } from "../../core/errors.js";
import { rowFault, type SourceRow } from "./read-rows.js";

/** Fields that name a row in the benchmark files j1 reads (JudgeBench pair_id, CodePrefBench task_id, ...). */
export const ROW_ID_FIELDS = ["id", "pair_id", "task_id", "problem_id", "prompt_id"] as const;

function rowIdOf(record: Record<string, unknown>): string | undefined {
  for (const field of ROW_ID_FIELDS) {
    const value = record[field];
    if (typeof value === "string" && value.length > 0) return value.length > 60 ? `${value.slice(0, 57)}...` : value;
    if (typeof value === "number" && Number.isInteger(value)) return String(value);
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `the string ${JSON.stringify(value.slice(0, 37) + "...")}` : `the string ${JSON.stringify(value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Typed access to the fields of one source row. Every failed check throws an error naming the file, the
 * line (or row) and the field, and saying what was expected and what was found.
 */
export class RowFields {
  readonly record: Record<string, unknown>;
  /** The row's own id, for error messages: the first of ROW_ID_FIELDS that holds a string or an integer. */
  readonly rowId: string | undefined;

  constructor(readonly source: SourceRow) {
    const value = source.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw rowFault(source, undefined, `each row must be a JSON object, found ${describe(value)}`);
    }
    this.record = value as Record<string, unknown>;
    this.rowId = rowIdOf(this.record);
  }

  fault(field: string | undefined, problem: string): J1Error {
    return rowFault({ ...this.source, id: this.rowId }, field, problem);
  }

  has(field: string): boolean {
    return this.record[field] !== undefined;
  }

  /** The raw value; missing (undefined) is an error, null is returned as is. */
  value(field: string): unknown {
    if (!(field in this.record) || this.record[field] === undefined) throw this.fault(field, "missing");
    return this.record[field];
  }

  string(field: string): string {
    const value = this.value(field);
    if (typeof value !== "string") throw this.fault(field, `must be a string, found ${describe(value)}`);
    return value;
  }

  optionalString(field: string): string | undefined {
    if (!this.has(field) || this.record[field] === null) return undefined;
    return this.string(field);
  }

  /**
   * A response to be judged: a string with something in it. The official data never holds an empty or
   * whitespace-only response, and a judge shown one compares nothing with something.
   */
  response(field: string): string {
    const value = this.string(field);
    if (value.trim().length === 0) throw this.fault(field, value.length === 0 ? "is empty: a response to judge must have text" : "holds only whitespace: a response to judge must have text");
    return value;
  }

  /** A list of responses (see `response`), optionally of an exact length. */
  responseList(field: string, length?: number): string[] {
    const list = this.stringList(field, length);
    list.forEach((entry, index) => {
      if (entry.trim().length === 0) throw this.fault(`${field}[${index}]`, entry.length === 0 ? "is empty: a response to judge must have text" : "holds only whitespace: a response to judge must have text");
    });
    return list;
  }

  /**
   * A label written as a JSON integer, one of `allowed`. The official scripts compare it with integers
   * (Python: "1" != 1, and a float 1.0 used as an index fails), so a string or a float written `1.0` would
   * never be counted right there: refused here rather than read as the number it looks like.
   */
  integerLabel(field: string, allowed: readonly number[]): number {
    const value = this.value(field);
    const allowedText = allowed.join(" or ");
    if (typeof value !== "number" || !Number.isInteger(value)) throw this.fault(field, `must be the integer ${allowedText} (as the official scripts compare it), found ${describe(value)}`);
    if (this.source.text !== undefined && floatLiteral(field).test(this.source.text)) throw this.fault(field, `must be the integer ${allowedText} (as the official scripts compare it), found a float (${value}.0)`);
    if (!allowed.includes(value)) throw this.fault(field, `must be the integer ${allowedText}, found ${describe(value)}`);
    return value;
  }

  /** A list of strings, optionally of an exact length. */
  stringList(field: string, length?: number): string[] {
    const value = this.value(field);
    if (!Array.isArray(value)) throw this.fault(field, `must be a list of strings, found ${describe(value)}`);
    if (length !== undefined && value.length !== length) throw this.fault(field, `must hold ${length} entries, found ${value.length}`);
    value.forEach((entry, index) => {
      if (typeof entry !== "string") throw this.fault(`${field}[${index}]`, `must be a string, found ${describe(entry)}`);
    });
    return value as string[];
  }

  /** An integer, given as a JSON number or (CSV, some exports) as a string of digits. */
  integer(field: string): number {
    const value = this.value(field);
    const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== "number" || !Number.isInteger(number)) throw this.fault(field, `must be an integer, found ${describe(value)}`);
    return number;
  }

  /** An identifier: a string or an integer, returned as a string. */
  identifier(field: string): string {
    const value = this.value(field);
    if (typeof value === "string" && value.length > 0) return value;
    if (typeof value === "number" && Number.isInteger(value)) return String(value);
    throw this.fault(field, `must be a non-empty string or an integer, found ${describe(value)}`);
  }

  /** One of a fixed set of values (compared after String()). */
  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const value = this.value(field);
    const text = typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    const match = allowed.find((candidate) => candidate === text);
    if (match === undefined) throw this.fault(field, `must be one of ${allowed.map((entry) => JSON.stringify(entry)).join(", ")}, found ${describe(value)}`);
    return match;
  }
}

/** Whether a row's JSON text writes `field` as a float (`1.0`, `1e0`): a top-level key with a fraction or exponent. */
function floatLiteral(field: string): RegExp {
  const key = JSON.stringify(field).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${key}\\s*:\\s*-?\\d+(?:\\.\\d*|[eE])`);
}

export { describe as describeValue };
