import { deriveSeed } from "../../core/seed.js";
import { Draws } from "./draws.js";
import type { JudgedItem } from "./credit.js";

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
  /** The official rule as sums over units, when it can be written so (official-rule.ts). */
  summed?: SummedRule;
}

/**
 * An official rule written as sums: each resampling unit gives a fixed list of numbers (`terms` of them),
 * a resample's strata sum their drawn units' numbers term by term, in the order drawn, and `score` turns
 * those sums into the rule's score. The bootstrap then costs one draw per unit instead of scoring every
 * resample's items by the rule, and gives exactly the rule's scores when:
 * - a number that is not a multiple of 1/4 (a 1/3 credit, a tanh margin) is one term of one unit, so it
 *   is added in the order the rule itself adds it (a unit's own items are summed before it is drawn, which
 *   is exact only for quarters, halves and counts);
 * - `score` computes what the rule computes from the same sums, in the same order (each rule shares that
 *   code with its plain form where it can; test/bootstrap-summed.test.ts compares every resample's score
 *   by sums with the rule's own, bit for bit, for every rule).
 */
export interface SummedRule {
  terms: number;
  /** The numbers of one unit (its items, all of one category), or undefined where only the rule can score it. */
  unit(members: readonly JudgedItem[]): readonly number[] | undefined;
  /** A resample's score from its strata (in the strata's order, which is the resample's category order). */
  score(strata: readonly SummedStratum[]): number;
  /**
   * The rule gathers items by group and falls back on the item's id for an item without one (RewardBench
   * 2's prompts, RewardMATH's problems), so two draws of one ungrouped item meet again as one unit there:
   * such a unit's numbers are added at its first draw in a resample only, as the rule counts it.
   */
  distinctUngrouped?: boolean;
}

export interface SummedStratum {
  category: string;
  /** The drawn units' numbers summed term by term (`terms` long). */
  sums: Float64Array;
}

/** What bootstraps did, for benchmarks (bench/report-scale.ts): draws made and items scored by a rule. */
export const bootstrapWork = { intervals: 0, resamples: 0, draws: 0, itemsScoredByRule: 0 };

/**
 * A unit of resampling: an item alone, or all items of a group (a RewardMATH problem, an RM-Bench prompt),
 * since the official rule scores a group as a whole and its items are not independent. `copies[k]` is the
 * unit as drawn for the (k+1)-th time within one resample: the same items under the group name
 * "<group>#k", each with its decision, so the rule sees two problems, not one with twice the pairs.
 * Copies are made once and reused across resamples.
 */
class Unit {
  readonly copies: JudgedItem[][];

  constructor(readonly members: JudgedItem[]) {
    this.copies = [members];
  }

  copy(occurrence: number): JudgedItem[] {
    while (this.copies.length <= occurrence) {
      const index = this.copies.length;
      this.copies.push(this.members.map((entry) => (entry.item.group === undefined ? entry : { item: { ...entry.item, group: `${entry.item.group}#${index}` }, decision: entry.decision })));
    }
    return this.copies[occurrence];
  }
}

/** The units (each its items) of each category, in order of first appearance. */
function unitsByCategory(judged: readonly JudgedItem[]): JudgedItem[][][] {
  const strata = new Map<string, JudgedItem[][]>();
  const groups = new Map<string, JudgedItem[]>();
  for (const entry of judged) {
    const { group, category } = entry.item;
    if (group !== undefined) {
      const members = groups.get(group);
      if (members) {
        members.push(entry);
        continue;
      }
    }
    const members = [entry];
    if (group !== undefined) groups.set(group, members);
    const units = strata.get(category);
    if (units) units.push(members);
    else strata.set(category, [members]);
  }
  return [...strata.values()];
}

/**
 * Percentile bootstrap interval of an official score. Units are drawn with replacement within each
 * category (stratified), so every resample keeps the benchmark's composition: the official rules weight
 * categories (RewardBench subsets, RM-Bench domains) and a resample missing one would change the rule,
 * not just the sample. Deterministic for a given seed.
 */
