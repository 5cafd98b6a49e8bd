import { type PairVerdict, type Votes } from "./judgment.js";

/**
 * Parallel scaling: K samples vote, and both orders must agree. Pure rules, so the documented results
 * (majority, reported ties, inconsistency) are tested without an engine.
 */
export type VoteOutcome = { verdict: PairVerdict; votes: Votes } | { verdict: null; votes: Votes; reason: "vote-tie" | "no-valid-votes" };

export function majorityVote(verdicts: ReadonlyArray<PairVerdict | null>): VoteOutcome {
  const votes: Votes = { A: 0, B: 0, tie: 0, invalid: 0 };
  for (const verdict of verdicts) {
    if (verdict === null) votes.invalid++;
    else votes[verdict]++;
  }
  const ranked = (["A", "B", "tie"] as const).map((verdict) => ({ verdict, count: votes[verdict] })).sort((x, y) => y.count - x.count);
  if (ranked[0].count === 0) return { verdict: null, votes, reason: "no-valid-votes" };
  if (ranked[0].count === ranked[1].count) return { verdict: null, votes, reason: "vote-tie" };
  return { verdict: ranked[0].verdict, votes };
}

/**
 * Both orders: a verdict only when they agree (the BA verdict is already mapped back to the original
 * labels); otherwise the pair is inconsistent.
 */
export function combineOrders(forward: PairVerdict | null, backward: PairVerdict | null): { verdict: PairVerdict; consistent: true } | { verdict: null; consistent: false } {
  if (forward !== null && forward === backward) return { verdict: forward, consistent: true };
  return { verdict: null, consistent: false };
}

export function meanScore(scores: ReadonlyArray<number | null>): number | null {
  const valid = scores.filter((score): score is number => score !== null);
  if (valid.length === 0) return null;
  return valid.reduce((sum, score) => sum + score, 0) / valid.length;
}
