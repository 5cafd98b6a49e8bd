import type { PromptSegment } from "./template.js";

/**
 * How a rendered prompt becomes token ids, the same way on every engine (so the same judgment feeds the
 * same ids in process and over HTTP). A prompt is a list of pieces, each tokenized on its own and the ids
 * joined in order:
 * - trusted scaffolding (the chat template's turns, j1's instructions) with special-token parsing on, so
 *   `<|im_start|>` is the real control token;
 * - judged text with special-token parsing off, and every special-looking string in it broken after its
 *   first character. Parsing off is not enough: llama.cpp (and Hugging Face tokenizers) match user-defined
 *   added tokens such as Qwen3's `</think>` even then. Broken, `</think>` tokenizes as "<" + "/think>",
 *   ordinary pieces the model reads as text, on every backend.
 *
 * The rule is textual, not read from one vocabulary, so an engine that cannot list its model's special
 * tokens (a remote server) breaks exactly the same strings as one that can.
 */
export interface PromptPiece {
  text: string;
  /** Parse special-token texts into their tokens (trusted scaffolding only). */
  parseSpecial: boolean;
}

/**
 * Strings that look like a tokenizer's special or added tokens: `<…>` without spaces or angle brackets
 * inside (`<|im_end|>`, `</think>`, `<s>`, `<start_of_turn>`, `<|channel|>`, DeepSeek's `<｜User｜>`) and
 * bracketed capitals (`[THINK]`, `[/INST]`, `[SYSTEM_PROMPT]`).
 */
const SPECIAL_LIKE = /<[^<>\s]{1,64}>|\[\/?[A-Z][A-Z0-9_]{1,40}\]/g;

/** Judged text split so that no special-looking string survives whole in any piece. */
export function untrustedPieces(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const match of text.matchAll(SPECIAL_LIKE)) {
    const index = match.index ?? 0;
    // Cut right after the match's first character: "<" ends one piece, "/think>" starts the next.
    const cut = index + 1;
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces.filter((piece) => piece.length > 0);
}

/** The pieces of a rendered prompt, in order. */
export function promptPieces(prompt: readonly PromptSegment[]): PromptPiece[] {
  const pieces: PromptPiece[] = [];
  for (const segment of prompt) {
    if (segment.text.length === 0) continue;
    if (segment.trusted) pieces.push({ text: segment.text, parseSpecial: true });
    else for (const text of untrustedPieces(segment.text)) pieces.push({ text, parseSpecial: false });
  }
  return pieces;
}

/**
 * A tokenizer as the piece rule needs it: the engine's own (node-llama-cpp's model, a server's /tokenize).
 * `parseSpecial` false must still be the engine's real tokenization of ordinary text.
 */
export interface PieceTokenizer {
  tokenize(text: string, parseSpecial: boolean): Promise<number[]> | number[];
}

/** Tokenizes pieces one by one and joins the ids (no BOS: the engine adds it by its model's rule). */
export async function tokenizePieces(pieces: readonly PromptPiece[], tokenizer: PieceTokenizer): Promise<number[]> {
  const ids: number[] = [];
  for (const piece of pieces) {
    const tokens = await tokenizer.tokenize(piece.text, piece.parseSpecial);
    // A loop, not push(...tokens): a spread of a huge array overflows the call stack.
    for (const token of tokens) ids.push(token);
  }
  return ids;
}
