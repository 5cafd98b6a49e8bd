import { open, stat } from "node:fs/promises";
import { J1Error, errorMessage } from "../../core/errors.js";

/**
 * A structural check of a GGUF file from outside, before llama.cpp ever loads it: an unknown uploader's
 * file is untrusted input, and llama.cpp maps tensor data by the offsets the file states. The header and
 * tensor table are parsed by node-llama-cpp's GGUF reader (plain JavaScript, no llama.cpp code), then
 * j1 checks what the loader would trust: the magic and version, that the tensor table holds as many
 * tensors as the header says, that every tensor's type is known and its data lies, aligned and without
 * overlap, inside the file.
 */
export interface GgufSummary {
  file: string;
  version: number;
  fileSize: number;
  tensorCount: number;
  /** Where the tensor data section starts and where the last tensor ends (bytes). */
  dataStart: number;
  dataEnd: number;
  /** `general.*` metadata, as the file states it. */
  general: Record<string, unknown>;
  architecture: string;
  vocabularySize: number;
  tokenizerModel: string;
  /** The Jinja chat template (`tokenizer.chat_template`), when the file carries one. */
  chatTemplate?: string;
}

/** Bytes per block and elements per block of each ggml tensor type j1 accepts (ggml's type traits). */
const GGML_TYPE_LAYOUT: Readonly<Record<number, { name: string; blockElements: number; blockBytes: number }>> = {
  0: { name: "F32", blockElements: 1, blockBytes: 4 },
  1: { name: "F16", blockElements: 1, blockBytes: 2 },
  2: { name: "Q4_0", blockElements: 32, blockBytes: 18 },
  3: { name: "Q4_1", blockElements: 32, blockBytes: 20 },
  6: { name: "Q5_0", blockElements: 32, blockBytes: 22 },
  7: { name: "Q5_1", blockElements: 32, blockBytes: 24 },
  8: { name: "Q8_0", blockElements: 32, blockBytes: 34 },
  9: { name: "Q8_1", blockElements: 32, blockBytes: 36 },
  10: { name: "Q2_K", blockElements: 256, blockBytes: 84 },
  11: { name: "Q3_K", blockElements: 256, blockBytes: 110 },
  12: { name: "Q4_K", blockElements: 256, blockBytes: 144 },
  13: { name: "Q5_K", blockElements: 256, blockBytes: 176 },
  14: { name: "Q6_K", blockElements: 256, blockBytes: 210 },
  15: { name: "Q8_K", blockElements: 256, blockBytes: 292 },
  20: { name: "IQ4_NL", blockElements: 32, blockBytes: 18 },
  23: { name: "IQ4_XS", blockElements: 256, blockBytes: 136 },
  24: { name: "I8", blockElements: 1, blockBytes: 1 },
  25: { name: "I16", blockElements: 1, blockBytes: 2 },
  26: { name: "I32", blockElements: 1, blockBytes: 4 },
  27: { name: "I64", blockElements: 1, blockBytes: 8 },
  28: { name: "F64", blockElements: 1, blockBytes: 8 },
  30: { name: "BF16", blockElements: 1, blockBytes: 2 },
};

const GGUF_MAGIC = "GGUF";
const DEFAULT_ALIGNMENT = 32;

function refuse(file: string, problem: string, cause?: unknown): J1Error {
  return new J1Error("bad-input", `${file}: not a well-formed GGUF file: ${problem}`, { context: { file }, cause });
}

/** The byte size of a tensor of `type` with these dimensions, or a refusal naming the tensor. */
export function tensorByteSize(file: string, name: string, type: number, dimensions: readonly (number | bigint)[]): number {
  const layout = GGML_TYPE_LAYOUT[type];
  if (!layout) throw refuse(file, `tensor "${name}" has ggml type ${type}, which j1 does not know`);
  let elements = 1;
  for (const dimension of dimensions) {
    const value = Number(dimension);
    if (!Number.isSafeInteger(value) || value <= 0) throw refuse(file, `tensor "${name}" has a dimension of ${String(dimension)}`);
    elements *= value;
    if (!Number.isSafeInteger(elements)) throw refuse(file, `tensor "${name}" has more elements than a file can hold`);
  }
  const rowElements = Number(dimensions[0] ?? 1);
  if (rowElements % layout.blockElements !== 0) throw refuse(file, `tensor "${name}" (${layout.name}) has rows of ${rowElements} elements, not a multiple of its block of ${layout.blockElements}`);
  return (elements / layout.blockElements) * layout.blockBytes;
}

/**
 * The first 8 bytes: the magic "GGUF" and a version llama.cpp reads (2 or 3). Checked before every load of
 * a local --model file: llama.cpp takes any other file for a GGUF of version 3 and reads its bytes as
 * lengths (a text file given by mistake grew the process until the kernel killed it).
 */
