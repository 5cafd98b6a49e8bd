import { createHash } from "node:crypto";
import { deriveSeed } from "../core/seed.js";
import type { SftCandidate, SftExample } from "./sft-trace.js";

/**
 * Rejection sampling as a pipeline of filters over the candidate traces, in this order:
 *
 *   verdict   a verdict was read (no engine error, no unreadable answer)
 *   label     the verdict matches the human label (the core of rejection sampling)
 *   complete  thinking ended by itself, not forced at the cap (unless keepForced)
 *   reflection  the thinking reflects (only with requireReflection; see reflection.ts)
 *   productive  the reflection turned a wrong verdict right: wrong at the first probe, right at the end
 *               (only with requireProductiveReflection; the run probes at every attempted end)
 *   length    within maxThinkingChars, maxTokens (the completion) and minThinkingTokens
 *   dedup     the first of identical (prompt, completion) pairs
 *   balance   as many examples whose answer is [[A]] as [[B]]
 *
 * Balance comes last, so that the exported data is balanced: balancing before dedup or the length limits
 * would let them tip it again. Each stage counts what it kept, for the stats.
 */
export interface SftFilterOptions {
  requireReflection: boolean;
  /** Keep only traces whose reflection turned a wrong verdict right (needs the trajectory: probes). */
  requireProductiveReflection?: boolean;
  keepForced: boolean;
  /** Longest thinking kept, in characters. */
  maxThinkingChars?: number;
  /** Longest completion kept, in the length unit (tokens where the engine counts them, else characters). */
  maxTokens?: number;
  /** Shortest thinking kept, in thinking tokens (the engine's count while generating). */
  minThinkingTokens?: number;
  dedup: boolean;
  balance: boolean;
  /** Chooses which surplus examples balance drops; the same seed drops the same ones. */
  seed: number;
}

export type SftStage = "candidates" | "verdict" | "label" | "complete" | "reflection" | "productive" | "length" | "dedup" | "balance";

export interface StageCount {
  stage: SftStage;
  kept: number;
}

export interface AnswerBalance {
  A: number;
  B: number;
}

export interface SftSelection {
  examples: SftExample[];
  stages: StageCount[];
  /** Label-matching traces that could not be turned into text (kept out of every later stage). */
  unusable: number;
  /** Among label-matching examples: how many reflect (whether or not reflection is required). */
  reflective: number;
  /** Among label-matching examples: how many ended at the cap. */
  forced: number;
  /** Answers ([[A]] / [[B]] as written in the shown order) before and after balancing. */
  balanceBefore: AnswerBalance;
  balanceAfter: AnswerBalance;
}

/** Identity of a training example for dedup: the exact prompt text and completion text. */
export function exampleFingerprint(example: SftExample): string {
  return createHash("sha256").update(example.promptText).update("\u0000").update(example.completion).digest("hex");
}

function countAnswers(examples: readonly SftExample[]): AnswerBalance {
  const counts = { A: 0, B: 0 };
  for (const example of examples) counts[example.verdict]++;
  return counts;
}

/**
 * Keeps equal numbers of [[A]] and [[B]] answers. Which surplus examples go is decided by a seeded hash of
 * each example's id, never by arrival order, so a resumed run drops exactly the same ones; the kept
 * examples stay in input order.
 */
export function balanceAnswers(examples: readonly SftExample[], seed: number): SftExample[] {
  const counts = countAnswers(examples);
  const target = Math.min(counts.A, counts.B);
  const surplus: "A" | "B" = counts.A > counts.B ? "A" : "B";
  if (counts[surplus] === target) return [...examples];
  const ranked = examples
    .filter((example) => example.verdict === surplus)
    .map((example) => ({ id: example.id, rank: deriveSeed(seed, "balance", example.id) }))
    .sort((x, y) => x.rank - y.rank || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const keep = new Set(ranked.slice(0, target).map((entry) => entry.id));
  return examples.filter((example) => example.verdict !== surplus || keep.has(example.id));
}

function withinLength(example: SftExample, options: SftFilterOptions): boolean {
  if (options.maxThinkingChars !== undefined && example.thinking.length > options.maxThinkingChars) return false;
  if (options.maxTokens !== undefined && example.completionLength > options.maxTokens) return false;
  if (options.minThinkingTokens !== undefined && example.thinkingTokens < options.minThinkingTokens) return false;
  return true;
}

/** Runs the filters over candidates given in input order (pair, then AB before BA, then sample). */
export function selectExamples(candidates: readonly SftCandidate[], options: SftFilterOptions): SftSelection {
  const stages: StageCount[] = [{ stage: "candidates", kept: candidates.length }];
  const withVerdict = candidates.filter((candidate) => candidate.verdict !== null);
  stages.push({ stage: "verdict", kept: withVerdict.length });
  const matched = withVerdict.filter((candidate) => candidate.verdict === candidate.label);
  stages.push({ stage: "label", kept: matched.length });

  const productive = new Set(matched.filter((candidate) => candidate.turnedRight === true).map((candidate) => candidate.id));
  const usable = matched.map((candidate) => candidate.example).filter((example): example is SftExample => example !== undefined);
  const reflective = usable.filter((example) => example.reflection.reflective).length;
  const forced = usable.filter((example) => example.forcedEnd).length;

  let examples = usable.filter((example) => options.keepForced || !example.forcedEnd);
  stages.push({ stage: "complete", kept: examples.length });
  if (options.requireReflection) {
    examples = examples.filter((example) => example.reflection.reflective);
    stages.push({ stage: "reflection", kept: examples.length });
  }
  if (options.requireProductiveReflection) {
    examples = examples.filter((example) => productive.has(example.id));
    stages.push({ stage: "productive", kept: examples.length });
  }
  examples = examples.filter((example) => withinLength(example, options));
  stages.push({ stage: "length", kept: examples.length });
  if (options.dedup) {
    const seen = new Set<string>();
    examples = examples.filter((example) => {
      const fingerprint = exampleFingerprint(example);
      if (seen.has(fingerprint)) return false;
      seen.add(fingerprint);
      return true;
    });
    stages.push({ stage: "dedup", kept: examples.length });
  }
  const balanceBefore = countAnswers(examples);
  if (options.balance) {
    examples = balanceAnswers(examples, options.seed);
    stages.push({ stage: "balance", kept: examples.length });
  }
  return { examples, stages, unusable: matched.length - usable.length, reflective, forced, balanceBefore, balanceAfter: countAnswers(examples) };
}
