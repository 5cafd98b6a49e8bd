/**
 * The tiny model: a llama-architecture GGUF whose weights are constructed, not trained,
 * so that the next token depends only on the current token. It is a programmable
 * Markov chain over token texts, loaded and run by the real engine (llama.cpp through
 * node-llama-cpp), which lets tests check exact traces of budget forcing, parsing and
 * sampling without downloading anything. Its verdicts mean nothing.
 *
 * The weights are built by `markov-weights.ts` (shared with the shaped models, which carry a
 * real family's tokenizer instead of this file's made-up SentencePiece vocabulary); here they
 * are float32, and the fallback row (every token without a row of its own) sends everything
 * to `</s>`.
 *
 * Default greedy trajectory (`defaultTinySpec()`, see `TINY_TRAJECTORY`); the judge's
 * prompt ends with the assistant prefill "<think>\n", so the state after it is "\n":
 *
 *     "\n" → "Let" → " me" → " compare" → " both" → "." → "</think>"      5 thinking tokens
 *     "Wait" → "," → " check" → " again" → "." → "</think>"              after an injected "Wait"
 *     "</think>" → "[["
 *     "[[" → "A" (logit 3) | "B" (2) | "tie" (0) | "1".."9", "10" (1 each)   soft: P(A | A or B) = e³/(e³+e²) ≈ 0.731
 *     "A" | "B" | "tie" | digits → "]]" → "</s>"
 *     also "<think>" → "\n", so a prompt ending in "<think>" alone starts the same way.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { j1CacheDir } from "../cache-dir.js";
import { encodeGguf, gguf, type GgufMetadataEntry } from "./gguf.js";
import { fileSize, writeFileAtomically } from "./model-file.js";
import { markovHyperparameters, markovTensors, minMarkovWidth, resolveMarkovRows, type MarkovShape, type MarkovTransition } from "./markov-weights.js";

/** One entry of a row: the next token's text (e.g. " me", "</think>", "</s>", "\n") and its logit. */
export type TinyTransition = MarkovTransition;

export interface TinyModelSpec {
    name: string;
    /** Keys and `to` are token texts; each must be exactly one token of the built vocabulary. */
    transitions: Record<string, TinyTransition[]>;
    /** Words to add to the vocabulary (as single tokens) even if no transition mentions them. */
    extraWords?: string[];
    /** Write no `tokenizer.chat_template` (a GGUF without one, as some real ones are). */
    withoutChatTemplate?: boolean;
    /** `llama.context_length`; default 32768 (real benchmark prompts are thousands of byte tokens). */
    contextLength?: number;
    /** Logit of every token a state's row does not list; default -40 (effectively probability 0). */
    unlistedLogit?: number;
    /**
     * A verdict lens (markov-weights.ts `VerdictLens`): at state `at`, logit(plus) − logit(minus) moves by
     * gain × the mean weight of every token so far. Weighted tokens must have rows. Token texts as above.
     */
    lens?: { at: string; weights: Record<string, number>; plus: string; minus: string; gain: number };
}

/** One-line warning to print wherever the tiny model's output is shown. */
export const TINY_MODEL_NOTE =
    "Note: this is j1's tiny built-in model, a programmable Markov chain for tests and offline demos; its verdicts mean nothing.";

/** The logit the default spec uses for deterministic steps (greedy and sampling agree). */
export const TINY_SURE_LOGIT = 30;

