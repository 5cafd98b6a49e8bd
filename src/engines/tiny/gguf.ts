/**
 * A minimal GGUF v3 encoder.
 *
 * Why our own: j1's tests need a real model file for a real engine (llama.cpp via
 * node-llama-cpp), and no model can be downloaded at test time. The tiny model is
 * built by `tiny-model.ts` from a table; this file only knows the container format.
 *
 * Only what j1's built models need is supported: scalar uint32 / int32 / float32 /
 * bool / string values, arrays of string / float32 / int32, and F32 and F16 tensors.
 * F16 (IEEE 754 half precision) is written by hand: Node 20 has no Float16Array.
 *
 * Layout (all integers little-endian):
 *   magic "GGUF" | uint32 version (3) | uint64 tensor count | uint64 kv count
 *   kv*:          string key | uint32 value type | value
 *   tensor info*: string name | uint32 n_dims | uint64 dims[n_dims] | uint32 ggml type | uint64 offset
 *   padding to `general.alignment` (default 32)
 *   tensor data, each tensor starting at a multiple of the alignment (offsets are
 *   relative to the start of this data section)
 * A GGUF string is a uint64 byte length followed by UTF-8 bytes (no terminator).
 */

/** GGUF metadata value type ids (gguf_type in ggml's gguf.h). */
const GGUF_TYPE = {
    UINT32: 4,
    INT32: 5,
    FLOAT32: 6,
    BOOL: 7,
    STRING: 8,
    ARRAY: 9,
} as const;

/** ggml tensor type ids (ggml_type in ggml.h): F32 and F16, no quantized types. */
export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

const GGUF_MAGIC = "GGUF";
const GGUF_VERSION = 3;
/** llama.cpp's default when the file has no `general.alignment` key. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** A typed metadata value: the type tag decides the on-disk encoding, JS numbers alone can't. */
export type GgufValue =
    | { type: "uint32"; value: number }
    | { type: "int32"; value: number }
    | { type: "float32"; value: number }
    | { type: "bool"; value: boolean }
    | { type: "string"; value: string }
    | { type: "string[]"; value: readonly string[] }
    | { type: "float32[]"; value: ArrayLike<number> }
    | { type: "int32[]"; value: ArrayLike<number> };

export interface GgufMetadataEntry {
    key: string;
    value: GgufValue;
}

/**
 * One tensor. `dims` is in ggml order: dims[0] (ne0) is the innermost dimension, i.e. the length of one
 * row; `data` is row-major, `dims[0]` consecutive values per row, and holds the product of dims values.
 */
export type GgufTensor =
    | { name: string; dims: readonly number[]; type?: "f32"; data: Float32Array }
    /** F16: `data` holds the half-precision bit patterns (see `f32ToF16`), written as they are. */
    | { name: string; dims: readonly number[]; type: "f16"; data: Uint16Array };

/**
 * The IEEE 754 half-precision bit pattern nearest to `value` (round to nearest, ties to even), as ggml's
 * F32 -> F16 conversion gives it: overflow becomes infinity, tiny values become subnormals or zero. Works
 * from the double directly, so there is no double rounding through float32.
 */
export function f32ToF16(value: number): number {
    if (Number.isNaN(value)) return 0x7e00;
    const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
    const a = Math.abs(value);
    // 65520 is halfway between the largest half (65504) and 2^16: it and everything above round to infinity.
    if (a >= 65520) return sign | 0x7c00;
    if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal: units of 2^-24 (may round up to 2^-14)
    let exponent = Math.floor(Math.log2(a));
    if (2 ** exponent > a) exponent--; // log2 can be off by one next to a power of two
    else if (2 ** (exponent + 1) <= a) exponent++;
    // 11 significant bits: a / 2^(e-10) is in [1024, 2048); rounding may carry into the exponent, which the
    // bit layout absorbs (1023.5.. -> 1024 with the next exponent is the same pattern as adding 1).
    const significand = roundHalfEven(a / 2 ** (exponent - 10));
    return sign | (((exponent + 15) << 10) + (significand - 1024));
}

