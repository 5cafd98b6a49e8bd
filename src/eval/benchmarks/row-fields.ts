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

export { describe as describeValue };
