import type { TraceSpan } from "../core/trace.js";
import type { Verdict } from "../core/judgment.js";
import type { BenchmarkScore } from "./types.js";
import type { Trajectory } from "./trajectory.js";

/**
 * What a report is made of: per run, per benchmark, the official score with its breakdown, and for a
 * sweep, one score per point. Renderers (markdown, HTML, JSON) read only these types.
 */
export interface SweepPoint {
  /** The swept setting, e.g. "waits" or "max-thinking". */
  setting: string;
  value: number;
  score: BenchmarkScore;
  /** Mean generated thinking tokens per judgment at this point. */
  meanThinkingTokens: number;
  /**
   * Mean tokens the engine evaluated per judgment at this point. Cache-dependent: it counts what the
   * engine's prefix cache did not hold, so a resumed run (cold cache, judgments reused by key) may differ
   * from an uninterrupted one with the same verdicts; see report/reproducible.ts. Renderers label it so.
   */
  meanEvaluatedTokens: number;
  /** Mean tokens spent on verdict probes the point's policy paid for (adaptive points; absent or 0 otherwise). */
  meanProbeTokens?: number;
}

/** How much a sweep bought: the score at the largest point minus at the smallest, and per doubling. */
export interface ScalingTrend {
  setting: string;
  /** Points (score units) gained from the smallest to the largest point. */
  gain: number;
  /** The gain relative to the smallest point's score (0.05 = +5%). */
  relativeGain: number;
  /** Least-squares slope of score against log2(mean thinking tokens): points per doubling of thinking. */
  slopePerDoubling: number | undefined;
}

export interface WorstItem {
  benchmark: string;
  itemId: string;
  category: string;
  label: string;
  verdict: Verdict | null;
  status: string;
  confidence?: number;
  /** The representative run's trace (prompt text may be shortened by the renderer): `passes[0]`'s. */
  trace: TraceSpan[];
  /**
   * Every pass (order × sample), in order: which order the model was shown, its verdict in its own labels
   * (`rawVerdict`, as it saw the pair) and in the item's (`verdict`), and its trace. A pass shown swapped
   * (BA) writes [[A]] for the item's B, so a card must say which order it shows. Absent in older reports.
   */
  passes?: WorstPass[];
}

/** One pass of a worst item's judgment, with the verdict in both the model's and the item's labels. */
export interface WorstPass {
  /** "AB": shown in the item's order; "BA": shown swapped (the model's "Response A" is the item's B). */
  order: "AB" | "BA";
  sample: number;
  /** As the model wrote it, in the order it saw. */
  rawVerdict: string | null;
  /** In the item's labels. */
  verdict: Verdict | null;
  status: string;
  trace: TraceSpan[];
}

export interface BenchmarkReport {
  benchmark: string;
  /** The run's main result (the sweep's largest point when swept). */
  score: BenchmarkScore;
  /** The points of the run's first swept setting (waits, when swept), in the order recorded. */
  sweep?: SweepPoint[];
  trend?: ScalingTrend;
  /** With an adaptive sweep: every setting's points on the same axes, and what adaptive scaling saved. */
  frontier?: Frontier;
  /** In runs that probed: how often thinking changed the verdict, and the items where it did. */
  trajectories?: TrajectorySummary;
  /**
   * Present when the run judged part of the benchmark (--limit): the items scored of how many the data
   * holds (`of` absent for runs stored before it was recorded), and how they were picked.
   */
  partial?: { items: number; of?: number; mode: "sample" | "first" | "so-far"; text: string };
}

export interface TrajectorySummary {
  /** Items with a trajectory (probes) at the main point. */
  probed: number;
  /** Items whose verdict changed between probes. */
  moved: number;
  /** Wrong at the first probe, right at the end (the reflection J1's SFT data is meant to teach). */
  turnedRight: number;
  /** Right at the first probe, wrong at the end. */
  turnedWrong: number;
  /** Up to 20 items that moved, those that turned right first. */
  items: Trajectory[];
}

export interface FrontierSeries {
  setting: string;
  adaptive: boolean;
  /** Score against cost: mean thinking tokens plus paid probe tokens per judgment. */
  points: Array<{ value: number; score: number; cost: number; probeTokens: number }>;
}

export interface Frontier {
  series: FrontierSeries[];
  /** The cheapest adaptive point at or above the best fixed score, against the cheapest fixed point with it. */
  saving?: { reference: string; referenceScore: number; referenceCost: number; adaptive: string; adaptiveScore: number; adaptiveCost: number; ratio: number };
  sentence?: string;
}

export interface RunReport {
  runId: string;
  /** A short label for table rows: model and key options. */
  label: string;
  createdAt: string;
  /** The run's settings as recorded (engine, model, template, scaling, seeds, limit, ...). */
  config: Record<string, unknown>;
  benchmarks: BenchmarkReport[];
  /** Mean of the benchmarks' official scores (the J1 paper's "overall"), where more than one. */
  overall?: number;
  /**
   * "30 of 2,985 items" when any benchmark was judged in part (--limit): these figures are not the
   * official ones, and every renderer puts this next to them.
   */
  partial?: string;
  worst: WorstItem[];
  /**
   * Judgments counted (one per item at the main point), and how many items ended in each status other than
   * "ok" (engine-error, parse-error, vote-tie, inconsistent). `orders` counts the order-judgments (two per
   * item judged in both orders) and `failedOrders` those that failed, by kind (engine-error, parse-error,
   * vote-tie): an "inconsistent" item whose BA order failed in the engine adds one engine-error there.
   * `engineErrorsInOtherItems` counts the engine-error orders of items whose status is not engine-error
   * (one order failed, the other gave a verdict: "inconsistent"), which `--retry-errors` does not pick.
   * All three are absent in reports made before them.
   */
  judgments: { total: number; errors: Record<string, number>; orders?: number; failedOrders?: Record<string, number>; engineErrorsInOtherItems?: number };
  /** What the engine could not do as asked, and the prompt format's notes, as recorded with the run. */
  warnings?: string[];
}
