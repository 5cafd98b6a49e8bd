/**
 * P(choice) at the verdict position from the server's top log-probabilities, normalised over the
 * choices. Over HTTP we see token texts, not ids, so a choice's first token is taken to be the longest
 * reported token its text starts with (choices sharing it, like "1" and "10" when "10" is no token,
 * share its probability, as in the llama.cpp engine). A choice outside the reported top-k counts as 0:
 * with k = 5 and two or three choices that loses little. Undefined when no choice was reported.
 */
export function choiceProbabilities(choices: readonly string[], alternatives: ReadonlyArray<{ token: string; logprob: number }>): Record<string, number> | undefined {
  const byToken = new Map<string, number>();
  for (const { token, logprob } of alternatives) if (token.length > 0 && !byToken.has(token)) byToken.set(token, Math.exp(logprob));
  const raw: Record<string, number> = {};
  const counted = new Set<string>();
  let total = 0;
  for (const choice of choices) {
    const token = firstToken(choice, [...byToken.keys()]);
    raw[choice] = token === undefined ? 0 : (byToken.get(token) as number);
    if (token !== undefined && !counted.has(token)) {
      counted.add(token);
      total += raw[choice];
    }
  }
  if (total <= 0) return undefined;
  for (const choice of choices) raw[choice] /= total;
  return raw;
}

function firstToken(choice: string, tokens: readonly string[]): string | undefined {
  const longest = (candidates: string[]) => candidates.sort((x, y) => y.length - x.length)[0];
  const exact = tokens.filter((token) => choice.startsWith(token));
  if (exact.length > 0) return longest(exact);
  // A tokenizer that writes the space before a word into its token (" A").
  return longest(tokens.filter((token) => token.trim().length > 0 && choice.startsWith(token.trimStart())));
}
