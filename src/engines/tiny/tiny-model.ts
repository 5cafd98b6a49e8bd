/**
 * The tiny model: a llama-architecture GGUF whose weights are constructed, not trained,
 * so that the next token depends only on the current token. It is a programmable
 * Markov chain over token texts, loaded and run by the real engine (llama.cpp through
 * node-llama-cpp), which lets tests check exact traces of budget forcing, parsing and
 * sampling without downloading anything. Its verdicts mean nothing.
 *
 * How the weights make a next-token table:
 * - `attn_output` and `ffn_down` are all zero, so no layer adds anything to the residual
 *   stream: the final hidden state is the current token's embedding.
 * - `token_embd` is one-hot: each "state" token (a key of `spec.transitions`) has its own
 *   dimension k; every other token shares one fallback dimension.
 * - The final RMSNorm turns the one-hot e_k into e_k / sqrt(1/n_embd + eps), so
 *   `output.weight[next][k] = logit * sqrt(1/n_embd + eps)` yields exactly `logit`.
 * - In a state's row, tokens that the row does not list get `unlistedLogit` (default -40),
 *   so the next-token distribution is the softmax over the listed logits alone (the rest
 *   sums to ~1e-15). The fallback row sends everything to `</s>`.
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
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { j1CacheDir } from "../cache-dir.js";
import { encodeGguf, gguf, type GgufMetadataEntry, type GgufTensor } from "./gguf.js";

export interface TinyTransition {
    /** Token text of the next token, e.g. " me", "</think>", "</s>", "\n". */
    to: string;
    logit: number;
}