export function bootstrapInterval(judged: readonly JudgedItem[], officialScore: (sample: readonly JudgedItem[]) => number, options: BootstrapOptions = {}): [number, number] {
  return intervalOf(bootstrapScores(judged, officialScore, options), options.level ?? 0.95);
}

/** The official score of each resample, in the order drawn (what bootstrapInterval takes the quantiles of). */
export function bootstrapScores(judged: readonly JudgedItem[], officialScore: (sample: readonly JudgedItem[]) => number, options: Omit<BootstrapOptions, "level"> = {}): number[] {
  const resamples = options.resamples ?? 1000;
  const seed = deriveSeed(options.seed ?? 0, "bootstrap");
  const strata = unitsByCategory(judged);
  bootstrapWork.intervals++;
  bootstrapWork.resamples += resamples;
  const summed = options.summed && summedStrata(strata, options.summed);
  if (options.summed && summed) return summedScores(summed, options.summed, seed, resamples);
  const random = seededRandom(seed);
  const scores: number[] = [];
  const unitsOf = strata.map((stratum) => stratum.map((members) => new Unit(members)));
  for (let draw = 0; draw < resamples; draw++) {
    const sample: JudgedItem[] = [];
    for (const units of unitsOf) {
      const drawn = new Uint32Array(units.length);
      for (let pick = 0; pick < units.length; pick++) {
        const index = Math.floor(random() * units.length);
        for (const entry of units[index].copy(drawn[index]++)) sample.push(entry);
      }
      bootstrapWork.draws += units.length;
    }
    bootstrapWork.itemsScoredByRule += sample.length;
    scores.push(officialScore(sample));
  }
  return scores;
}

function intervalOf(scores: number[], level: number): [number, number] {
  scores.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [quantile(scores, tail), quantile(scores, 1 - tail)];
}

interface NumberStratum {
  category: string;
  units: number;
  /** With SummedRule.distinctUngrouped: 1 for a unit counted once per resample (an item without a group). */
  once?: Uint8Array;
  /** How the stratum's draws are summed (see planOf). */
  plan: Plan;
}

/**
 * A stratum's terms split by what their sums need. A term with one whole value v for every unit sums to
 * v x (units added) (exact: integers); the others are added draw by draw, from a table of their values
 * alone, unit after unit (`varying.length` numbers each), which the random reads find in cache where the
 * rule's whole rows would not (RM-Bench's 18 terms: 1.6 MB at 100k items, of which 9 vary).
 *
 * Varying terms that are all quarters between 0 and 63.75 (credits: 1, 0.5, 0.25, 0; counts of wins) are
 * kept as bytes of 4 x their value and summed as integers, divided by 4 at the end: the same numbers,
 * since sums of quarters are exact in floating point whatever their order. So their draws need not be
 * added one by one: a resample counts how often each distinct row of bytes was drawn (`rows`; RM-Bench's
 * rows of 9 wins take at most 512 values, a credit 3 or 4) and sums count x row. Other values are added in
 * the order drawn, as the rule adds them.
 */
interface Plan {
  fixed: Array<[number, number]>;
  varying: number[];
  /** The varying terms' values, unit u's at [u x varying.length, (u + 1) x varying.length): as bytes (4 x each), or as doubles. */
  table: Uint8Array | Float64Array;
  /** For a byte table: its distinct rows (`count` of them, in `bytes`) and each unit's row. */
  rows?: { count: number; bytes: Uint8Array; of: Uint32Array };
}