/** Default verdict logits at "[[", chosen so that probabilities are known in closed form. */
export const TINY_VERDICT_LOGITS: Readonly<Record<string, number>> = Object.freeze({
    A: 3,
    B: 2,
    tie: 0,
    ...Object.fromEntries(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"].map((d) => [d, 1])),
});

/** Softmax of the default "[[" row: the exact next-token probabilities at "[[". */
export const TINY_VERDICT_PROBABILITIES: Readonly<Record<string, number>> = Object.freeze(
    (() => {
        const z = Object.values(TINY_VERDICT_LOGITS).reduce((s, l) => s + Math.exp(l), 0);
        return Object.fromEntries(Object.entries(TINY_VERDICT_LOGITS).map(([t, l]) => [t, Math.exp(l) / z]));
    })(),
);

/** The default greedy trajectory as data, so tests can assert exact traces. */
export const TINY_TRAJECTORY = Object.freeze({
    /** What the prompt ends with (the judge's assistant prefill); the state after it is "\n". */
    promptSuffix: "<think>\n",
    /** Thinking tokens generated before the first attempt to end thinking. */
    start: Object.freeze(["Let", " me", " compare", " both", "."]),
    /** The token budget forcing appends instead of "</think>". */
    wait: "Wait",
    /** Thinking tokens generated after an injected "Wait" (before the next "</think>"). */
    afterWait: Object.freeze([",", " check", " again", "."]),
    endThink: "</think>",
    /** Greedy answer after "</think>" (then the end-of-sequence token `eos`). */
    verdict: Object.freeze(["[[", "A", "]]"]),
    eos: "</s>",
    /** P(A | A or B) at "[[" = e³/(e³+e²). */
    pAGivenAOrB: Math.exp(3) / (Math.exp(3) + Math.exp(2)),
});

const sure = (to: string): TinyTransition[] => [{ to, logit: TINY_SURE_LOGIT }];

/** The spec behind `TINY_TRAJECTORY`. Returns a fresh object each call (callers may modify it). */
export function defaultTinySpec(): TinyModelSpec {
    const verdictTokens = Object.keys(TINY_VERDICT_LOGITS);
    const transitions: Record<string, TinyTransition[]> = {
        "<think>": sure("\n"),
        "\n": sure("Let"),
        Let: sure(" me"),
        " me": sure(" compare"),
        " compare": sure(" both"),
        " both": sure("."),
        ".": sure("</think>"),
        Wait: sure(","),
        ",": sure(" check"),
        " check": sure(" again"),
        " again": sure("."),
        "</think>": sure("[["),
        "[[": verdictTokens.map((to) => ({ to, logit: TINY_VERDICT_LOGITS[to] })),
        "]]": sure("</s>"),
    };
    for (const t of verdictTokens) transitions[t] = sure("]]");
    return { name: "j1-tiny", transitions, contextLength: 32768 };
}

// ---------------------------------------------------------------------------
// Vocabulary

/** llama.cpp token types (llama_token_type). */
const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, BYTE: 6 } as const;

const UNK = "<unk>";
const BOS = "<s>";
const EOS = "</s>";
const IM_START = "<|im_start|>";
const IM_END = "<|im_end|>";
const THINK = "<think>";
const END_THINK = "</think>";
/** SentencePiece writes spaces as U+2581 in pieces. */
const SPACE_PIECE = "\u2581";

const CHATML_TEMPLATE =
    "{% for message in messages %}" +
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
    "{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

