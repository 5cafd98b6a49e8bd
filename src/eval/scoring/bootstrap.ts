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
  /** The official rule as a mean of per-item credits, when it is one (official-rule.ts). */
  additive?: AdditiveScore;
}

/** A score that is `scale` times the mean credit over items, or the mean over categories of their means. */
export interface AdditiveScore {
  credit: (item: ScoredItem) => number;
  average: "items" | "categories";
  scale: number;
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
  const additive = options.additive && additiveStrata(strata, options.additive);
  if (options.additive && additive) {
    // The same draws as below, summing each drawn unit's credits: the resample's items in the same order,
    // so the same score (credits are sums of halves and ones, exact in floating point), in O(units).
    const { average, scale } = options.additive;
    for (let draw = 0; draw < resamples; draw++) {
      let totalSum = 0;
      let totalCount = 0;
      let categoryMeans = 0;
      for (const stratum of additive) {
        let sum = 0;
        let count = 0;
        const units = stratum.sums.length;
        for (let pick = 0; pick < units; pick++) {
          const index = Math.floor(random() * units);
          sum += stratum.sums[index];
          count += stratum.counts[index];
        }
        totalSum += sum;
        totalCount += count;
        categoryMeans += scale * (sum / count);
      }
      scores.push(average === "items" ? scale * (totalSum / totalCount) : categoryMeans / additive.length);
    }
    return intervalOf(scores, level);
  }
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
  return intervalOf(scores, level);
}

function intervalOf(scores: number[], level: number): [number, number] {
  scores.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [quantile(scores, tail), quantile(scores, 1 - tail)];
}

/**
 * Each stratum's units as credit sums and item counts, or undefined when a unit's items span categories
 * (then a resample's categories are not its strata, and only the rule itself can score it).
 */
function additiveStrata(strata: readonly Unit[][], additive: AdditiveScore): Array<{ sums: Float64Array; counts: Uint32Array }> | undefined {
  const out: Array<{ sums: Float64Array; counts: Uint32Array }> = [];
  for (const units of strata) {
    const sums = new Float64Array(units.length);
    const counts = new Uint32Array(units.length);
    for (let index = 0; index < units.length; index++) {
      const members = units[index].items;
      for (const item of members) {
        if (item.category !== members[0].category) return undefined;
        sums[index] += additive.credit(item);
      }
      counts[index] = members.length;
    }
    out.push({ sums, counts });
  }
  return out;
}
