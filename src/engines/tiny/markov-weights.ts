/**
 * Weights that make a llama-architecture model a programmable Markov chain: its next token depends only
 * on the current token, through a table of logits. Shared by the tiny model (its own made-up vocabulary)
 * and the shaped models (a real family's tokenizer and template): only the vocabulary differs.
 *
 * How the weights make a next-token table:
 * - `attn_output` and `ffn_down` are all zero, so no layer adds anything to the residual stream: the
 *   final hidden state is the current token's embedding. The other layer weights are zero too, but they
 *   are still multiplied, so a wide, deep build costs what a model of that shape costs.
 * - `token_embd` is one-hot: each "state" token (a row of the table) has its own dimension k; every other
 *   token shares one fallback dimension.
 * - The final RMSNorm turns the one-hot e_k into e_k / s with s = sqrt(1/n_embd + eps). That factor is
 *   undone in one of two places, by precision:
 *   - "f32" (the tiny model): `output.weight[next][k] = logit * s`, so the logit comes out exact (to
 *     float32 rounding, ~1e-7 relative).
 *   - "f16" (shaped models; half the bytes for the big vocabulary-sized tensors): `output_norm.weight = s`
 *     (a float32 tensor), so the hidden state is 1.0 and `output.weight[next][k] = logit` itself. The
 *     logits applied are then exactly the half-precision values of the table's logits (`storedLogit`):
 *     exact for whole numbers up to 2048 and for halves, quarters, ... of small ones. Scaling by s inside
 *     half precision instead would cost ~5e-4 relative on every logit.
 * - In a state's row, tokens the row does not list get `unlistedLogit` (-40 in j1's specs), so the
 *   next-token distribution is the softmax over the listed logits alone (the rest sums to ~1e-13 even
 *   over a 200,000-token vocabulary).
 */
import { f16ToF32, f32ToF16, gguf, type GgufMetadataEntry, type GgufTensor } from "./gguf.js";

export interface MarkovTransition {
    /** Token text of the next token, e.g. " me", "</think>", "\n". */
    to: string;
    logit: number;
}

/** The table with token ids resolved: each state is its own embedding dimension, in the order given. */
export interface MarkovTable {
    rows: ReadonlyArray<{ state: number; logits: ReadonlyMap<number, number> }>;
    /** The row of every token that has none of its own. */
    fallback: ReadonlyMap<number, number>;
    /** Logit of every token a row does not list. */
    unlistedLogit: number;
}

/** The model's dimensions. The weights are all zero except the embedding, the norms and the output. */
export interface MarkovShape {
    nEmbd: number;
    nLayer: number;
    nHead: number;
    nHeadKv: number;
    /** Attention head size (decoupled from n_embd through attention.key_length / value_length). */
    headDim: number;
    nFf: number;
}

export type MarkovPrecision = "f32" | "f16";

export const MARKOV_RMS_EPS = 1e-5;

/**
 * Resolves a table keyed by token texts into token ids, with the errors a spec author needs: a text that
 * is not one token (from `tokenId`, which throws), a state with two rows, a target listed twice in one
 * row, a logit that is not finite. `label` starts each message ("tiny model", "shaped model (qwen3)").
 */
export function resolveMarkovRows(
    transitions: Readonly<Record<string, readonly MarkovTransition[]>>,
    tokenId: (text: string) => number,
    label: string,
): Array<{ state: number; logits: Map<number, number> }> {
    const seen = new Set<number>();
    const rows: Array<{ state: number; logits: Map<number, number> }> = [];
    for (const [from, row] of Object.entries(transitions)) {
        const state = tokenId(from);
        if (seen.has(state)) throw new Error(`${label}: two transition rows for token ${JSON.stringify(from)}`);
        seen.add(state);
        const logits = new Map<number, number>();
        for (const { to, logit } of row) {
            const id = tokenId(to);
            if (logits.has(id)) throw new Error(`${label}: ${JSON.stringify(to)} listed twice in one row`);
            if (!Number.isFinite(logit)) throw new Error(`${label}: logit for ${JSON.stringify(to)} is not finite`);
            logits.set(id, logit);
        }
        rows.push({ state, logits });
    }
    return rows;
}

/** The narrowest embedding that holds one dimension per state plus the fallback: a multiple of 32, at least 64. */
export function minMarkovWidth(states: number): number {
    return Math.max(64, Math.ceil((states + 1) / 32) * 32);
}

/** The logit a table entry really applies at `precision` (f16: the nearest half-precision value). */
export function storedLogit(logit: number, precision: MarkovPrecision): number {
    return precision === "f16" ? f16ToF32(f32ToF16(logit)) : logit;
}

/**
 * The model's tensors, in the order llama.cpp's converters write them: embedding, output norm, output,
 * then each layer. Vocabulary-sized tensors and layer matrices use `precision`; norms are always F32.
 */
