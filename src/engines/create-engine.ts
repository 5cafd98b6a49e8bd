import { J1Error } from "../core/errors.js";
import type { Engine } from "./engine.js";

export type EngineKind = "llamacpp" | "openai";

export interface EngineConfig {
  engine: EngineKind;
  /** llamacpp: a GGUF path, an hf: URI or "tiny". openai: the served model's name (optional). */
  model?: string;
  /** openai: the server's base URL, e.g. http://127.0.0.1:8080/v1. */
  baseUrl?: string;
  apiKey?: string;
  threads?: number;
  contextSize?: number;
  /** Parallel sessions: sequences of the llama.cpp context, or concurrent HTTP requests. */
  parallel?: number;
  /** openai: "completions" (raw continuation) or "chat" (partial assistant message fallback). */
  api?: "completions" | "chat";
  /** openai: per request attempt, in ms (a timeout is retried). */
  timeoutMs?: number;
  /** openai: retries after a failed attempt (429, 5xx, timeouts, dropped connections). */
  maxRetries?: number;
  /** openai: accept text prompts where token ids are impossible (an unknown server, Ollama, --api chat). */
  allowTextPrompt?: boolean;
  /** openai: the end-of-thinking text to check at start (the judge template's `thinkEnd`). */
  thinkEnd?: string;
  cacheDir?: string;
  onDownloadProgress?: (status: { downloadedSize: number; totalSize: number }) => void;
}

/** Builds the engine a config names. Engines load lazily, so a server-only run never loads llama.cpp. */
export async function createEngine(config: EngineConfig): Promise<Engine> {
  if (config.engine === "llamacpp") {
    const { createLlamaCppEngine } = await import("./llamacpp/llamacpp-engine.js");
    const { DEFAULT_MODEL } = await import("./llamacpp/model-source.js");
    return createLlamaCppEngine({
      model: config.model ?? DEFAULT_MODEL,
      threads: config.threads,
      contextSize: config.contextSize,
      sequences: config.parallel,
      cacheDir: config.cacheDir,
      onProgress: config.onDownloadProgress,
    });
  }
  if (config.engine === "openai") {
    if (!config.baseUrl) throw new J1Error("bad-input", "--engine openai needs --base-url (for example http://127.0.0.1:8080/v1)");
    const { createOpenAIEngine } = await import("./openai/openai-engine.js");
    return createOpenAIEngine({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      model: config.model,
      api: config.api ?? "completions",
      concurrency: config.parallel,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      allowTextPrompt: config.allowTextPrompt,
      thinkEnd: config.thinkEnd,
    });
  }
  throw new J1Error("bad-input", `unknown engine "${String(config.engine)}"; known: llamacpp, openai`);
}
