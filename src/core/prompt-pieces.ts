import { J1Error } from "./errors.js";
import type { PromptSegment } from "./template.js";

/**
 * How a rendered prompt becomes token ids, the same way on every engine (so the same judgment feeds the
 * same ids in process and over HTTP). A prompt is a list of pieces, each tokenized on its own and the ids
 * joined in order:
 * - trusted scaffolding (the chat template's turns, j1's instructions) with special-token parsing on, so
 *   `<|im_start|>` is the real control token;
 * - judged text with special-token parsing off, and every occurrence of one of the vocabulary's added
 *   tokens (control, user-defined, unknown: `</think>`, `<|channel|>`, `</s>`, `[multimodal]`) broken
 *   after its first character. Parsing off is not enough: llama.cpp (and Hugging Face tokenizers) match
 *   user-defined added tokens such as Qwen3's `</think>` even then. Broken, `</think>` tokenizes as
 *   "<" + "/think>", ordinary pieces the model reads as text, on every backend.
 *
 * What to break comes from the vocabulary (`PieceVocabulary.addedTokens`), so a string that only looks
 * special (`vector<int>`) is left whole and one that does not look special (`[multimodal]`) is broken.
 * Only where the vocabulary is not known (a remote server that does not tell) does a pattern stand in.
 *
 * SentencePiece vocabularies with a space prefix (Llama 2, Mistral v0.1) put "▁" before every separately
 * tokenized text: each piece after the first is tokenized as a continuation (`continuationIds`), so the
 * ids are those of the whole text and judged text reaches the model unaltered (`</s>` not `< /s>`).
 */
export interface PromptPiece {
  text: string;
  /** Parse special-token texts into their tokens (trusted scaffolding only). */
  parseSpecial: boolean;
}

/** What the piece rule needs to know of a model's vocabulary. */
export interface PieceVocabulary {
  /**
   * The texts of the vocabulary's added tokens (control, user-defined, unknown). Undefined when the
   * vocabulary is not known: special-looking strings (`SPECIAL_LIKE`) are broken instead.
   */
  addedTokens?: readonly string[];
  /** SentencePiece with a space prefix: every separately tokenized text gets a leading "▁" (`detectSpacePrefix`). */
  spacePrefix?: boolean;
}

/**
 * Strings that look like a tokenizer's special or added tokens: `<…>` without spaces or angle brackets
 * inside (`<|im_end|>`, `</think>`, `<s>`, `<start_of_turn>`, `<|channel|>`, DeepSeek's `<｜User｜>`) and
 * bracketed capitals (`[THINK]`, `[/INST]`, `[SYSTEM_PROMPT]`). The stand-in where the vocabulary is unknown.
 */
const SPECIAL_LIKE = /<[^<>\s]{1,64}>|\[\/?[A-Z][A-Z0-9_]{1,40}\]/g;

/**
 * The added tokens worth breaking: a single character cannot be broken, and a whitespace-only token
 * (some vocabularies add runs of spaces or tabs) is how the model always read that text.
 */