function planOf(numbers: Float64Array, units: number, terms: number): Plan {
  const fixed: Array<[number, number]> = [];
  const varying: number[] = [];
  for (let term = 0; term < terms; term++) {
    const first = numbers[term];
    let same = Number.isInteger(first);
    for (let index = 1; same && index < units; index++) same = numbers[index * terms + term] === first;
    if (same) fixed.push([term, first]);
    else varying.push(term);
  }
  const width = varying.length;
  const values = new Float64Array(units * width);
  let quarters = true;
  for (let index = 0; index < units; index++) {
    for (let at = 0; at < width; at++) {
      const value = numbers[index * terms + varying[at]];
      values[index * width + at] = value;
      const scaled = 4 * value;
      if (!(Number.isInteger(scaled) && scaled >= 0 && scaled <= 255)) quarters = false;
    }
  }
  if (!quarters) return { fixed, varying, table: values };
  const table = Uint8Array.from(values, (value) => 4 * value);
  return { fixed, varying, table, rows: distinctRows(table, units, width) };
}

/** The distinct rows of a byte table (`width` bytes per unit), in order of first appearance, and each unit's. */
function distinctRows(table: Uint8Array, units: number, width: number): NonNullable<Plan["rows"]> {
  const seen = new Map<string, number>();
  const of = new Uint32Array(units);
  const bytes: number[] = [];
  for (let index = 0; index < units; index++) {
    const row = table.subarray(index * width, (index + 1) * width);
    const key = String.fromCharCode(...row);
    let at = seen.get(key);
    if (at === undefined) {
      seen.set(key, (at = seen.size));
      bytes.push(...row);
    }
    of[index] = at;
  }
  return { count: seen.size, bytes: Uint8Array.from(bytes), of };
}

/** Each stratum's units as numbers, or undefined when a unit spans categories or the rule declines one. */
function summedStrata(strata: readonly JudgedItem[][][], rule: SummedRule): NumberStratum[] | undefined {
  const out: NumberStratum[] = [];
  for (const units of strata) {
    const category = units[0][0].item.category;
    const numbers = new Float64Array(units.length * rule.terms);
    const once = rule.distinctUngrouped ? new Uint8Array(units.length) : undefined;
    for (let index = 0; index < units.length; index++) {
      const members = units[index];
      // A unit across categories: the resample's categories are not its strata, so only the rule can say.
      if (members.some((entry) => entry.item.category !== category)) return undefined;
      const terms = rule.unit(members);
      if (terms === undefined || terms.length !== rule.terms) return undefined;
      numbers.set(terms, index * rule.terms);
      if (once && members[0].item.group === undefined) once[index] = 1;
    }
    const counted = once?.includes(1) ? once : undefined;
    out.push({ category, units: units.length, ...(counted ? { once: counted } : {}), plan: planOf(numbers, units.length, rule.terms) });
  }
  return out;
}

/** What one bootstrap reuses across its strata and resamples: the draws' indices or tallies, the rows' counts. */
interface Scratch {
  picks: Int32Array;
  hits: Uint32Array;
  counts: Float64Array;
}

/**
 * One stratum's draws in one resample, its varying terms' sums into `sums` (from 0), a once-only unit
 * added at its first draw in the resample only (`last` holds the resample's `stamp` for the units added).
 * Returns how many units were added.
 */
function drawnSums(draws: Draws, units: number, plan: Plan, once: Uint8Array | undefined, last: Uint32Array, stamp: number, sums: Float64Array, scratch: Scratch): number {
  const { table, rows } = plan;
  const width = plan.varying.length;
  if (rows !== undefined) {
    // Integers: sums in any order are exact, so the draws are tallied per unit, then the units are passed
    // in order, a once-only unit weighing 1 if drawn at all. Counts of each distinct row drawn, then
    // count x row. (A loop testing each draw against the unit's last draw cost 17 ns a draw: a random
    // read the next draw's add waited on, and a branch taken at random, since a third of draws repeat.)
    const hits = scratch.hits;
    hits.fill(0, 0, units);
    draws.tally(units, hits);
    if (width === 1) return tallySum(units, table as Uint8Array, hits, once, sums);
    const counts = scratch.counts;
    counts.fill(0, 0, rows.count);
    const of = rows.of;
    let added = units;
    if (once === undefined) {
      for (let index = 0; index < units; index++) counts[of[index]] += hits[index];
    } else {
      added = 0;
      for (let index = 0; index < units; index++) {
        const drawn = hits[index];
        const weight = once[index] === 1 && drawn > 1 ? 1 : drawn;
        counts[of[index]] += weight;
        added += weight;
      }
    }
    for (let at = 0; at < width; at++) {
      let sum = 0;
      for (let row = 0; row < rows.count; row++) sum += counts[row] * rows.bytes[row * width + at];
      sums[at] = sum / 4;
    }
    return added;
  }
  const picks = scratch.picks;
  draws.indices(units, picks);
  // Doubles: added in the order drawn.
  let added = units;
  sums.fill(0, 0, width);
  for (let pick = 0; pick < units; pick++) {
    const index = picks[pick];
    if (once !== undefined && once[index] === 1) {
      if (last[index] === stamp) {
        added--;
        continue;
      }
      last[index] = stamp;
    }
    for (let at = 0, from = index * width; at < width; at++) sums[at] += table[from + at];
  }
  return added;
}

