import type { JudgmentStatus, PairVerdict } from "../core/judgment.js";

/**
 * A benchmark item is one preference pair as the judge will see it: a question (with earlier turns as
 * context), two responses and which one is better. Loaders turn each source format into items; scorers
 * turn items plus decisions into the benchmark's official score and the uniform figures.
 */
export interface BenchmarkItem {
  /** Unique within the benchmark, stable across runs (used for resumption and seeds). */
  id: string;
  benchmark: string;
  /** The official breakdown unit (RewardBench subset, CodePrefBench file, JudgeBench source class, ...). */
  category: string;
  question: string;
  context?: string;
  a: string;
  b: string;
  label: PairVerdict;
  /**
   * Items scored together by the official rule (RewardMATH: a problem's 9 pairs; RM-Bench: a prompt's
   * 3x3 style matrix). Absent: the item stands alone.
   */
  group?: string;
  /** Source fields the scorer needs (RM-Bench style indices, RewardMATH problem id, ...). */
  meta?: Record<string, string | number | boolean | null>;
}

/** What scoring needs of an item: no texts, so a large run is scored without holding them in memory. */
export type ScoredItem = Pick<BenchmarkItem, "id" | "category" | "label" | "group" | "meta">;

/**
 * How the official protocol places the responses. "as-is": judge the pair as the item gives it;
 * "shuffle": one seeded random order per item (RewardBench's generative protocol; the loader's natural
 * order is chosen-first); "both": judge both orders (JudgeBench).
 */
export type OrderProtocol = "as-is" | "shuffle" | "both";

/** What the judge decided on one item, in the item's own A/B labelling. */
export interface ItemDecision {
  itemId: string;
  /** The final verdict (after votes and, when both orders were judged, the consistency rule). */
  verdict: PairVerdict | null;
  status: JudgmentStatus;
  /** Per-order verdicts, mapped back to the item's labelling; BA present only when both orders were judged. */
  orders: { AB?: PairVerdict | null; BA?: PairVerdict | null };
  /** P(final verdict), where the engine reported probabilities. */
  confidence?: number;
  thinkingTokens?: number;
}

export interface CategoryScore {
  category: string;
  items: number;
  /** In [0, 100]. */
  score: number;
}

/** The uniform figures every benchmark reports besides its official score. */
export interface UniformMetrics {
  items: number;
  /** Share of items whose verdict equals the label, in [0, 100]; no verdict counts as wrong here. */
  accuracy: number;
  /** 95% bootstrap interval of the official score, in points. */
  interval95: [number, number];
  /** Share of items judged in both orders whose two verdicts agree, in [0, 100]; undefined if none. */
  positionConsistency?: number;
  /** Share of verdicts that are "tie", in [0, 100]. */
  tieRate: number;
  /** Share of items with an engine error, in [0, 100]. */
  errorRate: number;
  /** Share of items with an unreadable verdict (parse error), in [0, 100]. */
  parseFailureRate: number;
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
}

export interface LoadOptions {
  /** A local file (or folder) instead of the default location or download. */
  data?: string;
  /** Skip malformed rows (counted) instead of stopping at the first one. */
  skipBad?: boolean;
  /** Called for each skipped row, with the error naming file, row and field. */
  onSkip?: (error: Error) => void;
  /** Field mapping for the generic pairs loader: j1 field -> source field. */
  map?: Record<string, string>;
}

export interface Benchmark {
  name: string;
  description: string;
  protocol: OrderProtocol;
  /** Streams items, so a 100,000-row file never sits in memory whole. */
  load(options: LoadOptions): AsyncIterable<BenchmarkItem>;
  /** Official score plus uniform figures. `decisions` is keyed by item id; a missing decision is an error. */
  score(items: readonly ScoredItem[], decisions: ReadonlyMap<string, ItemDecision>, options?: { skipped?: number; seed?: number }): BenchmarkScore;
}
