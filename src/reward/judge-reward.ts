import type { PairVerdict } from "../core/judgment.js";
import { readJudgeOutput, type FormatProblem, type ReadVerdict } from "./judge-output.js";
import type { RewardLabel } from "./reward-label.js";
import type { JudgeRewardOptions } from "./reward-options.js";

/**
 * The verifiable judge reward (J1's RL stage): a judge output earns its reward when it is well formed
 * (one thinking block, then exactly one verdict; judge-output.ts) and its verdict matches the label.
 */
export interface JudgeReward {
  /** What the trainer optimises: a weight from RewardWeights (pointwise partial credit in between). */
  reward: number;
  /** Correctness in [0, 1]: 0 when malformed, wrong or inconsistent (trainers filter prompts on it). */
  score: number;
  /** Named parts, for logging. */
  parts: RewardParts;
  /** "partial": pointwise partial credit, between wrong and right. */
  status: "correct" | "partial" | "wrong" | "malformed";
  /** The verdict as read (pairwise "A"/"B"/"tie" or a pointwise number); null when malformed. */
  verdict: PairVerdict | number | null;
  /** Set when malformed: which rule was broken. */
  problem?: FormatProblem;
  /** One line a person can read: why this reward. */
  reason: string;
  /** Characters of thinking (0 when none could be delimited): a cheap signal of how long the judge thinks. */
  thinkingChars: number;
}

export interface RewardParts {
  /** 1 well formed, 0 malformed. */
  format: number;
  /** Correctness of the verdict in [0, 1] before any consistency term (0 when malformed). */
  correct: number;
  /** Only when both orders were judged: 1 when the two verdicts agree, else 0. */
  consistency?: number;
}

export function judgeReward(output: string, label: RewardLabel, options: JudgeRewardOptions): JudgeReward {
  const { weights } = options;
  const read = readJudgeOutput(output, label.kind, options);
  if (!read.ok) {
    return {
      reward: weights.malformed,
      score: 0,
      parts: { format: 0, correct: 0 },
      status: "malformed",
      verdict: null,
      problem: read.problem,
      reason: `malformed: ${read.reason}`,
      thinkingChars: read.thinking?.length ?? 0,
    };
  }
  const correctness = verdictCorrectness(read.verdict, label, options);
  const reward = weights.wrong + (weights.correct - weights.wrong) * correctness;
  const shownVerdict = `${options.template.answerPrefix}${read.verdict.value}${options.template.answerSuffix}`;
  const shownLabel = label.kind === "pairwise" ? label.verdict : String(label.score);
  const reason =
    correctness === 1
      ? `correct: ${shownVerdict} matches the label ${shownLabel}`
      : correctness === 0
        ? `wrong: ${shownVerdict} but the label is ${shownLabel}`
        : `partly right: ${shownVerdict} against the label ${shownLabel} (credit ${round(correctness)})`;
  return {
    reward,
    score: correctness,
    parts: { format: 1, correct: correctness },
    status: correctness === 1 ? "correct" : correctness > 0 ? "partial" : "wrong",
    verdict: read.verdict.value,
    reason,
    thinkingChars: read.thinking.length,
  };
}

function verdictCorrectness(verdict: ReadVerdict, label: RewardLabel, options: JudgeRewardOptions): number {
  if (label.kind === "pairwise") return verdict.kind === "pairwise" && verdict.value === label.verdict ? 1 : 0;
  if (verdict.kind !== "pointwise") return 0;
  const distance = Math.abs(verdict.value - label.score);
  const { shape, tolerance, min, max } = options.pointwise;
  if (shape === "tolerance") return distance <= tolerance + 1e-9 ? 1 : 0;
  if (distance <= tolerance + 1e-9) return 1;
  return Math.max(0, 1 - distance / (max - min));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
