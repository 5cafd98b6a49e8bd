import { createHash } from "node:crypto";
import { badInput } from "../core/errors.js";
import type { BenchmarkItem } from "./types.js";

/** `--shard i/n`: this run judges the i-th of n shares of the items (1-based). */
export interface Shard {
  index: number;
  count: number;
}

/** What a finished shard run keeps in its summary, so `j1 runs merge` can put the shards back together. */
export interface ShardRecord extends Shard {
  /** Items in the whole run (every shard). */
  total: number;
  /** For each item of this shard, in its order, its position in the whole run's item order. */
  positions: number[];
  /** A hash of every item of the whole run (ids and contents, in order): shards of other data differ here. */
  itemsHash: string;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count || !Number.isSafeInteger(count)) {
    throw badInput(`"${text}" is not a shard: write i/n with 1 <= i <= n, e.g. 1/3`, { field: "--shard" });
  }
  return { index, count };
}

/**
 * Deals a run's items to shards: deterministic (the same data and settings give the same shares on every
 * machine), disjoint and complete. Items are dealt in source order, one group at a time, round robin: a
 * group (items scored together, RewardMATH's pairs of one problem) is never split, and the shares
 * differ by at most one group. Every item passes through `take` in order; it also hashes them all, so
 * shards cut from different data can be told apart when they are merged.
 */
export class ShardDealer {
  private readonly groups = new Map<string, number>();
  private position = 0;
  private readonly hash = createHash("sha256");
  readonly positions: number[] = [];

  constructor(readonly shard: Shard) {}

  take(item: BenchmarkItem): boolean {
    const groupKey = item.group ?? `\u0000${item.id}`;
    let ordinal = this.groups.get(groupKey);
    if (ordinal === undefined) {
      ordinal = this.groups.size;
      this.groups.set(groupKey, ordinal);
    }
    this.hash.update(JSON.stringify(item));
    this.hash.update("\n");
    const position = this.position++;
    const mine = ordinal % this.shard.count === this.shard.index - 1;
    if (mine) this.positions.push(position);
    return mine;
  }

  /** Once every item has passed. */
  record(): ShardRecord {
    return { ...this.shard, total: this.position, positions: [...this.positions], itemsHash: this.hash.copy().digest("hex") };
  }
}
