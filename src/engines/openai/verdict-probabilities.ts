import { combineChoicePaths, type ChoicePath, type ChoiceProbabilityResult } from "../../core/choice-probabilities.js";
import type { TokenCandidate } from "./completion-response.js";

/** A top-k list read as next-token probabilities by id: a token outside the list is unknown, not 0. */
export function candidateDistribution(candidates: readonly TokenCandidate[]): Map<number, number> | undefined {
  const byId = new Map<number, number>();
  for (const { id, logprob } of candidates) if (id !== undefined && !byId.has(id)) byId.set(id, Math.exp(logprob));
  return byId.size > 0 ? byId : undefined;
}

/**
 * P(choice) over whole choice strings (core/choice-probabilities.ts) from the distributions a server
 * reported: the root one (the verdict position) and one per branch prefix. A factor outside the
 * server's top-k makes the result undefined, with a note that says which choice and where.
 */
export function combineReported(
  paths: readonly ChoicePath[],
  distributions: ReadonlyMap<string, ReadonlyMap<number, number>>,
  topK: number,
  describePrefix: (prefix: readonly number[]) => string,
): ChoiceProbabilityResult {
  for (const path of paths) {
    for (let index = 0; index < path.tokens.length; index++) {
      const prefix = path.tokens.slice(0, index);
      const distribution = distributions.get(prefix.join(","));
      const where = index === 0 ? "at the verdict position" : `after ${describePrefix(prefix)}`;
      if (!distribution) return { missing: `the server reported no candidates ${where}` };
      if (!distribution.has(path.tokens[index])) {
        const what = index === 0 ? `choice "${path.choice}"` : `choice "${path.choice}" (token ${path.tokens[index]})`;
        return { missing: `${what} not in the server's top ${topK} ${where}` };
      }
    }
  }
  return combineChoicePaths(paths, (prefix) => {
    const distribution = distributions.get(prefix.join(","));
    return distribution ? (token) => distribution.get(token) : undefined;
  });
}

/**
 * Without token ids (a text-prompt server that names candidates only by text): a choice is known only
 * when one reported candidate's text is exactly the choice and no choice extends another (then a
 * single token decides it). Anything else is undefined with its reason, never a guess.
 */
export function textChoiceProbabilities(choices: readonly string[], candidates: readonly TokenCandidate[], topK: number): ChoiceProbabilityResult {
  if (candidates.length === 0) return { missing: "the server returned no top log-probabilities" };
  const extended = choices.find((choice) => choices.some((other) => other !== choice && other.startsWith(choice)));
  if (extended !== undefined) return { missing: `choice "${extended}" is a prefix of another choice: without token ids its probability cannot be read` };
  const byText = new Map<string, number>();
  for (const { token, logprob } of candidates) if (!byText.has(token)) byText.set(token, Math.exp(logprob));
  const raw: Record<string, number> = {};
  let total = 0;
  for (const choice of choices) {
    const probability = byText.get(choice);
    if (probability === undefined) return { missing: `choice "${choice}" not among the server's top ${topK} tokens at the verdict position (as one whole token)` };
    raw[choice] = probability;
    total += probability;
  }
  if (!(total > 0)) return { missing: "every choice has probability 0 at the verdict position" };
  for (const choice of choices) raw[choice] /= total;
  return { probabilities: raw };
}
