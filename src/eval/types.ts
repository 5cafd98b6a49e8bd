import { J1Error } from "../core/errors.js";
import type { JudgeTemplate } from "../core/template.js";
import type { ChoiceLetter, JudgmentStatus, PairVerdict, Verdict } from "../core/judgment.js";

/**
 * A benchmark item is one question for the judge, of one of three kinds: a pair (which of two responses
 * is better), a rating (one response scored on the template's scale), or a choice (the best of N). Loaders
 * turn each source format into items; scorers turn items plus decisions into the benchmark's official score
 * and the uniform figures.
 */
interface ItemBase {
  /** Unique within the benchmark, stable across runs (used for resumption and seeds). */
  id: string;
  benchmark: string;
  /** The official breakdown unit (RewardBench subset, CodePrefBench file, JudgeBench source class, ...). */
  category: string;
  question: string;
  context?: string;
  /**
   * Items scored together by the official rule (RewardMATH: a problem's 9 pairs; RM-Bench: a prompt's
   * 3x3 style matrix; RewardBench 2 ratings: a prompt's answers). Absent: the item stands alone.
   */
  group?: string;
  /** Source fields the scorer needs (RM-Bench style indices, RewardMATH problem id, ...). */
  meta?: Record<string, string | number | boolean | null>;
}

export interface PairItem extends ItemBase {
  /** Absent on items written before kinds existed: a pair. */
  kind?: "pair";
  a: string;
  b: string;
  label: PairVerdict;
}

export interface RatingItem extends ItemBase {
  kind: "rating";
  response: string;
  /**
   * What the scorer compares ratings against, in the benchmark's own terms (RewardBench 2: "correct" or
   * "incorrect" within the item's group). The judge never sees it.
   */
  label: string;
}

export interface ChoiceItem extends ItemBase {
  kind: "choice";
  /** In the item's own order; the order protocol decides where each one is shown. */
  responses: string[];
  /** The letter of the best response in the item's own order ("A" is responses[0]). */
  label: ChoiceLetter;
}

export type BenchmarkItem = PairItem | RatingItem | ChoiceItem;
export type ItemKind = NonNullable<BenchmarkItem["kind"]>;

type WithoutLabel<T> = T extends unknown ? Omit<T, "label"> & { label?: T extends { label: infer L } ? L : never } : never;
/** What the judge needs of an item: a benchmark item, or one without a label (`j1 judge --input`). */
export type JudgeableItem = WithoutLabel<BenchmarkItem>;

/** The item as a pair; a J1Error naming the item when it is a rating or a choice. */
export function asPair(item: BenchmarkItem): PairItem {
  if (itemKind(item) !== "pair") throw new J1Error("bad-input", `item "${item.id}" is a ${itemKind(item)}, not a pair`, { context: { item: item.id } });
  return item as PairItem;
}

/** The kind of an item, "pair" for items without one. */
export function itemKind(item: { kind?: ItemKind }): ItemKind {
  return item.kind ?? "pair";
}

/** What scoring needs of an item: no texts, so a large run is scored without holding them in memory. */
export type ScoredItem = { id: string; category: string; label: string; group?: string; meta?: ItemBase["meta"]; kind?: ItemKind };

/**
 * How the official protocol places the responses. "as-is": judge the pair as the item gives it;
 * "shuffle": one seeded random order per item (RewardBench's generative protocol; the loader's natural
 * order is chosen-first); "both": judge both orders (JudgeBench).
 */
export type OrderProtocol = "as-is" | "shuffle" | "both";

/**
 * How one order's judgment ended: its samples' vote gave a verdict ("ok"), split evenly ("vote-tie"), or
 * no sample gave a verdict, because the engine failed on all of them ("engine-error") or at least one
 * answer was unreadable ("parse-error"); the same rule the judge applies to a one-order judgment.
 */
export type OrderStatus = "ok" | "parse-error" | "engine-error" | "vote-tie";

/** What the judge decided on one item, in the item's own A/B labelling. */
export interface ItemDecision {
  itemId: string;
  /** The final verdict (after votes and, when both orders were judged, the consistency rule). */
  verdict: Verdict | null;
  status: JudgmentStatus;
  /** Per-order verdicts, mapped back to the item's labelling; BA present only when both orders were judged. */
  orders: { AB?: Verdict | null; BA?: Verdict | null };
  /**
   * Per-order outcome where known (see `orderStatusOf`): why an order has no verdict. Absent (decisions
   * stored without it), an order without a verdict takes the item's failure status, else counts as a
   * parse failure.
   */
  orderStatus?: { AB?: OrderStatus; BA?: OrderStatus };
  /** P(final verdict), where the engine reported probabilities. */
  confidence?: number;
  thinkingTokens?: number;
}

