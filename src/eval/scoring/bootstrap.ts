import { deriveSeed } from "../../core/seed.js";
import type { ScoredItem } from "../types.js";

/** mulberry32: a small, fast, well-mixed 32-bit generator; plenty for resampling indices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Linear-interpolation quantile of sorted values (the usual "type 7"). */
export function quantile(sorted: readonly number[], probability: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * probability;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

export interface BootstrapOptions {
  seed?: number;
  resamples?: number;
  /** Coverage of the interval; 0.95 by default. */
  level?: number;
}

/**
 * A unit of resampling: an item alone, or all items of a group (a RewardMATH problem, an RM-Bench prompt),
 * since the official rule scores a group as a whole and its items are not independent. `copies[k]` is the
 * unit as drawn for the (k+1)-th time within one resample: the same items under the group name
 * "<group>#k", so the rule sees two problems, not one with twice the pairs. Copies are made once and
 * reused across resamples.
 */
class Unit {
  readonly copies: ScoredItem[][];

  constructor(readonly items: ScoredItem[]) {
    this.copies = [items];
  }

  copy(occurrence: number): ScoredItem[] {
    while (this.copies.length <= occurrence) {
      const index = this.copies.length;
      this.copies.push(this.items.map((item) => (item.group === undefined ? item : { ...item, group: `${item.group}#${index}` })));
    }
    return this.copies[occurrence];
  }
}

function unitsByCategory(items: readonly ScoredItem[]): Unit[][] {
  const strata = new Map<string, Unit[]>();
  const groups = new Map<string, ScoredItem[]>();
  for (const item of items) {
    if (item.group !== undefined) {
      const members = groups.get(item.group);
      if (members) {
        members.push(item);
        continue;
      }
    }
    const members = [item];
    if (item.group !== undefined) groups.set(item.group, members);
    const units = strata.get(item.category);
    if (units) units.push(new Unit(members));
    else strata.set(item.category, [new Unit(members)]);
  }
  return [...strata.values()];
}

/**
 * Percentile bootstrap interval of an official score. Units are drawn with replacement within each
 * category (stratified), so every resample keeps the benchmark's composition: the official rules weight
 * categories (RewardBench subsets, RM-Bench domains) and a resample missing one would change the rule,
 * not just the sample. Deterministic for a given seed.
 */
export function bootstrapInterval(
  items: readonly ScoredItem[],
  officialScore: (sample: readonly ScoredItem[]) => number,
  options: BootstrapOptions = {},
): [number, number] {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const random = seededRandom(deriveSeed(options.seed ?? 0, "bootstrap"));
  const strata = unitsByCategory(items);
  const scores: number[] = [];
  for (let draw = 0; draw < resamples; draw++) {
    const sample: ScoredItem[] = [];
    for (const units of strata) {
      const drawn = new Uint32Array(units.length);
      for (let pick = 0; pick < units.length; pick++) {
        const index = Math.floor(random() * units.length);
        for (const item of units[index].copy(drawn[index]++)) sample.push(item);
      }
    }
    scores.push(officialScore(sample));
  }
  scores.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [quantile(scores, tail), quantile(scores, 1 - tail)];
}
