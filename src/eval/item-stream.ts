import { deriveSeed } from "../core/seed.js";
import { itemKind, type Benchmark, type BenchmarkItem, type LoadOptions, type PairItem, type ScoredItem } from "./types.js";

/** The meta flag of a pair whose two responses are the same text. */
export const IDENTICAL_RESPONSES = "identicalResponses";

/** The data warning for pairs with identical responses, or undefined when there are none. */
export function identicalPairsWarning(benchmark: string, items: readonly Pick<ScoredItem, "meta">[]): string | undefined {
  return identicalPairsText(benchmark, items.filter(hasIdenticalResponses).length);
}

export function hasIdenticalResponses(item: Pick<ScoredItem, "meta">): boolean {
  return item.meta?.[IDENTICAL_RESPONSES] === true;
}

/** The warning for `count` pairs with identical responses (none: undefined). */
export function identicalPairsText(benchmark: string, count: number): string | undefined {
  if (count === 0) return undefined;
  return `data: ${benchmark} has ${count} pair${count === 1 ? "" : "s"} whose two responses are identical; kept and scored as the official code scores them (no verdict can be right for a reason there)`;
}

/**
 * How `--limit N` picks a benchmark's items. "sample" (the default): a stratified, seeded sample of about N
 * items across the benchmark's categories, so a partial run sees every subset and section in proportion
 * instead of the file's first subset only. "first": the first N items in file order (what a quick look at
 * a file wants; runs stored before sampling existed used this, and resume with it).
 */
export type LimitMode = "sample" | "first";
export const LIMIT_MODES: readonly LimitMode[] = ["sample", "first"];

export interface ItemLimit {
  count: number;
  mode: LimitMode;
  /** The run's seed: the same seed picks the same sample. */
  seed?: number;
}

/** Items of a benchmark a run took, of how many the data holds (reported as "N of M items"). */
export interface Population {
  items: number;
  of: number;
}

/** A group scored together (or a lone item): the unit a limit takes or leaves whole. */
interface Unit {
  key: string;
  category: string;
  size: number;
}

/**
 * Items of one benchmark as a run sees them: ids namespaced by benchmark (a run may hold several, the
 * paper preset four), and a limit that never cuts a group in half (RewardMATH's 9 pairs of a problem,
 * RM-Bench's 3x3 matrix of a prompt are scored together). With a limit the data is read twice: once to
 * count it (and draw the sample), once to give the items taken, in file order. `onPopulation` is told
 * how many items were taken of how many there are.
 */
export async function* runItems(benchmark: Benchmark, options: LoadOptions, limit?: ItemLimit | number, onPopulation?: (population: Population) => void): AsyncGenerator<BenchmarkItem> {
  const name = benchmark.name;
  const namespaced = (item: BenchmarkItem): BenchmarkItem => {
    // Object.assign, not an object spread: V8 (Node 20) promoted about 0.5 MB of the spread copies per
    // minor collection, which filled the old space with dead items (j1 eval --dry-run at 300k rows:
    // 9x the promoted bytes, 30 MB more peak memory; bench/eval-memory.ts).
    const named: BenchmarkItem = Object.assign({}, item);
    named.id = `${name}:${item.id}`;
    named.group = item.group === undefined ? undefined : `${name}:${item.group}`;
    // Kept, as the official code keeps it (a real JudgeBench pair has response_A == response_B), and
    // marked so the report can say how many such pairs the figure includes.
    if (itemKind(item) === "pair" && (item as PairItem).a === (item as PairItem).b) named.meta = { ...item.meta, [IDENTICAL_RESPONSES]: true };
    return named;
  };
  const itemLimit: ItemLimit | undefined = typeof limit === "number" ? { count: limit, mode: "first" } : limit;
  if (itemLimit === undefined) {
    let count = 0;
    for await (const item of benchmark.load(options)) {
      count++;
      yield namespaced(item);
    }
    onPopulation?.({ items: count, of: count });
    return;
  }
  // Pass one: every unit, in file order, with its category and size (no texts kept).
  const units = new Map<string, Unit>();
  let total = 0;
  for await (const item of benchmark.load(options)) {
    total++;
    const key = unitKey(item);
    const unit = units.get(key);
    if (unit) unit.size++;
    else units.set(key, { key, category: item.category, size: 1 });
  }
  const taken = itemLimit.mode === "first" ? firstUnits([...units.values()], itemLimit.count) : sampleUnits([...units.values()], itemLimit.count, itemLimit.seed ?? 0);
  // Pass two: the units taken, in file order; skipped rows were already reported by pass one.
  let count = 0;
  for await (const item of benchmark.load({ ...options, onSkip: () => undefined })) {
    if (!taken.has(unitKey(item))) continue;
    count++;
    yield namespaced(item);
  }
  onPopulation?.({ items: count, of: total });
}

