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

/**
 * A verdict lens (f32 only): the one place the chain gets a memory. At the `at` state (the verdict
 * position, "[["), the logit of `plus` minus that of `minus` moves by `gain` × F, where F is the mean over
 * every token so far (the prompt included) of each token's weight (`weights`; unlisted tokens weigh 0).
 * So a verdict can depend on what the item says and on how many waits were injected, while every other
 * step stays the plain table.
 *
 * How: layer 0's attention has zero queries and keys, so its scores are all 0 and it averages the values
 * over the causal window exactly; the value of a weighted token is its weight, written into a dimension
 * F. Layer 0's feed-forward block gates F on the `at` state (silu(0) = 0, so elsewhere it adds nothing)
 * into a dimension G, and the output reads G for `plus` and `minus`. Weighted tokens must be states (have
 * their own embedding dimension).
 */
export interface VerdictLens {
    at: number;
    weights: ReadonlyMap<number, number>;
    plus: number;
    minus: number;
    gain: number;
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
export function markovTensors(table: MarkovTable, nVocab: number, shape: MarkovShape, precision: MarkovPrecision, lens?: VerdictLens): GgufTensor[] {
    const { nEmbd } = shape;
    const fallbackDim = table.rows.length;
    if (lens && precision !== "f32") throw new Error("markov weights: a verdict lens needs f32 weights");
    if (fallbackDim + 1 + (lens ? 2 : 0) > nEmbd) {
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
        const layer = {
            v: matrix(`${p}attn_v.weight`, nEmbd, nAttnKv),
            // Zero (without a lens): attention must not change the residual stream.
            o: matrix(`${p}attn_output.weight`, nAttn, nEmbd),
            gate: matrix(`${p}ffn_gate.weight`, nEmbd, shape.nFf),
            up: matrix(`${p}ffn_up.weight`, nEmbd, shape.nFf),
            // Zero (without a lens): the feed-forward block must not change the residual stream either.
            down: matrix(`${p}ffn_down.weight`, shape.nFf, nEmbd),
        };
        if (lens && l === 0) writeLens(lens, layer, output, { nEmbd, fallbackDim, stateDim, s });
        tensors.push(
            vector(`${p}attn_norm.weight`, 1),
            matrix(`${p}attn_q.weight`, nEmbd, nAttn),
            matrix(`${p}attn_k.weight`, nEmbd, nAttnKv),
            layer.v,
            layer.o,
            vector(`${p}ffn_norm.weight`, 1),
            layer.gate,
            layer.up,
            layer.down,
        );
    }
    return tensors;
}

/** The dimensions a lens writes: F (the mean weight) and G (F gated on the verdict state), after the fallback. */
function lensDims(fallbackDim: number): { f: number; g: number } {
    return { f: fallbackDim + 1, g: fallbackDim + 2 };
}

/**
 * Writes the lens into layer 0 and the output (row-major: element [row][col] of a [cols, rows] tensor is
 * data[row * cols + col]). The scales undo the RMSNorms to first order, so Δ ≈ gain × F;
 * `lensLogitShift` gives the exact value.
 */
function writeLens(
    lens: VerdictLens,
    layer: { v: GgufTensor; o: GgufTensor; gate: GgufTensor; up: GgufTensor; down: GgufTensor },
    output: GgufTensor,
    at: { nEmbd: number; fallbackDim: number; stateDim: ReadonlyMap<number, number>; s: number },
): void {
    const { f, g } = lensDims(at.fallbackDim);
    const dimOf = (token: number, what: string) => {
        const dim = at.stateDim.get(token);
        if (dim === undefined) throw new Error(`markov weights: the lens's ${what} token ${token} must be a state (give it a row)`);
        return dim;
    };
    const v = layer.v.data as Float32Array;
    // The attention input is e_k / s (attn_norm of a one-hot), so weight × s makes the value the weight.
    for (const [token, weight] of lens.weights) v[0 * at.nEmbd + dimOf(token, "weighted")] = weight * at.s;
    const o = layer.o.data as Float32Array;
    const nAttn = layer.o.dims[0];
    o[f * nAttn + 0] = 1;
    // Gate on the verdict state (its input is ~1/s there, 0 elsewhere), up reads F (~F/s), down scales back.
    (layer.gate.data as Float32Array)[0 * at.nEmbd + dimOf(lens.at, "verdict-state")] = 1;
    (layer.up.data as Float32Array)[0 * at.nEmbd + f] = 1;
    const nFf = layer.down.dims[0];
    (layer.down.data as Float32Array)[g * nFf + 0] = at.s * at.s * at.s;
    const out = output.data as Float32Array;
    out[lens.plus * at.nEmbd + g] = lens.gain / 2;
    out[lens.minus * at.nEmbd + g] = -lens.gain / 2;
}

/**
 * The exact logit shift (plus minus minus) a lens applies at its state, for a mean weight F over the
 * window: the same arithmetic as the model's (in doubles), so tests can predict the engine's probabilities.
 * `baseLogit` is the state's own logit for plus and minus (assumed equal), scaled by the final norm too.
 */
export function lensLogitShift(meanWeight: number, nEmbd: number, gain: number): { shift: number; baseScale: number } {
    const s = Math.sqrt(1 / nEmbd + MARKOV_RMS_EPS);
    const F = meanWeight;
    const rms1 = Math.sqrt((1 + F * F) / nEmbd + MARKOV_RMS_EPS);
    const gateIn = 1 / rms1;
    const silu = gateIn / (1 + Math.exp(-gateIn));
    const G = s * s * s * silu * (F / rms1);
    const rms2 = Math.sqrt((1 + F * F + G * G) / nEmbd + MARKOV_RMS_EPS);
    return { shift: (gain * G) / rms2, baseScale: s / rms2 };
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
