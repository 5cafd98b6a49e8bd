import { J1Error } from "../../core/errors.js";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import type { SourceRow } from "./read-rows.js";
import { RowFields } from "./row-fields.js";
import { CompactStringSet } from "./string-set.js";

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
  /** Every id of the file so far, off the heap: a dry run over 300k rows holds only these (string-set.ts). */
  private readonly seen = new CompactStringSet();

  claim(id: string, fields: RowFields, field: string): void {
    if (!this.seen.add(id)) throw fields.fault(field, `duplicate item id "${id}"`);
  }
}

/**
 * The common load loop: each source row becomes zero or more items; a row that is malformed (undecodable,
 * missing or ill-typed field, unknown label) stops the load with an error naming file, line and field, or,
 * with skipBad, is skipped and reported through onSkip.
 */
export async function* itemsFromRows<T = BenchmarkItem>(
  rows: AsyncIterable<SourceRow>,
  toItems: (fields: RowFields) => T[],
  options: LoadOptions,
): AsyncGenerator<T> {
  for await (const row of rows) {
    let items: T[];
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

/** The group a raw row names in `field` (a string or an integer), read without any other checks. */
export function rawGroupOf(row: SourceRow, field: string): string | undefined {
  const value = row.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const raw = (value as Record<string, unknown>)[field];
  if (typeof raw === "string" && raw.length > 0) return raw;
  if (typeof raw === "number" && Number.isInteger(raw)) return String(raw);
  return undefined;
}

/**
 * Which groups a malformed row spoils, for loaders whose groups are scored together and whose rows of a
 * group are consecutive: the group the row names when it can be read; otherwise the group being read
 * and the next one (the row may be the last of one or the first of the other). With --skip-bad a
 * spoiled group is dropped whole and counted, so RewardMATH never scores a problem as "beats all 8" when
 * its ninth rejected solution was the malformed row.
 */
export class GroupTaint {
  private readonly pending = new Map<string, Error>();
  private next: Error | undefined;
  /** The first malformed row of the group being read, if any. */
  current: Error | undefined;

  /** A malformed row seen while `currentGroup` (undefined: none yet) was being read. */
  spoil(error: Error, rowGroup: string | undefined, currentGroup: string | undefined): void {
    if (rowGroup !== undefined && rowGroup !== currentGroup) {
      if (!this.pending.has(rowGroup)) this.pending.set(rowGroup, error);
      return;
    }
    if (currentGroup !== undefined) this.current ??= error;
    if (rowGroup === undefined) this.next ??= error;
  }

  /**
   * A good row of the group being read: an unreadable malformed row before it lay inside this group, so
   * it spoils no other.
   */
  continued(): void {
    this.next = undefined;
  }

  /** A new group starts: it is spoiled if a malformed row named it, or could not be told from it. */
  start(group: string): void {
    this.current = this.pending.get(group) ?? this.next;
    this.pending.delete(group);
    this.next = undefined;
  }
}

/** The error counted for a group dropped with --skip-bad: names the group and the malformed row. */
export function droppedGroupError(kind: string, group: string, cause: Error): J1Error {
  return new J1Error("bad-input", `${kind} ${group} dropped whole (--skip-bad): one of its rows is malformed: ${cause.message}`, { context: { group } });
}

/**
 * Like itemsFromRows, for items scored in groups whose rows are consecutive (`groupField` names the group
 * in a raw row): a group with a malformed row is dropped whole with --skip-bad (see GroupTaint), counted
 * once through onSkip besides the row itself.
 */
export async function* groupedItemsFromRows(
  rows: AsyncIterable<SourceRow>,
  toItems: (fields: RowFields) => BenchmarkItem[],
  groupField: string,
  kind: string,
  options: LoadOptions,
): AsyncGenerator<BenchmarkItem> {
  const taint = new GroupTaint();
  const dropped = new Set<string>();
  let group: string | undefined;
  let buffer: BenchmarkItem[] = [];
  const flush = function* (): Generator<BenchmarkItem> {
    if (group !== undefined && taint.current !== undefined) {
      if (!dropped.has(group)) options.onSkip?.(droppedGroupError(kind, group, taint.current));
      dropped.add(group);
    } else if (group === undefined || !dropped.has(group)) yield* buffer;
    buffer = [];
  };
  for await (const row of rows) {
    let items: BenchmarkItem[];
    try {
      if (row.fault) throw row.fault;
      items = toItems(new RowFields(row));
    } catch (error) {
      skipOrThrow(error, options);
      taint.spoil(error as Error, rawGroupOf(row, groupField), group);
      continue;
    }
    for (const item of items) {
      const itemGroup = item.group ?? `item:${item.id}`;
      if (itemGroup !== group) {
        yield* flush();
        group = itemGroup;
        taint.start(itemGroup);
      } else taint.continued();
      buffer.push(item);
    }
  }
  yield* flush();
}
