/**
 * Confidence that means one thing on every engine: P(verdict) under the model's untempered distribution
 * (temperature 1, no top-k/top-p truncation, no grammar), over the whole choice string, normalised over
 * the valid choices.
 *
 * A choice is a token sequence. Where one choice's tokens are a prefix of another's ("1" and "10" when the
 * tokenizer splits digits), the shorter one also needs its terminator (the first token of the answer
 * suffix, "]]"), or P("1") would include P("10"). P(choice) is then the product of the next-token
 * probabilities along its path. Distributions are read at the root (the verdict position, where the
 * answer step reads anyway) and only at deeper prefixes where choices branch, so A/B costs nothing extra.
 */
import { deriveSeed } from "./seed.js";

export interface ChoicePath {
  choice: string;
  /** The choice's tokens, plus the terminator when another choice extends them. */
  tokens: number[];
}

/** Next-token probabilities after a prefix of answer tokens: probability of `token`, or undefined if unknown. */
export type NextTokenProbability = (token: number) => number | undefined;

export interface ChoiceProbabilityResult {
  /** Normalised over the choices; undefined when some factor was not known. */
  probabilities?: Record<string, number>;
  /** Why probabilities are missing (e.g. a choice outside the server's top-k). */
  missing?: string;
}

/** Builds each choice's path; `tokenize` is the engine's tokenizer for plain text. */
export function choicePaths(choices: readonly string[], tokenize: (text: string) => number[], terminator: number | undefined): ChoicePath[] {
  const raw = choices.map((choice) => ({ choice, tokens: tokenize(choice) }));
  return raw.map(({ choice, tokens }) => {
    const extended = raw.some((other) => other.choice !== choice && other.tokens.length > tokens.length && tokens.every((token, index) => other.tokens[index] === token));
    return { choice, tokens: extended && terminator !== undefined ? [...tokens, terminator] : tokens };
  });
}

/** The prefixes (beyond the root) at which a distribution is needed: where two paths share it and then differ. */
export function branchPrefixes(paths: readonly ChoicePath[]): number[][] {
  const prefixes = new Map<string, number[]>();
  for (const path of paths) {
    for (let length = 1; length < path.tokens.length; length++) {
      const prefix = path.tokens.slice(0, length);
      prefixes.set(prefix.join(","), prefix);
    }
  }
  return [...prefixes.values()];
}

/**
 * Multiplies each path's factors and normalises. `distributionAt(prefix)` gives the next-token
 * probability after the prefix (the empty prefix is the verdict position).
 */
export function combineChoicePaths(paths: readonly ChoicePath[], distributionAt: (prefix: readonly number[]) => NextTokenProbability | undefined): ChoiceProbabilityResult {
  const raw: Record<string, number> = {};
  let total = 0;
  for (const path of paths) {
    if (path.tokens.length === 0) return { missing: `choice "${path.choice}" has no tokens` };
    let probability = 1;
    for (let index = 0; index < path.tokens.length; index++) {
      const distribution = distributionAt(path.tokens.slice(0, index));
      const factor = distribution?.(path.tokens[index]);
      if (factor === undefined) return { missing: `P("${path.choice}") is not known: token ${path.tokens[index]} was not reported at its position` };
      probability *= factor;
    }
    raw[path.choice] = probability;
    total += probability;
  }
  if (!(total > 0)) return { missing: "every choice has probability 0 at the verdict position" };
  for (const choice of Object.keys(raw)) raw[choice] /= total;
  return { probabilities: raw };
}

/** The tokens that some choice's path allows after `prefix` (none: a path ends there). */
export function nextChoiceTokens(paths: readonly ChoicePath[], prefix: readonly number[]): number[] {
  const next = new Set<number>();
  for (const path of paths) {
    if (path.tokens.length > prefix.length && prefix.every((token, index) => path.tokens[index] === token)) next.add(path.tokens[prefix.length]);
  }
  return [...next];
}

/** The seed of the verdict's `index`-th token draw (every engine draws with the same one). */
export function verdictTokenSeed(seed: number, index: number): number {
  return index === 0 ? deriveSeed(seed, "first-verdict-token") : deriveSeed(seed, "verdict-token", index);
}

/**
 * A verdict token among `candidates`, from the untempered probabilities: the most likely one when greedy,
 * else drawn with p^(1/T) from a uniform number derived from the seed. A candidate missing from
 * `distribution` counts as 0, so the caller passes a distribution that holds every candidate when
 * sampling, and at least one when greedy (then a missing one is below every reported one).
 */
export function pickChoiceToken(candidates: readonly number[], distribution: ReadonlyMap<number, number>, temperature: number, seed: number): number {
  const probability = (token: number) => distribution.get(token) ?? 0;
  if (temperature <= 0) return candidates.reduce((best, token) => (probability(token) > probability(best) ? token : best), candidates[0]);
  const weights = candidates.map((token) => Math.pow(probability(token), 1 / temperature));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (!(total > 0)) return candidates[0];
  let draw = (seed / 0x80000000) * total;
  for (let index = 0; index < candidates.length; index++) {
    draw -= weights[index];
    if (draw < 0) return candidates[index];
  }
  return candidates[candidates.length - 1];
}