function bytePiece(byte: number): string {
    return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/** A control character has no printable piece; like real SPM vocabularies, it is a byte token. */
function isByteText(text: string): boolean {
    if (text.length !== 1) return false;
    const c = text.charCodeAt(0);
    return c < 0x20 || c === 0x7f;
}

interface Vocab {
    pieces: string[];
    types: number[];
    scores: number[];
    /** piece → token id */
    ids: Map<string, number>;
    eosId: number;
    eotId: number;
}

function escapeSpaces(text: string): string {
    return text.replaceAll(" ", SPACE_PIECE);
}

/**
 * llama.cpp's SentencePiece (SPM) merge, for one run of text without special tokens:
 * start from single characters; repeatedly merge the adjacent pair whose concatenation
 * is a vocabulary piece with the highest score (ties: leftmost). Used to check, before
 * writing the model, that every word really comes out as one token.
 */
function spmSymbols(escapedText: string, scores: ReadonlyMap<string, number>): string[] {
    const symbols = Array.from(escapedText);
    for (;;) {
        let best = -1;
        let bestScore = -Infinity;
        for (let i = 0; i + 1 < symbols.length; i++) {
            const score = scores.get(symbols[i] + symbols[i + 1]);
            if (score !== undefined && score > bestScore) {
                best = i;
                bestScore = score;
            }
        }
        if (best < 0) return symbols;
        symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
    }
}

function buildVocab(words: readonly string[]): Vocab {
    const pieces: string[] = [];
    const types: number[] = [];
    const scores: number[] = [];
    const ids = new Map<string, number>();
    const add = (piece: string, type: number, score: number): void => {
        if (ids.has(piece)) return;
        ids.set(piece, pieces.length);
        pieces.push(piece);
        types.push(type);
        scores.push(score);
    };

    add(UNK, TokenType.UNKNOWN, 0);
    add(BOS, TokenType.CONTROL, 0);
    add(EOS, TokenType.CONTROL, 0);
    // Byte fallback: any text tokenizes, and "\n" is the byte token <0x0A>.
    for (let b = 0; b < 256; b++) add(bytePiece(b), TokenType.BYTE, 0);
    add(IM_START, TokenType.CONTROL, 0);
    add(IM_END, TokenType.CONTROL, 0);
    // USER_DEFINED tokens are matched in the raw text before SPM runs, even when special
    // tokens are not parsed, so "<think>" and "</think>" are always exactly one token.
    add(THINK, TokenType.USER_DEFINED, 0);
    add(END_THINK, TokenType.USER_DEFINED, 0);
    // Without a "▁" piece a lone space would fall back to the 3 UTF-8 bytes of "▁"
    // and detokenize as "▁", not " ".
    add(SPACE_PIECE, TokenType.NORMAL, 1);

    // Words: SPM only merges a pair when the concatenation is a piece, so each word
    // needs a chain of prefixes ("Wa", "Wai", "Wait"); the score is the length, so a
    // longer prefix always wins against the start of a chain elsewhere in the word.
    for (const word of words) {
        const chars = Array.from(escapeSpaces(word));
        for (let n = 2; n < chars.length; n++) add(chars.slice(0, n).join(""), TokenType.NORMAL, n);
        add(chars.join(""), TokenType.NORMAL, chars.length);
    }

    return { pieces, types, scores, ids, eosId: ids.get(EOS)!, eotId: ids.get(IM_END)! };
}

const SPECIAL_TEXTS = new Set([UNK, BOS, EOS, IM_START, IM_END, THINK, END_THINK]);

/** The texts that become word pieces: everything the spec names that is not special or a byte. */
function collectWords(spec: TinyModelSpec): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const consider = (text: string): void => {
        if (text === "") throw new Error("tiny model: empty token text");
        if (SPECIAL_TEXTS.has(text) || isByteText(text) || seen.has(text)) return;
        seen.add(text);
        out.push(text);
    };
    for (const [from, row] of Object.entries(spec.transitions)) {
        consider(from);
        for (const t of row) consider(t.to);
    }
    for (const w of spec.extraWords ?? []) consider(w);
    return out;
}

function tokenIdOf(vocab: Vocab, text: string): number {
    const piece = SPECIAL_TEXTS.has(text) ? text : isByteText(text) ? bytePiece(text.charCodeAt(0)) : escapeSpaces(text);
    const id = vocab.ids.get(piece);
    if (id === undefined) throw new Error(`tiny model: ${JSON.stringify(text)} is not a token`);
    return id;
}

