import { controlledTinySpec } from "../tiny/controlled-spec.js";
import { access, constants, stat } from "node:fs/promises";
import path from "node:path";
import { J1Error, errorMessage } from "../../core/errors.js";
import { j1CacheDir } from "../cache-dir.js";
import { checkGgufHeader } from "../real-models/gguf-check.js";
import { ensureTinyModel } from "../tiny/tiny-model.js";

/**
 * The default judge when no --model is given: a small open thinking model in GGUF that runs on a laptop
 * CPU (Qwen3 1.7B, 8-bit; it thinks inside <think>…</think> and speaks ChatML). Fetched on first use.
 */
export const DEFAULT_MODEL = "hf:Qwen/Qwen3-1.7B-GGUF:Q8_0";

export type ModelSource = { kind: "tiny"; path: string } | { kind: "file"; path: string };

export interface ResolveModelOptions {
  cacheDir?: string;
  /** Called while a model downloads. */
  onProgress?: (status: { downloadedSize: number; totalSize: number }) => void;
  signal?: AbortSignal;
}

export function isRemoteModelUri(model: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/i.test(model);
}

/** Turns --model (a GGUF path, an hf: URI or "tiny") into a local file, downloading once into the cache. */
export async function resolveModel(model: string, options: ResolveModelOptions = {}): Promise<ModelSource> {
  const cacheDir = options.cacheDir ?? j1CacheDir();
  if (model === "tiny") return { kind: "tiny", path: await ensureTinyModel({ cacheDir }) };
  // The controlled judge (engines/tiny/controlled-spec.ts): verdicts that move with the item and the waits.
  if (model === "tiny-controlled") return { kind: "tiny", path: await ensureTinyModel({ cacheDir, spec: controlledTinySpec() }) };
  if (isRemoteModelUri(model)) return { kind: "file", path: await downloadModel(model, path.join(cacheDir, "models"), options) };
  const file = path.resolve(model);
  // A path that is not there, not a file, or not a GGUF file is the caller's mistake (bad input, exit 2),
  // as a missing --data is; a GGUF that llama.cpp cannot load stays a model-load failure.
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw new J1Error("bad-input", `${file}: cannot read the model file (${errorMessage(error)}). Pass a GGUF file path, an hf: URI, "tiny", or --engine openai --base-url URL for a server.`, {
      context: { file, field: "--model" },
      cause: error,
    });
  }
  if ((await stat(file)).isDirectory()) {
    throw new J1Error("bad-input", `${file}: is a folder, not a model file. Pass a GGUF file path, an hf: URI or "tiny".`, { context: { file, field: "--model" } });
  }
  // A file that is not a GGUF at all is the caller's mistake too, and llama.cpp must never read it.
  await checkGgufHeader(file).catch((error: unknown) => {
    throw new J1Error("bad-input", `${errorMessage(error)}; field "--model": pass a GGUF file path, an hf: URI or "tiny"`, { context: { file, field: "--model" }, cause: error });
  });
  return { kind: "file", path: file };
}

async function downloadModel(uri: string, directory: string, options: ResolveModelOptions): Promise<string> {
  const { resolveModelFile } = await import("node-llama-cpp");
  try {
    return await resolveModelFile(uri, {
      directory,
      cli: false,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  } catch (error) {
    throw new J1Error(
      "model-download",
      `cannot fetch ${uri} into ${directory}: ${errorMessage(error)}\n` +
        `If this machine is offline, download the GGUF file elsewhere and pass its path (--model ./model.gguf), ` +
        `use a server (--engine openai --base-url http://127.0.0.1:8080), or try the offline tiny model (--model tiny).`,
      { context: { url: uri, file: directory }, cause: error },
    );
  }
}