export function markovTensors(table: MarkovTable, nVocab: number, shape: MarkovShape, precision: MarkovPrecision): GgufTensor[] {
    const { nEmbd } = shape;
    const fallbackDim = table.rows.length;
    if (fallbackDim + 1 > nEmbd) {
        throw new Error(`markov weights: ${table.rows.length} states need an embedding of at least ${fallbackDim + 1}, got ${nEmbd}`);
    }
    const stateDim = new Map<number, number>();
    table.rows.forEach(({ state }, dim) => {
        if (state < 0 || state >= nVocab) throw new Error(`markov weights: state token ${state} is outside the vocabulary`);
        stateDim.set(state, dim);
    });
    const columns = [...table.rows.map((r) => r.logits), table.fallback];
    for (const logits of columns) {
        for (const id of logits.keys()) if (id < 0 || id >= nVocab) throw new Error(`markov weights: token ${id} is outside the vocabulary`);
    }
    // Undo the final RMSNorm's scaling of a one-hot vector, so logits come out exact.
    const s = Math.sqrt(1 / nEmbd + MARKOV_RMS_EPS);
    const nAttn = shape.nHead * shape.headDim;
    const nAttnKv = shape.nHeadKv * shape.headDim;
    const matrix = (name: string, cols: number, rows: number): GgufTensor =>
        precision === "f16"
            ? { name, dims: [cols, rows], type: "f16", data: new Uint16Array(cols * rows) }
            : { name, dims: [cols, rows], data: new Float32Array(cols * rows) };
    const vector = (name: string, value: number): GgufTensor => ({ name, dims: [nEmbd], data: new Float32Array(nEmbd).fill(value) });

    const tokenEmbd = matrix("token_embd.weight", nEmbd, nVocab);
    const output = matrix("output.weight", nEmbd, nVocab);
    if (precision === "f16") {
        const one = f32ToF16(1);
        const embd = tokenEmbd.data as Uint16Array;
        for (let t = 0; t < nVocab; t++) embd[t * nEmbd + (stateDim.get(t) ?? fallbackDim)] = one;
        const out = output.data as Uint16Array;
        const unlisted = f32ToF16(table.unlistedLogit);
        columns.forEach((logits, dim) => {
            for (let t = 0; t < nVocab; t++) out[t * nEmbd + dim] = unlisted;
            for (const [t, logit] of logits) out[t * nEmbd + dim] = f32ToF16(logit);
        });
    } else {
        const embd = tokenEmbd.data as Float32Array;
        for (let t = 0; t < nVocab; t++) embd[t * nEmbd + (stateDim.get(t) ?? fallbackDim)] = 1;
        const out = output.data as Float32Array;
        columns.forEach((logits, dim) => {
            for (let t = 0; t < nVocab; t++) out[t * nEmbd + dim] = (logits.get(t) ?? table.unlistedLogit) * s;
        });
    }

    const tensors: GgufTensor[] = [tokenEmbd, vector("output_norm.weight", precision === "f16" ? s : 1), output];
    for (let l = 0; l < shape.nLayer; l++) {
        const p = `blk.${l}.`;
        tensors.push(
            vector(`${p}attn_norm.weight`, 1),
            matrix(`${p}attn_q.weight`, nEmbd, nAttn),
            matrix(`${p}attn_k.weight`, nEmbd, nAttnKv),
            matrix(`${p}attn_v.weight`, nEmbd, nAttnKv),
            // Zero: attention must not change the residual stream.
            matrix(`${p}attn_output.weight`, nAttn, nEmbd),
            vector(`${p}ffn_norm.weight`, 1),
            matrix(`${p}ffn_gate.weight`, nEmbd, shape.nFf),
            matrix(`${p}ffn_up.weight`, nEmbd, shape.nFf),
            // Zero: the feed-forward block must not change the residual stream either.
            matrix(`${p}ffn_down.weight`, shape.nFf, nEmbd),
        );
    }
    return tensors;
}

/** The `llama.*` hyperparameters that go with `markovTensors`. */
export function markovHyperparameters(shape: MarkovShape, options: { contextLength: number; nVocab: number }): GgufMetadataEntry[] {
    return [
        { key: "llama.context_length", value: gguf.u32(options.contextLength) },
        { key: "llama.embedding_length", value: gguf.u32(shape.nEmbd) },
        { key: "llama.block_count", value: gguf.u32(shape.nLayer) },
        { key: "llama.feed_forward_length", value: gguf.u32(shape.nFf) },
        { key: "llama.attention.head_count", value: gguf.u32(shape.nHead) },
        { key: "llama.attention.head_count_kv", value: gguf.u32(shape.nHeadKv) },
        { key: "llama.attention.key_length", value: gguf.u32(shape.headDim) },
        { key: "llama.attention.value_length", value: gguf.u32(shape.headDim) },
        { key: "llama.rope.dimension_count", value: gguf.u32(shape.headDim) },
        { key: "llama.rope.freq_base", value: gguf.f32(10000) },
        { key: "llama.attention.layer_norm_rms_epsilon", value: gguf.f32(MARKOV_RMS_EPS) },
        { key: "llama.vocab_size", value: gguf.u32(options.nVocab) },
    ];
}