/** Throws if some word would not tokenize to exactly its own piece. */
function checkWordsAreSingleTokens(words: readonly string[], vocab: Vocab): void {
    const scores = new Map<string, number>();
    vocab.pieces.forEach((p, i) => {
        if (vocab.types[i] === TokenType.NORMAL) scores.set(p, vocab.scores[i]);
    });
    for (const word of words) {
        for (const special of SPECIAL_TEXTS) {
            if (word.includes(special)) throw new Error(`tiny model: word ${JSON.stringify(word)} contains special token ${special}`);
        }
        const symbols = spmSymbols(escapeSpaces(word), scores);
        if (symbols.length !== 1) {
            throw new Error(
                `tiny model: word ${JSON.stringify(word)} would tokenize as ${JSON.stringify(symbols)}, not one token ` +
                    "(a piece of another word merges inside it; rename one of them)",
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Weights

// Attention contributes nothing (attn_output is zero) but llama.cpp still computes it, and
// its cost grows with the square of the prompt length times the number of heads. Real
// benchmark prompts are thousands of byte tokens: one 16-dim head (decoupled from n_embd
// through attention.key_length / value_length) made a 12k-token prompt ~4x faster than
// 4 heads of n_embd/4 on CPU.
const tinyShape = (nEmbd: number): MarkovShape => ({ nEmbd, nLayer: 2, nHead: 1, nHeadKv: 1, headDim: 16, nFf: 64 });
const FALLBACK_LOGIT = 30;
const DEFAULT_UNLISTED_LOGIT = -40;

/** The embedding width of a spec's model: a dimension per state, the fallback, and the lens's two. */
export function tinyWidth(spec: TinyModelSpec, states = Object.keys(spec.transitions).length): number {
    return minMarkovWidth(states + (spec.lens ? 2 : 0));
}

/** Builds the GGUF bytes of the tiny model (deterministic: same spec, same bytes). */
export function buildTinyModel(spec: TinyModelSpec = defaultTinySpec()): Buffer {
    const words = collectWords(spec);
    const vocab = buildVocab(words);
    checkWordsAreSingleTokens(words, vocab);
    const nVocab = vocab.pieces.length;

    const rows = resolveMarkovRows(spec.transitions, (text) => tokenIdOf(vocab, text), "tiny model");
    const shape = tinyShape(tinyWidth(spec, rows.length));
    const table = {
        rows,
        fallback: new Map([[vocab.eosId, FALLBACK_LOGIT]]),
        unlistedLogit: spec.unlistedLogit ?? DEFAULT_UNLISTED_LOGIT,
    };
    const id = (text: string) => tokenIdOf(vocab, text);
    const lens = spec.lens && {
        at: id(spec.lens.at),
        weights: new Map(Object.entries(spec.lens.weights).map(([text, weight]) => [id(text), weight])),
        plus: id(spec.lens.plus),
        minus: id(spec.lens.minus),
        gain: spec.lens.gain,
    };
    const tensors = markovTensors(table, nVocab, shape, "f32", lens);

    const metadata: GgufMetadataEntry[] = [
        { key: "general.architecture", value: gguf.str("llama") },
        { key: "general.name", value: gguf.str(spec.name) },
        { key: "general.file_type", value: gguf.u32(0) }, // all F32
        { key: "general.alignment", value: gguf.u32(32) },
        ...markovHyperparameters(shape, { contextLength: spec.contextLength ?? 32768, nVocab }),
        { key: "tokenizer.ggml.model", value: gguf.str("llama") },
        { key: "tokenizer.ggml.tokens", value: gguf.strs(vocab.pieces) },
        { key: "tokenizer.ggml.scores", value: gguf.f32s(vocab.scores) },
        { key: "tokenizer.ggml.token_type", value: gguf.i32s(vocab.types) },
        { key: "tokenizer.ggml.unknown_token_id", value: gguf.u32(vocab.ids.get(UNK)!) },
        { key: "tokenizer.ggml.bos_token_id", value: gguf.u32(vocab.ids.get(BOS)!) },
        { key: "tokenizer.ggml.eos_token_id", value: gguf.u32(vocab.eosId) },
        { key: "tokenizer.ggml.eot_token_id", value: gguf.u32(vocab.eotId) },
        { key: "tokenizer.ggml.add_bos_token", value: gguf.bool(true) },
        { key: "tokenizer.ggml.add_eos_token", value: gguf.bool(false) },
        { key: "tokenizer.ggml.add_space_prefix", value: gguf.bool(false) },
        ...(spec.withoutChatTemplate ? [] : [{ key: "tokenizer.chat_template", value: gguf.str(CHATML_TEMPLATE) }]),
    ];
    return encodeGguf(metadata, tensors);
}

/** Builds the tiny model and writes it to `path` (parent directories are created). */
export async function writeTinyModel(path: string, spec?: TinyModelSpec): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, buildTinyModel(spec));
}

/**
 * Returns the path of `<cacheDir>/models/tiny-<sha256 prefix>.gguf`, writing it first if it
 * is absent. The name comes from the bytes, so a changed spec or builder gets a new file,
 * and writing goes through a temporary file + rename so concurrent callers never see a
 * partial model.
 */
export async function ensureTinyModel(options: { cacheDir?: string; spec?: TinyModelSpec } = {}): Promise<string> {
    const bytes = buildTinyModel(options.spec);
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
    const path = join(options.cacheDir ?? j1CacheDir(), "models", `tiny-${hash}.gguf`);
    if ((await fileSize(path)) !== bytes.length) await writeFileAtomically(path, [bytes]);
    return path;
}
