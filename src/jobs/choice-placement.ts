import { J1Error } from "../core/errors.js";
import type { Judgment, JudgmentRun, Verdict, Votes } from "../core/judgment.js";
import { deriveSeed } from "../core/seed.js";
import type { ChoiceInput } from "../core/template.js";
import type { ChoiceItem, OrderProtocol } from "../eval/types.js";

/**
 * Where a choice's responses are shown. `permutation[slot]` is the index (in the item's own order) of the
 * response shown in that slot. "as-is": the item's order (a loader that places responses by the
 * benchmark's own rule, as RewardBench 2's does, uses this); "shuffle": one seeded permutation per item, so a
 * rerun or a resumed run shows every item the same way.
 */
export function placement(protocol: OrderProtocol, item: Pick<ChoiceItem, "id" | "responses">, seed: number): number[] {
  const identity = item.responses.map((_, index) => index);
  if (protocol === "as-is") return identity;
  if (protocol === "both") throw new J1Error("bad-input", `item "${item.id}" is a choice among ${item.responses.length}: "both orders" applies to pairs; use the benchmark's rotations variant instead`, { context: { item: item.id } });
  // Fisher-Yates driven by one derived seed per step, so the permutation depends only on (seed, item id).
  const permutation = [...identity];
  for (let at = permutation.length - 1; at > 0; at--) {
    const pick = deriveSeed(seed, "placement", item.id, at) % (at + 1);
    [permutation[at], permutation[pick]] = [permutation[pick], permutation[at]];
  }
  return permutation;
}

export function letterOf(index: number): string {
  return String.fromCharCode(65 + index);
}

function indexOf(letter: string): number {
  return letter.length === 1 ? letter.charCodeAt(0) - 65 : -1;
}

export function presentedChoice(item: Pick<ChoiceItem, "question" | "context" | "responses">, permutation: readonly number[]): ChoiceInput {
  return { question: item.question, context: item.context, responses: permutation.map((index) => item.responses[index]) };
}

/** A letter as the model saw it (a slot) mapped to the item's own letter; other verdicts pass through. */
function toItemLetter(verdict: Verdict | null, permutation: readonly number[]): Verdict | null {
  if (verdict === null) return null;
  const slot = indexOf(verdict);
  return slot >= 0 && slot < permutation.length ? letterOf(permutation[slot]) : verdict;
}

/**
 * A choice judged in its placement's order, relabelled to the item's own letters: the verdict, each run's
 * verdict and the votes. `rawVerdict` and `choiceProbabilities` stay as the model wrote them (its order),
 * as for pairs, so a trace and its verdict can be read side by side.
 */
export function toItemLetters(judgment: Judgment, permutation: readonly number[]): Judgment {
  if (permutation.every((index, slot) => index === slot)) return judgment;
  let votes: Votes | undefined;
  if (judgment.votes) {
    votes = { A: 0, B: 0, tie: 0, invalid: judgment.votes.invalid };
    for (const [letter, count] of Object.entries(judgment.votes)) {
      if (letter === "invalid" || count === 0) continue;
      const mapped = toItemLetter(letter, permutation) as string;
      votes[mapped] = (votes[mapped] ?? 0) + count;
    }
  }
  const runs: JudgmentRun[] = judgment.runs.map((run) => ({ ...run, verdict: toItemLetter(run.verdict, permutation) }));
  return { ...judgment, verdict: toItemLetter(judgment.verdict, permutation), votes, runs };
}
