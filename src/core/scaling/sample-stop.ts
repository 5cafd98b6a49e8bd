import type { Verdict } from "../judgment.js";

/**
 * Early-stopped sampling: with K samples per order, stop drawing once the vote is settled. Pure rules
 * over the verdicts drawn so far, so the documented stopping points are tested without an engine.
 *
 * decided: the plurality can no longer change, whatever the remaining samples say (the leader has more
 * votes than the runner-up would have with every remaining sample). The result equals the full vote.
 * sequential: a Bayesian rule: with a uniform prior on the leader's share between the top two verdicts,
 * stop when P(share > 1/2 | votes) ≥ level. It may stop earlier and may differ from the full vote.
 */
export type SampleStop = { rule: "decided" } | { rule: "sequential"; level: number };

export function voteSettled(verdicts: ReadonlyArray<Verdict | null>, planned: number, stop: SampleStop): boolean {
  const remaining = planned - verdicts.length;
  if (remaining <= 0) return true;
  const counts = new Map<Verdict, number>();
  for (const verdict of verdicts) if (verdict !== null) counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  const ranked = [...counts.values()].sort((x, y) => y - x);
  const leader = ranked[0] ?? 0;
  const runnerUp = ranked[1] ?? 0;
  if (stop.rule === "decided") return leader > runnerUp + remaining;
  return leader > runnerUp && leaderShareAboveHalf(leader, runnerUp) >= stop.level;
}

/**
 * P(p > 1/2) for p ~ Beta(a + 1, b + 1): for whole a, b it is P(Binomial(a + b + 1, 1/2) ≤ a), an exact
 * finite sum (the Beta–binomial identity), so no special function is needed.
 */
export function leaderShareAboveHalf(a: number, b: number): number {
  const n = a + b + 1;
  let term = Math.pow(0.5, n);
  let sum = 0;
  for (let k = 0; k <= a; k++) {
    sum += term;
    term = (term * (n - k)) / (k + 1);
  }
  return Math.min(1, sum);
}

/** Parses `decided` or `sequential:0.95` (the --early-stop flag). Returns a message on a bad value. */
export function parseSampleStop(text: string): SampleStop | string {
  const trimmed = text.trim();
  if (trimmed === "decided") return { rule: "decided" };
  const match = /^sequential(?::(\d*\.?\d+))?$/.exec(trimmed);
  if (!match) return `"${text}" is not an early stop: write decided or sequential:0.95`;
  const level = match[1] === undefined ? 0.95 : Number(match[1]);
  if (!(level > 0.5 && level < 1)) return `sequential level ${match[1]} must be above 0.5 and below 1`;
  return { rule: "sequential", level };
}
