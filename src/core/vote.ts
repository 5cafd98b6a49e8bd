import { type PairVerdict, type Verdict, type Votes } from "./judgment.js";

/**
 * Parallel scaling: K samples vote, and both orders must agree. Pure rules, so the documented results
 * (majority, reported ties, inconsistency) are tested without an engine.
 */
export type VoteOutcome<V extends Verdict = Verdict> = { verdict: V; votes: Votes } | { verdict: null; votes: Votes; reason: "vote-tie" | "no-valid-votes" };

/** Plurality over the verdicts (a pair's A/B/tie, or a choice's letters); an even split at the top is a vote tie. */
export function majorityVote<V extends Verdict>(verdicts: ReadonlyArray<V | null>): VoteOutcome<V> {
  const votes: Votes = { A: 0, B: 0, tie: 0, invalid: 0 };
  for (const verdict of verdicts) {
    if (verdict === null) votes.invalid++;
    else votes[verdict] = (votes[verdict] ?? 0) + 1;
  }
  const ranked = Object.entries(votes)
    .filter(([verdict]) => verdict !== "invalid")
    .sort((x, y) => y[1] - x[1]);
  if (ranked[0][1] === 0) return { verdict: null, votes, reason: "no-valid-votes" };
  if (ranked.length > 1 && ranked[0][1] === ranked[1][1]) return { verdict: null, votes, reason: "vote-tie" };
  return { verdict: ranked[0][0] as V, votes };
}

/**
 * Both orders: a verdict only when they agree (the BA verdict is already mapped back to the original
 * labels); otherwise the pair is inconsistent.
 */
export function combineOrders<V extends Verdict>(forward: V | null, backward: V | null): { verdict: V; consistent: true } | { verdict: null; consistent: false } {
  if (forward !== null && forward === backward) return { verdict: forward, consistent: true };
  return { verdict: null, consistent: false };
}

export function meanScore(scores: ReadonlyArray<number | null>): number | null {
  const valid = scores.filter((score): score is number => score !== null);
  if (valid.length === 0) return null;
  return valid.reduce((sum, score) => sum + score, 0) / valid.length;
}