export async function checkGgufHeader(file: string): Promise<void> {
  const size = (await stat(file)).size;
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    if (bytesRead < 8) throw refuse(file, `the file has ${size} bytes, fewer than a GGUF header`);
    if (head.toString("latin1", 0, 4) !== GGUF_MAGIC) throw refuse(file, `the magic is ${JSON.stringify(head.toString("latin1", 0, 4))}, not "GGUF"`);
    const version = head.readUInt32LE(4);
    if (version !== 2 && version !== 3) throw refuse(file, `GGUF version ${version} (j1 reads versions 2 and 3)`);
  } finally {
    await handle.close();
  }
}

/** Parses and checks `file`; throws a bad-input J1Error naming the file and the defect. */
export async function checkGgufFile(file: string): Promise<GgufSummary> {
  const size = (await stat(file)).size;
  await checkGgufHeader(file);

  const { readGgufFileInfo } = await import("node-llama-cpp");
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    // No splicing: a name like "-00001-of-00002" must not make the reader open other files.
    info = await readGgufFileInfo(file, { readTensorInfo: true, sourceType: "filesystem", ignoreKeys: [], spliceSplitFiles: false, logWarnings: false });
  } catch (error) {
    throw refuse(file, `its header or tensor table cannot be read (${errorMessage(error)})`, error);
  }
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  const declared = Number(info.totalTensorCount ?? info.tensorCount);
  if (tensors.length !== declared) throw refuse(file, `the header declares ${declared} tensors but the table lists ${tensors.length}`);
  if (declared === 0) throw refuse(file, "it holds no tensors");

  const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
  const general = (metadata.general ?? {}) as Record<string, unknown>;
  const alignment = Number(general.alignment ?? DEFAULT_ALIGNMENT);
  if (!Number.isSafeInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) throw refuse(file, `general.alignment is ${String(general.alignment)}`);

  // The tensor data starts at the first aligned offset after the tensor table; node-llama-cpp reports each
  // tensor's file offset as data start + its stated offset.
  const spans = tensors.map((tensor) => {
    const start = Number(tensor.fileOffset);
    const offset = Number(tensor.offset);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(offset) || offset < 0) throw refuse(file, `tensor "${tensor.name}" has the offset ${String(tensor.offset)}`);
    if (offset % alignment !== 0) throw refuse(file, `tensor "${tensor.name}" starts at ${offset}, not aligned to ${alignment} bytes`);
    return { name: tensor.name, start, end: start + tensorByteSize(file, tensor.name, tensor.ggmlType, tensor.dimensions), dataStart: start - offset };
  });
  const dataStart = spans[0].dataStart;
  if (spans.some((span) => span.dataStart !== dataStart)) throw refuse(file, "its tensors disagree on where the data section starts");
  if (dataStart % alignment !== 0 || dataStart < Number(info.infoEndOffset ?? 0)) throw refuse(file, `the data section starts at ${dataStart}, inside the header or unaligned`);
  const names = new Set<string>();
  for (const span of spans) {
    if (names.has(span.name)) throw refuse(file, `tensor "${span.name}" is listed twice`);
    names.add(span.name);
  }
  const ordered = [...spans].sort((left, right) => left.start - right.start);
  for (let index = 1; index < ordered.length; index++) {
    if (ordered[index].start < ordered[index - 1].end) throw refuse(file, `tensors "${ordered[index - 1].name}" and "${ordered[index].name}" overlap`);
  }
  const dataEnd = ordered[ordered.length - 1].end;
  if (dataEnd > size) {
    throw refuse(file, `truncated: its tensor data ends at byte ${dataEnd.toLocaleString("en-US")} but the file has ${size.toLocaleString("en-US")} bytes (${((100 * size) / dataEnd).toFixed(1)}% of the model)`);
  }

  const tokenizer = (metadata.tokenizer ?? {}) as Record<string, unknown>;
  const ggml = (tokenizer.ggml ?? {}) as Record<string, unknown>;
  const tokens = ggml.tokens as unknown[] | undefined;
  if (!Array.isArray(tokens) || tokens.length === 0) throw refuse(file, "it has no tokenizer.ggml.tokens");
  const architecture = String(general.architecture ?? "");
  if (!architecture) throw refuse(file, "it names no general.architecture");
  const chatTemplate = typeof tokenizer.chat_template === "string" ? tokenizer.chat_template : undefined;
  return {
    file,
    version: info.version,
    fileSize: size,
    tensorCount: declared,
    dataStart,
    dataEnd,
    general,
    architecture,
    vocabularySize: tokens.length,
    tokenizerModel: String(ggml.model ?? ""),
    chatTemplate,
  };
}
