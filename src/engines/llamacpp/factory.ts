import type { EngineFactory } from "../engine-registry.js";

/** In process, on node-llama-cpp: a GGUF file, an hf: URI or "tiny". Loaded lazily. */
export const llamaCppFactory: EngineFactory = {
  kind: "llamacpp",
  description: "node-llama-cpp in process (a GGUF file, an hf: URI, or tiny)",
  async create(config) {
    const { createLlamaCppEngine } = await import("./llamacpp-engine.js");
    const { DEFAULT_MODEL } = await import("./model-source.js");
    return createLlamaCppEngine({
      model: config.model ?? DEFAULT_MODEL,
      threads: config.threads,
      contextSize: config.contextSize,
      sequences: config.parallel,
      cacheDir: config.cacheDir,
      onProgress: config.onDownloadProgress,
    });
  },
};