/** The value of a half-precision bit pattern. */
export function f16ToF32(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

function roundHalfEven(x: number): number {
    const floor = Math.floor(x);
    const rest = x - floor;
    if (rest > 0.5) return floor + 1;
    if (rest < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
}

/** Convenience constructors so call sites read like `u32(64)` rather than object literals. */
export const gguf = {
    u32: (value: number): GgufValue => ({ type: "uint32", value }),
    i32: (value: number): GgufValue => ({ type: "int32", value }),
    f32: (value: number): GgufValue => ({ type: "float32", value }),
    bool: (value: boolean): GgufValue => ({ type: "bool", value }),
    str: (value: string): GgufValue => ({ type: "string", value }),
    strs: (value: readonly string[]): GgufValue => ({ type: "string[]", value }),
    f32s: (value: ArrayLike<number>): GgufValue => ({ type: "float32[]", value }),
    i32s: (value: ArrayLike<number>): GgufValue => ({ type: "int32[]", value }),
};

/**
 * Appends little-endian values to a growing list of chunks. Scalars are small; arrays (a real vocabulary
 * has 200,000 token strings and 450,000 merges) are each encoded into one buffer.
 */
class ByteWriter {
    private chunks: Buffer[] = [];
    length = 0;

    private push(chunk: Buffer): void {
        this.chunks.push(chunk);
        this.length += chunk.length;
    }

    u32(value: number): void {
        if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a uint32: ${value}`);
        const b = Buffer.alloc(4);
        b.writeUInt32LE(value);
        this.push(b);
    }

    i32(value: number): void {
        if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an int32: ${value}`);
        const b = Buffer.alloc(4);
        b.writeInt32LE(value);
        this.push(b);
    }

    u64(value: number): void {
        if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a uint64: ${value}`);
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt(value));
        this.push(b);
    }

    f32(value: number): void {
        const b = Buffer.alloc(4);
        b.writeFloatLE(value);
        this.push(b);
    }

    bool(value: boolean): void {
        this.push(Buffer.from([value ? 1 : 0]));
    }

    string(value: string): void {
        const bytes = Buffer.from(value, "utf8");
        this.u64(bytes.length);
        this.push(bytes);
    }

    bytes(value: Buffer): void {
        this.push(value);
    }

    /** Each string as a GGUF string (uint64 length + UTF-8 bytes), all in one buffer. */
    strings(values: readonly string[]): void {
        let total = 0;
        for (const s of values) total += 8 + Buffer.byteLength(s, "utf8");
        const b = Buffer.alloc(total);
        let offset = 0;
        for (const s of values) {
            const length = b.write(s, offset + 8, "utf8");
            b.writeBigUInt64LE(BigInt(length), offset);
            offset += 8 + length;
        }
        this.push(b);
    }

    i32s(values: ArrayLike<number>): void {
        const b = Buffer.alloc(values.length * 4);
        for (let i = 0; i < values.length; i++) {
            const value = values[i];
            if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an int32: ${value}`);
            b.writeInt32LE(value, i * 4);
        }
        this.push(b);
    }

    f32s(values: ArrayLike<number>): void {
        const b = Buffer.alloc(values.length * 4);
        for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
        this.push(b);
    }

    zeros(count: number): void {
        if (count > 0) this.push(Buffer.alloc(count));
    }

    toChunks(): Buffer[] {
        return this.chunks;
    }
}

function padding(offset: number, alignment: number): number {
    return (alignment - (offset % alignment)) % alignment;
}

function writeValue(w: ByteWriter, v: GgufValue): void {
    switch (v.type) {
        case "uint32":
            w.u32(GGUF_TYPE.UINT32);
            w.u32(v.value);
            return;
        case "int32":
            w.u32(GGUF_TYPE.INT32);
            w.i32(v.value);
            return;
        case "float32":
            w.u32(GGUF_TYPE.FLOAT32);
            w.f32(v.value);
            return;
        case "bool":
            w.u32(GGUF_TYPE.BOOL);
            w.bool(v.value);
            return;
        case "string":
            w.u32(GGUF_TYPE.STRING);
            w.string(v.value);
            return;
        case "string[]":
            w.u32(GGUF_TYPE.ARRAY);
            w.u32(GGUF_TYPE.STRING);
            w.u64(v.value.length);
            w.strings(v.value);
            return;
        case "float32[]":
            w.u32(GGUF_TYPE.ARRAY);
            w.u32(GGUF_TYPE.FLOAT32);
            w.u64(v.value.length);
            w.f32s(v.value);
            return;
        case "int32[]":
            w.u32(GGUF_TYPE.ARRAY);
            w.u32(GGUF_TYPE.INT32);
            w.u64(v.value.length);
            w.i32s(v.value);
            return;
    }
}

