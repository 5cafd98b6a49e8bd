import type { ServerTokenizer } from "./server-tokenizer.js";
import { routeIsMissing } from "./server-tokenizer.js";

/** Characters per token when nothing better is known (English text with BPE vocabularies). */
const CHARACTERS_PER_TOKEN = 4;

/**
 * Token counts for text-prompt sessions and `countTokens`, the way the server's model counts them
 * (through its /tokenize). Where the server has no such route, counts are estimated from characters
 * and `exact` turns false, so reports can say so; the first such failure is remembered and the route
 * is not asked again. Token-id sessions never estimate: they hold the ids themselves.
 */
export class TokenCounter {
  private available: boolean | undefined;

  constructor(
    private readonly tokenizer: ServerTokenizer,
    private readonly onUnavailable: (reason: string) => void,
  ) {}

  /** False once /tokenize has failed: counts are estimates from then on. */
  get exact(): boolean {
    return this.available !== false;
  }

  /**
   * `withSpecial`: count the tokens the server adds to a whole prompt (BOS). `parseSpecial`: read
   * special-token texts as their tokens (true for text the server itself parses: text prompts).
   */
  async count(text: string, options: { withSpecial?: boolean; parseSpecial?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    if (text.length === 0 && !options.withSpecial) return 0;
    if (this.available === false) return estimateTokens(text);
    try {
      const tokens = await this.tokenizer.tokenize(text, options.parseSpecial ?? true, { addSpecial: options.withSpecial, signal: options.signal });
      this.available = true;
      return tokens.length;
    } catch (error) {
      if (!routeIsMissing(error) && !(error instanceof Error && /unexpected answer/.test(error.message))) throw error;
      this.available = false;
      this.onUnavailable((error as Error).message);
      return estimateTokens(text);
    }
  }
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}
