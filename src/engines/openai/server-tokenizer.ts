import { J1Error } from "../../core/errors.js";
import type { PieceTokenizer } from "../../core/prompt-pieces.js";
import { malformedAnswer, type HttpClient } from "./http-client.js";
import type { ServerFlavor } from "./server-flavor.js";

/** A token id with the text the server prints for it (llama-server `/tokenize` `with_pieces`). */
export interface TokenPiece {
  id: number;
  piece: string;
}

/**
 * The server's own tokenizer, so a prompt becomes exactly the ids the model was trained on (and the
 * same ids node-llama-cpp gives for the same GGUF: both call llama.cpp's tokenizer on the same pieces).
 *
 * - llama-server: POST {root}/tokenize `{content, add_special, parse_special}`. `parse_special: false`
 *   leaves `<|im_end|>` as plain characters; llama.cpp still matches user-defined tokens (Qwen3's
 *   `</think>`) then, which is why the piece rule breaks such strings in judged text first.
 * - vLLM and SGLang: POST {root}/tokenize `{model, prompt, add_special_tokens}` (the Hugging Face
 *   tokenizer, which always matches added tokens: the piece rule's breaking is what keeps judged text
 *   plain there; `parseSpecial` has no switch to map to).
 *
 * Short texts (delimiters, the wait text, verdict choices) are asked once and remembered.
 */
export class ServerTokenizer {
  private readonly cache = new Map<string, number[]>();
  private readonly url: string;

  constructor(
    private readonly client: HttpClient,
    root: string,
    readonly flavor: ServerFlavor,
    private readonly model: string | undefined,
    /** Retries per request; 0 where the route may well be missing (an unknown server). */
    private readonly retries?: number,
  ) {
    this.url = `${root}/tokenize`;
  }

  async tokenize(text: string, parseSpecial: boolean, options: { signal?: AbortSignal; addSpecial?: boolean; headers?: Record<string, string> } = {}): Promise<number[]> {
    const addSpecial = options.addSpecial ?? false;
    if (text.length === 0 && !addSpecial) return [];
    const key = `${parseSpecial ? 1 : 0}${addSpecial ? 1 : 0}${text}`;
    const known = this.cache.get(key);
    if (known) return known;
    const tokens = await this.client.postJson(this.url, this.body(text, parseSpecial, addSpecial, false), {
      signal: options.signal,
      retries: this.retries,
      headers: options.headers,
      read: (json, url) => readTokenIds(json, url),
    });
    if (text.length <= 64) this.cache.set(key, tokens);
    return tokens;
  }

  /** This tokenizer as the piece rule calls it. */
  pieceTokenizer(signal?: AbortSignal): PieceTokenizer {
    return { tokenize: (text, parseSpecial) => this.tokenize(text, parseSpecial, { signal }) };
  }

  /** Ids with their printed text; llama-server only (`with_pieces`), undefined elsewhere. */
  async pieces(text: string, parseSpecial: boolean, signal?: AbortSignal): Promise<TokenPiece[] | undefined> {
    if (this.flavor !== "llama-server") return undefined;
    return this.client.postJson(this.url, this.body(text, parseSpecial, false, true), {
      signal,
      read: (json, url) => {
        const tokens = (json as { tokens?: unknown } | null)?.tokens;
        if (!Array.isArray(tokens)) throw malformedAnswer(url, json, 'no "tokens" list');
        return tokens.map((entry) => {
          const { id, piece } = (entry ?? {}) as { id?: unknown; piece?: unknown };
          if (typeof id !== "number") throw malformedAnswer(url, json, "a token without an id");
          // A piece that is not valid UTF-8 comes back as its byte values.
          const text = typeof piece === "string" ? piece : Array.isArray(piece) ? Buffer.from(piece as number[]).toString("latin1") : "";
          return { id, piece: text };
        });
      },
    });
  }

  /**
   * The token the server puts before a whole prompt (BOS), or undefined when the model wants none:
   * the empty text tokenized with special tokens added is exactly that.
   */
  async beginningOfSequence(signal?: AbortSignal): Promise<number | undefined> {
    const tokens = await this.tokenize("", true, { addSpecial: true, signal });
    return tokens.length > 0 ? tokens[0] : undefined;
  }

  private body(text: string, parseSpecial: boolean, addSpecial: boolean, withPieces: boolean): Record<string, unknown> {
    if (this.flavor === "llama-server") {
      const body: Record<string, unknown> = { content: text, add_special: addSpecial, parse_special: parseSpecial };
      if (withPieces) body.with_pieces = true;
      return body;
    }
    if (this.flavor === "vllm" || this.flavor === "sglang") return { model: this.model, prompt: text, add_special_tokens: addSpecial };
    // An unknown server: both spellings (llama.cpp's and vLLM's), each server ignores the other's.
    return { model: this.model, content: text, prompt: text, add_special: addSpecial, add_special_tokens: addSpecial, parse_special: parseSpecial };
  }
}

export function readTokenIds(json: unknown, url: string): number[] {
  const tokens = (json as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) throw malformedAnswer(url, json, 'no "tokens" list');
  const ids: number[] = [];
  for (const token of tokens) {
    const id = typeof token === "number" ? token : (token as { id?: unknown } | null)?.id;
    if (typeof id !== "number" || !Number.isInteger(id)) throw malformedAnswer(url, json, "a token that is not an id");
    ids.push(id);
  }
  return ids;
}

/** A server without /tokenize answers 404/405/501 (or 400/422 for a body it reads differently). */
export function routeIsMissing(error: unknown): boolean {
  if (!(error instanceof J1Error) || error.code !== "engine-http") return false;
  const status = error.context.status;
  return status === 400 || status === 404 || status === 405 || status === 422 || status === 501;
}