/** The alignment llama.cpp will use when reading this file: `general.alignment` if given, else 32. */
function alignmentOf(metadata: readonly GgufMetadataEntry[]): number {
    const entry = metadata.find((e) => e.key === "general.alignment");
    if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
    if (entry.value.type !== "uint32") throw new TypeError("general.alignment must be a uint32");
    const a = entry.value.value;
    // ggml requires a power of two (it aligns with bit masks).
    if (a <= 0 || (a & (a - 1)) !== 0) throw new RangeError(`general.alignment must be a power of two, got ${a}`);
    return a;
}

/** Encodes a complete GGUF v3 file. Pure: same input, same bytes (so its hash can name a cache file). */
export function encodeGguf(metadata: readonly GgufMetadataEntry[], tensors: readonly GgufTensor[]): Buffer {
    const chunks = encodeGgufChunks(metadata, tensors);
    return Buffer.concat(chunks, chunks.reduce((n, c) => n + c.length, 0));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function tensorBytes(t: GgufTensor): Buffer {
    if (t.type === "f16") {
        // Half-float bit patterns go out as they are: a view on the array, no copy, when the host is
        // little-endian (every platform Node runs j1 on is); else swap the bytes of a copy.
        if (LITTLE_ENDIAN) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        const b = Buffer.alloc(t.data.length * 2);
        for (let j = 0; j < t.data.length; j++) b.writeUInt16LE(t.data[j], j * 2);
        return b;
    }
    // Copy into a fresh little-endian buffer; a Float32Array view is host-endian,
    // and every platform Node runs j1 on is little-endian, but be explicit anyway.
    const b = Buffer.alloc(t.data.length * 4);
    for (let j = 0; j < t.data.length; j++) b.writeFloatLE(t.data[j], j * 4);
    return b;
}

/**
 * The same file as `encodeGguf`, as a list of chunks to write one after another. F16 tensor data are views
 * on the caller's arrays, so a file of hundreds of megabytes is never copied into one buffer.
 */
export function encodeGgufChunks(metadata: readonly GgufMetadataEntry[], tensors: readonly GgufTensor[]): Buffer[] {
    const keys = new Set<string>();
    for (const e of metadata) {
        if (keys.has(e.key)) throw new Error(`duplicate GGUF metadata key: ${e.key}`);
        keys.add(e.key);
    }
    const names = new Set<string>();
    for (const t of tensors) {
        if (names.has(t.name)) throw new Error(`duplicate GGUF tensor name: ${t.name}`);
        names.add(t.name);
        const count = t.dims.reduce((a, b) => a * b, 1);
        if (t.dims.length === 0 || t.dims.length > 4) throw new RangeError(`tensor ${t.name}: ggml supports 1 to 4 dims`);
        if (count !== t.data.length) {
            throw new RangeError(`tensor ${t.name}: dims [${t.dims.join(", ")}] hold ${count} values, data has ${t.data.length}`);
        }
    }
    const alignment = alignmentOf(metadata);

    const w = new ByteWriter();
    w.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
    w.u32(GGUF_VERSION);
    w.u64(tensors.length);
    w.u64(metadata.length);

    for (const e of metadata) {
        w.string(e.key);
        writeValue(w, e.value);
    }

    // Tensor infos carry offsets into the data section, so lay the data out first.
    let dataOffset = 0;
    const offsets: number[] = [];
    for (const t of tensors) {
        dataOffset += padding(dataOffset, alignment);
        offsets.push(dataOffset);
        dataOffset += t.data.length * (t.type === "f16" ? 2 : 4);
    }
    tensors.forEach((t, i) => {
        w.string(t.name);
        w.u32(t.dims.length);
        for (const d of t.dims) w.u64(d);
        w.u32(t.type === "f16" ? GGML_TYPE_F16 : GGML_TYPE_F32);
        w.u64(offsets[i]);
    });

    // The data section itself starts aligned (relative to the file start).
    w.zeros(padding(w.length, alignment));
    const dataStart = w.length;
    tensors.forEach((t, i) => {
        w.zeros(dataStart + offsets[i] - w.length);
        w.bytes(tensorBytes(t));
    });
    // Pad the end too, so that the last tensor's extent is a whole number of alignment units.
    w.zeros(padding(w.length, alignment));
    return w.toChunks();
}
