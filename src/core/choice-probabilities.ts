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
