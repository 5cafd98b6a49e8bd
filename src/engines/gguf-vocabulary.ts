import { open, type FileHandle } from "node:fs/promises";
import { J1Error, errorMessage } from "../core/errors.js";

/**
 * What the piece rule and the prompt format need from a GGUF, read from its key/value header only (no
 * tensor is touched, and nothing is loaded): the texts of its added tokens (`tokenizer.ggml.token_type`
 * CONTROL, USER_DEFINED or UNKNOWN: the strings llama.cpp matches in raw text before tokenizing) and its
 * architecture. Both engines read the same file the same way, so they break the same strings: in process
 * the engine's own file; over HTTP the file llama-server names in /props (`model_path`) when it is on
 * this machine.
 */
export interface GgufVocabulary {
  architecture?: string;
  /** `tokenizer.ggml.model`: "llama" (SentencePiece), "gpt2" (byte-level BPE), … */
  tokenizerModel?: string;
  addedTokens: string[];
  /** Whether it carries `tokenizer.chat_template`. */
  hasChatTemplate: boolean;
}

/** llama.cpp token types (llama_token_type). */
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;

const enum ValueType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

const FIXED_SIZE: Partial<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const CHUNK = 1 << 20;
/** A header larger than this is not a GGUF j1 should trust (real vocabularies are a few MB). */
const MAX_HEADER = 256 << 20;

/**
 * Sequential reads over a file handle, a chunk at a time. A value already in the chunk is read without
 * awaiting (a vocabulary is hundreds of thousands of strings: a promise per string cost seconds).
 */
class Reader {
  private buffer = Buffer.alloc(0);
  private start = 0;
  private offset = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly path: string,
  ) {}

  private has(bytes: number): boolean {
    return this.offset + bytes <= this.start + this.buffer.length;
  }

  private async load(bytes: number): Promise<void> {
    if (this.offset + bytes > MAX_HEADER) throw new J1Error("bad-input", `${this.path}: the GGUF header is larger than ${MAX_HEADER >> 20} MB`, { context: { file: this.path } });
    const length = Math.max(CHUNK, bytes);
    const chunk = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(chunk, 0, length, this.offset);
    if (bytesRead < bytes) throw new J1Error("bad-input", `${this.path}: the GGUF header ends early`, { context: { file: this.path } });
    this.buffer = chunk.subarray(0, bytesRead);
    this.start = this.offset;
  }

  /** Makes `bytes` readable without awaiting; a promise only when the chunk must be refilled. */
  need(bytes: number): Promise<void> | undefined {
    return this.has(bytes) ? undefined : this.load(bytes);
  }

  private take(bytes: number): Buffer {
    const at = this.offset - this.start;
    this.offset += bytes;
    return this.buffer.subarray(at, at + bytes);
  }

  async u32(): Promise<number> {
    await this.need(4);
    return this.take(4).readUInt32LE(0);
  }

  async i32(): Promise<number> {
    await this.need(4);
    return this.take(4).readInt32LE(0);
  }

  async u64(): Promise<number> {
    await this.need(8);
    return this.checkedLength(this.take(8).readBigUInt64LE(0));
  }

  private checkedLength(value: bigint): number {
    if (value > BigInt(MAX_HEADER)) throw new J1Error("bad-input", `${this.path}: a GGUF length of ${value} is not plausible`, { context: { file: this.path } });
    return Number(value);
  }

  async string(): Promise<string> {
    const length = await this.u64();
    await this.need(length);
    return this.take(length).toString("utf8");
  }

  /** `count` strings, read synchronously while the chunk holds them. */
  async strings(count: number): Promise<string[]> {
    const values: string[] = [];
    for (let index = 0; index < count; index++) {
      if (!this.has(8)) await this.load(8);
      const at = this.offset - this.start;
      this.offset += 8;
      // Two 32-bit halves: no BigInt per string.
      const high = this.buffer.readUInt32LE(at + 4);
      const length = high === 0 ? this.buffer.readUInt32LE(at) : this.checkedLength(this.buffer.readBigUInt64LE(at));
      if (!this.has(length)) await this.load(length);
      values.push(this.take(length).toString("utf8"));
    }
    return values;
  }

  /** `count` 32-bit signed integers. */
  async i32s(count: number): Promise<number[]> {
    await this.need(4 * count);
    const bytes = this.take(4 * count);
    const values: number[] = [];
    for (let index = 0; index < count; index++) values.push(bytes.readInt32LE(4 * index));
    return values;
  }

  async skip(bytes: number): Promise<void> {
    // Skipping needs no bytes in memory: move on and drop the chunk if it is passed.
    this.offset += bytes;
    if (this.offset > MAX_HEADER) throw new J1Error("bad-input", `${this.path}: the GGUF header is larger than ${MAX_HEADER >> 20} MB`, { context: { file: this.path } });
  }
}