export interface TinyModelSpec {
    name: string;
    /** Keys and `to` are token texts; each must be exactly one token of the built vocabulary. */
    transitions: Record<string, TinyTransition[]>;
    /** Words to add to the vocabulary (as single tokens) even if no transition mentions them. */
    extraWords?: string[];
    /** `llama.context_length`; default 32768 (real benchmark prompts are thousands of byte tokens). */
    contextLength?: number;
    /** Logit of every token a state's row does not list; default -40 (effectively probability 0). */
    unlistedLogit?: number;
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

const N_LAYER = 2;
// Attention contributes nothing (attn_output is zero) but llama.cpp still computes it, and
// its cost grows with the square of the prompt length times the number of heads. Real
// benchmark prompts are thousands of byte tokens: one 16-dim head (decoupled from n_embd
// through attention.key_length / value_length) made a 12k-token prompt ~4x faster than
// 4 heads of n_embd/4 on CPU.
const N_HEAD = 1;
const HEAD_DIM = 16;
const N_FF = 64;
const RMS_EPS = 1e-5;
const FALLBACK_LOGIT = 30;
const DEFAULT_UNLISTED_LOGIT = -40;

/** Builds the GGUF bytes of the tiny model (deterministic: same spec, same bytes). */
export function buildTinyModel(spec: TinyModelSpec = defaultTinySpec()): Buffer {
    const words = collectWords(spec);
    const vocab = buildVocab(words);
    checkWordsAreSingleTokens(words, vocab);
    const nVocab = vocab.pieces.length;

    // State token id → its own embedding dimension; everything else → the fallback dimension.
    const stateDim = new Map<number, number>();
    const rows: Array<{ dim: number; row: TinyTransition[] }> = [];
    for (const [from, row] of Object.entries(spec.transitions)) {
        const id = tokenIdOf(vocab, from);
        if (stateDim.has(id)) throw new Error(`tiny model: two transition rows for token ${JSON.stringify(from)}`);
        stateDim.set(id, stateDim.size);
        rows.push({ dim: stateDim.size - 1, row });
    }
    const fallbackDim = stateDim.size;
    // One dimension per state plus the fallback; a multiple of 32 keeps tensor rows SIMD-friendly.
    const nEmbd = Math.max(64, Math.ceil((fallbackDim + 1) / 32) * 32);
    const nAttn = N_HEAD * HEAD_DIM;
    const unlisted = spec.unlistedLogit ?? DEFAULT_UNLISTED_LOGIT;
    // Undo the final RMSNorm's scaling of a one-hot vector, so logits come out exact.
    const scale = Math.sqrt(1 / nEmbd + RMS_EPS);

    const tokenEmbd = new Float32Array(nVocab * nEmbd);
    for (let t = 0; t < nVocab; t++) tokenEmbd[t * nEmbd + (stateDim.get(t) ?? fallbackDim)] = 1;

    const output = new Float32Array(nVocab * nEmbd);
    const setColumn = (dim: number, logits: ReadonlyMap<number, number>): void => {
        for (let t = 0; t < nVocab; t++) output[t * nEmbd + dim] = (logits.get(t) ?? unlisted) * scale;
    };
    for (const { dim, row } of rows) {
        const logits = new Map<number, number>();
        for (const { to, logit } of row) {
            const id = tokenIdOf(vocab, to);
            if (logits.has(id)) throw new Error(`tiny model: ${JSON.stringify(to)} listed twice in one row`);
            if (!Number.isFinite(logit)) throw new Error(`tiny model: logit for ${JSON.stringify(to)} is not finite`);
            logits.set(id, logit);
        }
        setColumn(dim, logits);
    }
    setColumn(fallbackDim, new Map([[vocab.eosId, FALLBACK_LOGIT]]));

    const ones = (): Float32Array => new Float32Array(nEmbd).fill(1);
    const zeros = (n: number): Float32Array => new Float32Array(n);
    const tensors: GgufTensor[] = [
        { name: "token_embd.weight", dims: [nEmbd, nVocab], data: tokenEmbd },
        { name: "output_norm.weight", dims: [nEmbd], data: ones() },
        { name: "output.weight", dims: [nEmbd, nVocab], data: output },
    ];
    for (let l = 0; l < N_LAYER; l++) {
        const p = `blk.${l}.`;
        tensors.push(
            { name: `${p}attn_norm.weight`, dims: [nEmbd], data: ones() },
            { name: `${p}attn_q.weight`, dims: [nEmbd, nAttn], data: zeros(nEmbd * nAttn) },
            { name: `${p}attn_k.weight`, dims: [nEmbd, nAttn], data: zeros(nEmbd * nAttn) },
            { name: `${p}attn_v.weight`, dims: [nEmbd, nAttn], data: zeros(nEmbd * nAttn) },
            // Zero: attention must not change the residual stream.
            { name: `${p}attn_output.weight`, dims: [nAttn, nEmbd], data: zeros(nAttn * nEmbd) },
            { name: `${p}ffn_norm.weight`, dims: [nEmbd], data: ones() },
            { name: `${p}ffn_gate.weight`, dims: [nEmbd, N_FF], data: zeros(nEmbd * N_FF) },
            { name: `${p}ffn_up.weight`, dims: [nEmbd, N_FF], data: zeros(nEmbd * N_FF) },
            // Zero: the feed-forward block must not change the residual stream either.
            { name: `${p}ffn_down.weight`, dims: [N_FF, nEmbd], data: zeros(N_FF * nEmbd) },
        );
    }

    const metadata: GgufMetadataEntry[] = [
        { key: "general.architecture", value: gguf.str("llama") },
        { key: "general.name", value: gguf.str(spec.name) },
        { key: "general.file_type", value: gguf.u32(0) }, // all F32
        { key: "general.alignment", value: gguf.u32(32) },
        { key: "llama.context_length", value: gguf.u32(spec.contextLength ?? 32768) },
        { key: "llama.embedding_length", value: gguf.u32(nEmbd) },
        { key: "llama.block_count", value: gguf.u32(N_LAYER) },
        { key: "llama.feed_forward_length", value: gguf.u32(N_FF) },
        { key: "llama.attention.head_count", value: gguf.u32(N_HEAD) },
        { key: "llama.attention.head_count_kv", value: gguf.u32(N_HEAD) },
        { key: "llama.attention.key_length", value: gguf.u32(HEAD_DIM) },
        { key: "llama.attention.value_length", value: gguf.u32(HEAD_DIM) },
        { key: "llama.rope.dimension_count", value: gguf.u32(HEAD_DIM) },
        { key: "llama.rope.freq_base", value: gguf.f32(10000) },
        { key: "llama.attention.layer_norm_rms_epsilon", value: gguf.f32(RMS_EPS) },
        { key: "llama.vocab_size", value: gguf.u32(nVocab) },
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
        { key: "tokenizer.chat_template", value: gguf.str(CHATML_TEMPLATE) },
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
    const dir = join(options.cacheDir ?? j1CacheDir(), "models");
    const path = join(dir, `tiny-${hash}.gguf`);
    try {
        if ((await stat(path)).size === bytes.length) return path;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
        await writeFile(tmp, bytes);
        await rename(tmp, path);
    } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
    }
    return path;
}