export function breakableTokens(texts: Iterable<string>): string[] {
  const kept = new Set<string>();
  for (const text of texts) if ([...text].length > 1 && text.trim().length > 0) kept.add(text);
  return [...kept];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** One regular expression per vocabulary (a few thousand alternatives at most), built once. */
const matchers = new WeakMap<readonly string[], RegExp | null>();

function matcherOf(vocabulary: PieceVocabulary | undefined): RegExp | null {
  const added = vocabulary?.addedTokens;
  if (added === undefined) return new RegExp(SPECIAL_LIKE.source, "g");
  let matcher = matchers.get(added);
  if (matcher === undefined) {
    // Longest first, so a token that begins another (`<|im` in `<|im_end|>`) does not hide it.
    const texts = breakableTokens(added).sort((x, y) => y.length - x.length);
    matcher = texts.length === 0 ? null : new RegExp(texts.map(escapeRegExp).join("|"), "gu");
    matchers.set(added, matcher);
  }
  if (matcher) matcher.lastIndex = 0;
  return matcher;
}

/**
 * Judged text split so that no piece holds an added token whole. Each cut is right after the first
 * character of the leftmost token found, and the search goes on from the cut (not from the token's end),
 * so a token inside a broken one (`s>` in `</s>`) is found as well.
 */
export function untrustedPieces(text: string, vocabulary?: PieceVocabulary): string[] {
  const matcher = matcherOf(vocabulary);
  const pieces: string[] = [];
  let start = 0;
  if (matcher) {
    for (;;) {
      const match = matcher.exec(text);
      if (!match) break;
      // Cut after the match's first character (a code point: never split a surrogate pair).
      const cut = match.index + String.fromCodePoint(match[0].codePointAt(0) ?? 0).length;
      pieces.push(text.slice(start, cut));
      start = cut;
      matcher.lastIndex = cut;
    }
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces.filter((piece) => piece.length > 0);
}

/** The pieces of a rendered prompt, in order. */
export function promptPieces(prompt: readonly PromptSegment[], vocabulary?: PieceVocabulary): PromptPiece[] {
  const pieces: PromptPiece[] = [];
  for (const segment of prompt) {
    if (segment.text.length === 0) continue;
    if (segment.trusted) pieces.push({ text: segment.text, parseSpecial: true });
    else for (const text of untrustedPieces(segment.text, vocabulary)) pieces.push({ text, parseSpecial: false });
  }
  return pieces;
}

/** The pieces of injected text (the wait text, `</think>`, `[[`): trusted, or by the judged-text rule. */
export function injectedPieces(text: string, trusted: boolean, vocabulary?: PieceVocabulary): PromptPiece[] {
  return promptPieces([{ text, trusted }], vocabulary);
}

/**
 * A tokenizer as the piece rule needs it: the engine's own (node-llama-cpp's model, a server's /tokenize).
 * `parseSpecial` false must still be the engine's real tokenization of ordinary text.
 */
export interface PieceTokenizer {
  tokenize(text: string, parseSpecial: boolean): Promise<number[]> | number[];
}

/**
 * Texts put before a continuation to absorb a space prefix: each is a character that SentencePiece
 * vocabularies do not merge with its neighbours (a byte-fallback token in Llama 2 and Mistral).
 */
const PROBES = ["\n", "\t", "\u0001"];

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  return prefix.length <= ids.length && prefix.every((id, index) => ids[index] === id);
}

/**
 * The ids of `text` where it continues other text: as the tokenizer gives them for `probe + text`, less
 * the probe's own ids. Where the probe's ids are an exact prefix, nothing merged across it, so the rest is
 * `text` tokenized with no space prefix of its own (SentencePiece merges are local). Undefined when every
 * probe merged with the text.
 */
async function probedContinuation(text: string, parseSpecial: boolean, tokenizer: PieceTokenizer): Promise<number[] | undefined> {
  for (const probe of PROBES) {
    const base = await tokenizer.tokenize(probe, false);
    const ids = await tokenizer.tokenize(probe + text, parseSpecial);
    if (base.length > 0 && startsWith(ids, base)) return ids.slice(base.length);
  }
  return undefined;
}

/**
 * Whether the tokenizer puts a space before every separately tokenized text (SentencePiece with
 * `add_space_prefix`, as Llama 2 and Mistral v0.1): "a" alone then differs from "a" as a continuation.
 * Asked of the tokenizer itself, so an engine and a server serving the same model agree.
 */
export async function detectSpacePrefix(tokenizer: PieceTokenizer): Promise<boolean> {
  const alone = await tokenizer.tokenize("a", false);
  const continued = await probedContinuation("a", false, tokenizer);
  return continued !== undefined && !(continued.length === alone.length && startsWith(alone, continued));
}

/** `text`'s ids where it continues a sequence (an injected text, a prompt piece after the first). */
export async function continuationIds(text: string, parseSpecial: boolean, tokenizer: PieceTokenizer, vocabulary?: PieceVocabulary): Promise<number[]> {
  if (!vocabulary?.spacePrefix || text.length === 0) return [...(await tokenizer.tokenize(text, parseSpecial))];
  const ids = await probedContinuation(text, parseSpecial, tokenizer);
  if (ids === undefined) throw new J1Error("engine", `cannot tokenize ${JSON.stringify(text.slice(0, 40))} without the vocabulary's space prefix: every probe merged with it`);
  return ids;
}

/**
 * Whether a trusted piece ends with a special token, after which SentencePiece adds a space prefix again
 * (llama.cpp: `is_prev_special`), as it would in the whole text.
 */
function endsWithSpecial(piece: PromptPiece, vocabulary: PieceVocabulary): boolean {
  if (!piece.parseSpecial) return false;
  const added = vocabulary.addedTokens;
  if (added === undefined) return /(?:<[^<>\s]{1,64}>|\[\/?[A-Z][A-Z0-9_]{1,40}\])$/.test(piece.text);
  return added.some((token) => token.length > 0 && piece.text.endsWith(token));
}

/**
 * Tokenizes pieces one by one and joins the ids (no BOS: the engine adds it by its model's rule). With a
 * space-prefix vocabulary, a piece after the first is a continuation, unless the piece before it ended
 * with a special token: then the prefix is what the whole text would get there too.
 */
export async function tokenizePieces(pieces: readonly PromptPiece[], tokenizer: PieceTokenizer, vocabulary: PieceVocabulary = {}): Promise<number[]> {
  // Each piece on its own (in parallel where the tokenizer is a server), joined in order.
  const tokenized = await Promise.all(
    pieces.map((piece, index) => {
      const previous = pieces[index - 1];
      const continues = vocabulary.spacePrefix === true && previous !== undefined && !endsWithSpecial(previous, vocabulary);
      return continues ? continuationIds(piece.text, piece.parseSpecial, tokenizer, vocabulary) : tokenizer.tokenize(piece.text, piece.parseSpecial);
    }),
  );
  const ids: number[] = [];
  // A loop, not push(...tokens): a spread of a huge array overflows the call stack.
  for (const tokens of tokenized) for (const token of tokens) ids.push(token);
  return ids;
}

/** Injected text's ids (it always continues the sequence): by the judged-text rule unless trusted. */
export async function tokenizeInjected(text: string, trusted: boolean, tokenizer: PieceTokenizer, vocabulary: PieceVocabulary = {}): Promise<number[]> {
  const ids: number[] = [];
  for (const piece of injectedPieces(text, trusted, vocabulary)) {
    for (const token of await continuationIds(piece.text, piece.parseSpecial, tokenizer, vocabulary)) ids.push(token);
  }
  return ids;
}