async function skipValue(reader: Reader, type: number): Promise<void> {
  if (type === ValueType.STRING) return void (await reader.string());
  if (type === ValueType.ARRAY) {
    const itemType = await reader.u32();
    const count = await reader.u64();
    const size = FIXED_SIZE[itemType];
    if (size !== undefined) return reader.skip(size * count);
    if (itemType === ValueType.STRING) return void (await reader.strings(count));
    for (let index = 0; index < count; index++) await skipValue(reader, itemType);
    return;
  }
  const size = FIXED_SIZE[type];
  if (size === undefined) throw new Error(`unknown GGUF value type ${type}`);
  await reader.skip(size);
}

async function arrayOf(reader: Reader, key: string, expected: number): Promise<{ itemType: number; count: number }> {
  const itemType = await reader.u32();
  const count = await reader.u64();
  if (itemType !== expected) throw new Error(`${key} holds values of type ${itemType}, not ${expected}`);
  return { itemType, count };
}

/** Reads the vocabulary facts of a GGUF file (its header only). */
export async function readGgufVocabulary(path: string): Promise<GgufVocabulary> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error) {
    throw new J1Error("bad-input", `${path}: cannot read the GGUF (${errorMessage(error)})`, { context: { file: path } });
  }
  try {
    const reader = new Reader(file, path);
    const magic = await reader.u32();
    if (magic !== 0x46554747) throw new J1Error("bad-input", `${path}: not a GGUF file`, { context: { file: path } });
    const version = await reader.u32();
    if (version < 2) throw new J1Error("bad-input", `${path}: GGUF version ${version} is not supported`, { context: { file: path } });
    await reader.u64(); // tensor count
    const count = await reader.u64();
    let tokens: string[] | undefined;
    let types: number[] | undefined;
    const result: GgufVocabulary = { addedTokens: [], hasChatTemplate: false };
    for (let index = 0; index < count; index++) {
      const key = await reader.string();
      const type = await reader.u32();
      if (key === "tokenizer.ggml.tokens" && type === ValueType.ARRAY) tokens = await reader.strings((await arrayOf(reader, key, ValueType.STRING)).count);
      else if (key === "tokenizer.ggml.token_type" && type === ValueType.ARRAY) types = await reader.i32s((await arrayOf(reader, key, ValueType.I32)).count);
      else if (key === "tokenizer.chat_template") {
        result.hasChatTemplate = true;
        await skipValue(reader, type);
      } else if ((key === "general.architecture" || key === "tokenizer.ggml.model") && type === ValueType.STRING) {
        const value = await reader.string();
        if (key === "general.architecture") result.architecture = value;
        else result.tokenizerModel = value;
      } else await skipValue(reader, type);
    }
    if (tokens && types) {
      for (let id = 0; id < tokens.length; id++) {
        const kind = types[id];
        if (kind === CONTROL || kind === USER_DEFINED || kind === UNKNOWN) result.addedTokens.push(tokens[id]);
      }
    }
    return result;
  } catch (error) {
    if (error instanceof J1Error) throw error;
    throw new J1Error("bad-input", `${path}: cannot read the GGUF header (${errorMessage(error)})`, { context: { file: path } });
  } finally {
    await file.close();
  }
}