function unitKey(item: BenchmarkItem): string {
  return item.group === undefined ? `item\u0000${item.id}` : `group\u0000${item.group}`;
}

/** The first units in file order until `count` items are reached (the last group completed). */
function firstUnits(units: readonly Unit[], count: number): Set<string> {
  const taken = new Set<string>();
  let items = 0;
  for (const unit of units) {
    if (items >= count) break;
    taken.add(unit.key);
    items += unit.size;
  }
  return taken;
}

/**
 * A stratified sample: `count` items shared among the categories in proportion to their sizes (largest
 * remainders first), every category getting at least one item when there are as many items as categories,
 * so every subset (and so every section of a sectioned benchmark) is represented. Within a category, units
 * are taken in an order drawn from the seed (a hash of seed and unit, so it does not depend on the file's
 * order), the last group completed.
 */
function sampleUnits(units: readonly Unit[], count: number, seed: number): Set<string> {
  const total = units.reduce((sum, unit) => sum + unit.size, 0);
  const strata = new Map<string, Unit[]>();
  for (const unit of units) {
    const members = strata.get(unit.category);
    if (members) members.push(unit);
    else strata.set(unit.category, [unit]);
  }
  if (count >= total) return new Set(units.map((unit) => unit.key));
  const categories = [...strata.keys()];
  const sizes = new Map(categories.map((category) => [category, (strata.get(category) as Unit[]).reduce((sum, unit) => sum + unit.size, 0)]));
  const exact = new Map(categories.map((category) => [category, (count * (sizes.get(category) as number)) / total]));
  const quota = new Map(categories.map((category) => [category, Math.floor(exact.get(category) as number)]));
  if (count >= categories.length) for (const category of categories) quota.set(category, Math.max(1, quota.get(category) as number));
  const tieBreak = (category: string) => deriveSeed(seed, "limit-stratum", category);
  let assigned = [...quota.values()].reduce((sum, value) => sum + value, 0);
  // Too many (the minimum of one): take back from the categories most above their exact share.
  while (assigned > count) {
    const over = categories.filter((category) => (quota.get(category) as number) > 1).sort((a, b) => (quota.get(b) as number) - (exact.get(b) as number) - ((quota.get(a) as number) - (exact.get(a) as number)) || tieBreak(a) - tieBreak(b))[0];
    quota.set(over, (quota.get(over) as number) - 1);
    assigned--;
  }
  // Too few: give to the categories most below their exact share that still have items left.
  while (assigned < count) {
    const under = categories.filter((category) => (quota.get(category) as number) < (sizes.get(category) as number)).sort((a, b) => (exact.get(b) as number) - (quota.get(b) as number) - ((exact.get(a) as number) - (quota.get(a) as number)) || tieBreak(a) - tieBreak(b))[0];
    if (under === undefined) break;
    quota.set(under, (quota.get(under) as number) + 1);
    assigned++;
  }
  const taken = new Set<string>();
  for (const [category, members] of strata) {
    const drawn = [...members].sort((a, b) => deriveSeed(seed, "limit", a.key) - deriveSeed(seed, "limit", b.key) || (a.key < b.key ? -1 : 1));
    let items = 0;
    for (const unit of drawn) {
      if (items >= (quota.get(category) as number)) break;
      taken.add(unit.key);
      items += unit.size;
    }
  }
  return taken;
}

/**
 * What the store keeps of an item for scoring. The kind is kept (a pair's is left out, as the store reads
 * none as a pair): without it a rated answer is scored as a pair and a rotation as a lone four-way choice.
 */
export function scoredItem(item: BenchmarkItem): ScoredItem {
  const scored: ScoredItem = { id: item.id, category: item.category, label: item.label, group: item.group, meta: item.meta };
  if (item.kind !== undefined && item.kind !== "pair") scored.kind = item.kind;
  return scored;
}

/** The benchmark a namespaced item id belongs to. */
export function benchmarkOf(itemId: string): string {
  const colon = itemId.indexOf(":");
  return colon < 0 ? itemId : itemId.slice(0, colon);
}

/** "30 of 2,985 items": how a partial figure is labelled in every output. */
export function populationText(population: Population): string {
  return `${population.items.toLocaleString("en-US")} of ${population.of.toLocaleString("en-US")} items`;
}
