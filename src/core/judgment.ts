import type { StopReason, VerdictProbe } from "./scaling/policy.js";
import type { TraceSpan } from "./trace.js";
import type { Usage } from "./usage.js";

export type PairVerdict = "A" | "B" | "tie";
/**
 * A choice among N responses is named by its letter as the model saw the list ("A", "B", "C", ...); a
 * pair's verdict is one of them or "tie". Kept as a string so one Judgment type carries every kind.
 */
export type ChoiceLetter = string;
export type Verdict = PairVerdict | ChoiceLetter;
/** pairwise: which of two; pointwise: a score for one; choice: the best of N. */
export type JudgeKind = "pairwise" | "pointwise" | "choice";
export type Order = "AB" | "BA";

/**
 * Why a judgment has no verdict. Errors are data (invariant 5): they are recorded and scored by each
 * benchmark's own rule, never silently counted as right or wrong.
 */
export type JudgmentStatus =
  | "ok"
  /** No verdict could be read from the answer region. */
  | "parse-error"
  /** The engine failed (after retries). */
  | "engine-error"
  /** K samples split evenly between the top verdicts. */
  | "vote-tie"
  /** Both orders were judged and disagreed. */
  | "inconsistent";

/** One pass of the model over one prompt: one order, one sample. */
export interface JudgmentRun {
  order: Order;
  sample: number;
  seed: number;
  /** Verdict in the caller's labelling (a BA run's verdict is mapped back to the original A/B). */
  verdict: Verdict | null;
  /** Verdict as the model wrote it, in the order it saw. */
  rawVerdict: string | null;
  score: number | null;
  status: "ok" | "parse-error" | "engine-error";
  error?: string;
  /** Probability of this run's verdict among the possible verdicts, where the engine reports probabilities. */
  confidence?: number;
  /** Probability of each possible verdict, as the model wrote them (its own order), normalised. */
  choiceProbabilities?: Record<string, number>;
  /** Why a run with a verdict has no confidence, as the engine said (no probabilities, a failed read). */
  confidenceNote?: string;
  waitsUsed: number;
  forcedEnd: boolean;
  /** Why thinking ended (core/scaling/policy.ts `StopReason`; absent in judgments stored before it existed). */
  thinkingEnd?: StopReason;
  /** The verdict read at each probe before thinking ended (the trajectory), in the order the model saw; absent without probes. */
  probes?: VerdictProbe[];
  /** The truncation the thinking was sampled with (sampled runs only). */
  sampling?: { topP?: number; topK?: number; minP?: number };
  trace: TraceSpan[];
  usage: Usage;
  wallMs: number;
  /** The server the run ended on, when the engine judged over several (a fleet of `--base-url`s). */
  server?: string;
  /**
   * The servers the run left because they failed (refused, dropped or hung), in order, with the failure:
   * the run went on from its last step on the next server. Absent when none failed.
   */
  failovers?: Array<{ from: string; to: string; error: string }>;
}

/** Votes per verdict: A, B and tie always present (pairs), other letters as a choice among N gets them. */
export interface Votes {
  A: number;
  B: number;
  tie: number;
  invalid: number;
  [letter: string]: number;
}

export interface Judgment {
  kind: JudgeKind;
  verdict: Verdict | null;
  /** Pointwise judgments: the (mean) score; pairwise: null. */
  score: number | null;
  status: JudgmentStatus;
  error?: string;
  confidence?: number;
  /** Of the representative run (the first run that agrees with the final verdict, else the first run). */
  waitsUsed: number;
  forcedEnd: boolean;
  thinkingEnd?: JudgmentRun["thinkingEnd"];
  /** The representative run's trajectory (see JudgmentRun.probes). */
  probes?: VerdictProbe[];
  /** Early-stopped sampling: the samples a full vote would draw (all orders) and those drawn. */
  samples?: { planned: number; used: number; stop: "decided" | "sequential" };
  trace: TraceSpan[];
  /** Summed over all runs: what the whole judgment cost. */
  usage: Usage;
  wallMs: number;
  votes?: Votes;
  runs: JudgmentRun[];
}

/** A pair's verdict seen from the other order (A and B swap; a tie, or any other letter, stays). */
export function flipVerdict(verdict: PairVerdict): PairVerdict;
export function flipVerdict(verdict: Verdict): Verdict;
export function flipVerdict(verdict: Verdict): Verdict {
  return verdict === "A" ? "B" : verdict === "B" ? "A" : verdict;
}