/**
 * One byte term's sum from a stratum's tallies, into sums[0] (an integer kept in a register: adding into
 * a count per distinct row instead made each unit wait on the store of the one before). Returns how many
 * units were added.
 */
function tallySum(units: number, bytes: Uint8Array, hits: Uint32Array, once: Uint8Array | undefined, sums: Float64Array): number {
  let sum = 0;
  let added = 0;
  for (let index = 0; index < units; index++) {
    const drawn = hits[index];
    const weight = once !== undefined && once[index] === 1 && drawn > 1 ? 1 : drawn;
    sum += weight * bytes[index];
    added += weight;
  }
  sums[0] = sum / 4;
  return added;
}

/**
 * The resamples' scores by sums: the same draws as the rule's path (the same generator, stepped once per
 * unit, strata in order, the index Math.floor(random() x units): draws.ts, which says why its shortcuts
 * give the same indices), each drawn unit's numbers added to its stratum's sums (a once-only unit at its
 * first draw in the resample only).
 */
function summedScores(strata: readonly NumberStratum[], rule: SummedRule, seed: number, resamples: number): number[] {
  const terms = rule.terms;
  const sums = strata.map((stratum): SummedStratum => ({ category: stratum.category, sums: new Float64Array(terms) }));
  const scores: number[] = [];
  const draws = new Draws(seed);
  // The draw (+1) in which each once-only unit was last added, per stratum.
  const seen = strata.map((stratum) => (stratum.once ? new Uint32Array(stratum.units) : new Uint32Array(0)));
  const accumulators = new Float64Array(terms);
  const scratch: Scratch = {
    picks: new Int32Array(Math.max(0, ...strata.map((stratum) => stratum.units))),
    hits: new Uint32Array(Math.max(0, ...strata.map((stratum) => stratum.units))),
    counts: new Float64Array(Math.max(0, ...strata.map((stratum) => stratum.plan.rows?.count ?? 0))),
  };
  for (let draw = 0; draw < resamples; draw++) {
    for (let which = 0; which < strata.length; which++) {
      const { units, once, plan } = strata[which];
      const { varying, table } = plan;
      const total = sums[which].sums;
      total.fill(0);
      let added = units;
      if (varying.length === 0 && once === undefined) {
        // Every unit the same: the draws change nothing, but the generator steps past them all the same.
        draws.skip(units);
      } else if (table instanceof Uint8Array && varying.length === 1 && once === undefined) {
        // The common case (one credit per item), as a loop of its own (the mixed loop below is slower).
        total[varying[0]] = draws.sumOfBytes(table, units) / 4;
      } else {
        added = drawnSums(draws, units, plan, once, seen[which], draw + 1, accumulators, scratch);
        for (let at = 0; at < varying.length; at++) total[varying[at]] = accumulators[at];
      }
      // "+ 0": a -0 term sums to +0 by additions, as the rule's sums start from 0.
      for (const [term, value] of plan.fixed) total[term] = value * added + 0;
      bootstrapWork.draws += units;
    }
    scores.push(rule.score(sums));
  }
  return scores;
}
