import { J1Error } from "../../core/errors.js";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import type { SourceRow } from "./read-rows.js";
import { RowFields } from "./row-fields.js";

/**
 * With --skip-bad, a bad-input error about one row (or one RewardMATH problem) is reported and the load
 * goes on; without it, or for any other error (a bug, an unreadable file), it stops the load.
 */
export function skipOrThrow(error: unknown, options: LoadOptions): void {
  if (options.skipBad && error instanceof J1Error && error.code === "bad-input") {
    options.onSkip?.(error);
    return;
  }
  throw error;
}

/** Item ids must be unique (they key decisions, resumption and seeds); a repeat is a fault of its row. */
export class ItemIds {
  private readonly seen = new Set<string>();

  claim(id: string, fields: RowFields, field: string): void {
    if (this.seen.has(id)) throw fields.fault(field, `duplicate item id "${id}"`);
    this.seen.add(id);
  }
}

/**
 * The common load loop: each source row becomes zero or more items; a row that is malformed (undecodable,
 * missing or ill-typed field, unknown label) stops the load with an error naming file, line and field, or,
 * with skipBad, is skipped and reported through onSkip.
 */
export async function* itemsFromRows(
  rows: AsyncIterable<SourceRow>,
  toItems: (fields: RowFields) => BenchmarkItem[],
  options: LoadOptions,
): AsyncGenerator<BenchmarkItem> {
  for await (const row of rows) {
    let items: BenchmarkItem[];
    try {
      if (row.fault) throw row.fault;
      items = toItems(new RowFields(row));
    } catch (error) {
      skipOrThrow(error, options);
      continue;
    }
    yield* items;
  }
}

/** Loads a whole benchmark into memory (tests, small sets), counting the rows skipped with skipBad. */
export async function loadAll(benchmark: Benchmark, options: LoadOptions = {}): Promise<{ items: BenchmarkItem[]; skipped: number; errors: Error[] }> {
  const errors: Error[] = [];
  const items: BenchmarkItem[] = [];
  const onSkip = (error: Error): void => {
    errors.push(error);
    options.onSkip?.(error);
  };
  for await (const item of benchmark.load({ ...options, onSkip })) items.push(item);
  return { items, skipped: errors.length, errors };
}
