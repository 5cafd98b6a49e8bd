import { J1Error } from "../../core/errors.js";
import type { HttpClient } from "./http-client.js";

/** Characters per token when nothing better is known (English text with BPE vocabularies). */
const CHARACTERS_PER_TOKEN = 4;

/**
 * Token counts the way the server's model counts them, through POST {root}/tokenize (llama-server takes
 * `content`, vLLM takes `prompt`; both fields are sent, each server ignores the other's). Where the
 * server has no such route, counts are estimated from characters and `exact` turns false, so reports can
 * say so; the first such failure is remembered and the route is not asked again.
 */
export class TokenCounter {
  private available: boolean | undefined;
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly client: HttpClient,
    private readonly url: string,
    private readonly model: string | undefined,
    private readonly onUnavailable: (reason: string) => void,
  ) {}

  /** False once /tokenize has failed: counts are estimates from then on. */
  get exact(): boolean {
    return this.available !== false;
  }

  /** `withSpecial`: count the tokens the server adds to a whole prompt (BOS). */
  async count(text: string, options: { withSpecial?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    if (text.length === 0 && !options.withSpecial) return 0;
    if (this.available === false) return estimateTokens(text);
    const key = `${options.withSpecial ? 1 : 0}${text}`;
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    try {
      const body = await this.client.postJson(
        this.url,
        { content: text, prompt: text, model: this.model, add_special: options.withSpecial ?? false, add_special_tokens: options.withSpecial ?? false },
        { signal: options.signal },
      );
      const count = readCount(body);
      if (count === undefined) return this.giveUp(`${this.url}: no "tokens" or "count" in the answer`, text);
      this.available = true;
      // Short texts (delimiters, wait texts) come back again and again; long ones rarely do.
      if (text.length <= 64) this.cache.set(key, count);
      return count;
    } catch (error) {
      if (!routeIsMissing(error)) throw error;
      return this.giveUp((error as J1Error).message, text);
    }
  }

  private giveUp(reason: string, text: string): number {
    this.available = false;
    this.onUnavailable(reason);
    return estimateTokens(text);
  }
}

/** A server without /tokenize answers 404/405/501 (or 400 for a body it reads differently); others are real failures. */
function routeIsMissing(error: unknown): boolean {
  if (!(error instanceof J1Error) || error.code !== "engine-http") return false;
  const status = error.context.status;
  return status === 400 || status === 404 || status === 405 || status === 422 || status === 501;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

function readCount(body: unknown): number | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { count, tokens } = body as { count?: unknown; tokens?: unknown };
  if (typeof count === "number") return count;
  return Array.isArray(tokens) ? tokens.length : undefined;
}