/**
 * Decisions keyed by item id, or aligned with the items (decisions[k] is items[k]'s, undefined where the
 * item has none): a report reads them aligned from the store, a caller with a map passes the map.
 */
export type ItemDecisions = ReadonlyMap<string, ItemDecision> | ReadonlyArray<ItemDecision | undefined>;

export interface CategoryScore {
  category: string;
  items: number;
  /** In [0, 100]. */
  score: number;
}

/**
 * The uniform figures every benchmark reports besides its official score.
 *
 * The tie, error and parse-failure rates are per judged order: their denominator is `orderJudgments`,
 * one per order judged (two for an item judged in both orders: JudgeBench, --swap; one otherwise), so a
 * both-order item whose BA order hit an engine error adds one failed order of two even though the item's
 * status is "inconsistent". Without both orders, this is the share of items.
 */
export interface UniformMetrics {
  items: number;
  /** Order-judgments behind the tie / error / parse-failure rates (absent in reports made before them). */
  orderJudgments?: number;
  /** Share of items whose verdict equals the label, in [0, 100]; no verdict counts as wrong here. */
  accuracy: number;
  /** 95% bootstrap interval of the official score, in points. */
  interval95: [number, number];
  /** Share of items judged in both orders whose two verdicts agree, in [0, 100]; undefined if none. */
  positionConsistency?: number;
  /** Share of order-judgments whose verdict is "tie", in [0, 100]. */
  tieRate: number;
  /** Share of order-judgments that failed in the engine, in [0, 100]. */
  errorRate: number;
  /** Share of order-judgments with an unreadable verdict (parse error), in [0, 100]. */
  parseFailureRate: number;
  /** Share of order-judgments whose samples split evenly (vote-tie), in [0, 100]; absent in older reports. */
  voteTieRate?: number;
  /** Expected calibration error (10 bins), where decisions carry confidence. */
  calibrationError?: number;
  /** Accuracy when abstaining below each confidence threshold (coverage = share answered). */
  accuracyCoverage?: Array<{ threshold: number; coverage: number; accuracy: number }>;
}

export interface BenchmarkScore {
  benchmark: string;
  /** The official score, in [0, 100]. */
  score: number;
  /** Named sub-scores of the official rule (RewardBench sections, RM-Bench easy/normal/hard, ...). */
  parts: Record<string, number>;
  categories: CategoryScore[];
  metrics: UniformMetrics;
  /** Rows skipped as malformed with --skip-bad. */
  skipped: number;
  /**
   * How the score counts what the benchmark's own scorer leaves open, where it has none (Harmless: no
   * official scorer, so no verdict and ties need a stated rule); every report shows it.
   */
  rule?: string;
}

export interface LoadOptions {
  /**
   * Local files (or folders) instead of the default location or download; several are read in order, as
   * one benchmark. Ids that come from row numbers get a "data2/"-style prefix from the second file on.
   */
  data?: string | string[];
  /**
   * Skip malformed rows (counted) instead of stopping at the first one. Where items are scored together
   * (a RewardMATH problem), the whole group of a malformed row is dropped too, and counted.
   */
  skipBad?: boolean;
  /** Called for each skipped row, with the error naming file, row and field. */
  onSkip?: (error: Error) => void;
  /** Field mapping for the generic pairs loader: j1 field -> source field. */
  map?: Record<string, string>;
  /** The run's base seed, for loaders whose official protocol places responses at random (RewardBench 2). */
  seed?: number;
  /** A benchmark's protocol variant (one of `Benchmark.variants`); absent: the official one. */
  variant?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  protocol: OrderProtocol;
  /** Protocol variants besides the official one (RewardBench 2: "ratings", "rotations"); the first is the default. */
  variants?: readonly string[];
  /** Streams items, so a 100,000-row file never sits in memory whole. */
  load(options: LoadOptions): AsyncIterable<BenchmarkItem>;
  /**
   * The official prompt for an item, where the benchmark has one (CodePrefBench names each aspect's
   * criterion; RewardBench 2 has its own four-way and ratings prompts). Used unless the user gave
   * --template; absent or undefined: j1's default template for the item's kind.
   */
  officialTemplate?(item: BenchmarkItem): JudgeTemplate | undefined;
  /** Official score plus uniform figures. A missing decision is an error. */
  score(items: readonly ScoredItem[], decisions: ItemDecisions, options?: { skipped?: number; seed?: number }): BenchmarkScore;
}
