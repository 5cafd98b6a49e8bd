import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engines/llamacpp/llamacpp-engine.js";
import { ensureTinyModel, type TinyModelSpec } from "../../src/engines/tiny/tiny-model.js";

/** A private cache per test process, so tests never depend on (or dirty) the user's cache. */
export const testCacheDir = mkdtempSync(path.join(os.tmpdir(), "j1-test-cache-"));

/** The real llama.cpp engine on the project's tiny model (or a variant spec), one thread. */
export async function tinyEngine(options: { sequences?: number; contextSize?: number; spec?: TinyModelSpec } = {}): Promise<LlamaCppEngine> {
  const model = options.spec ? await ensureTinyModel({ cacheDir: testCacheDir, spec: options.spec }) : "tiny";
  return createLlamaCppEngine({ model, threads: 1, contextSize: options.contextSize ?? 2048, sequences: options.sequences ?? 1, cacheDir: testCacheDir });
}
