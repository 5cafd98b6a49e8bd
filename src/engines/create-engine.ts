import type { Engine } from "./engine.js";

/** An engine's name in the registry (engine-registry.ts): "llamacpp", "openai", … */
export type EngineKind = string;

export interface EngineConfig {
  engine: EngineKind;
  /** llamacpp: a GGUF path, an hf: URI or "tiny". openai: the served model's name (optional). */
  model?: string;
  /** openai: the server's base URL, e.g. http://127.0.0.1:8080/v1. */
  baseUrl?: string;
  /** openai: a fleet, every server's base URL (`baseUrl` is the first); each judgment goes to one of them. */
  baseUrls?: string[];
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
  /** ai-sdk: a Vercel AI SDK `LanguageModel` to judge with (the library's way; the CLI builds one from --base-url). */
  languageModel?: unknown;
  cacheDir?: string;
  onDownloadProgress?: (status: { downloadedSize: number; totalSize: number }) => void;
}

/** Builds the engine a config names, through the engine registry (engine-registry.ts). */
export async function createEngine(config: EngineConfig): Promise<Engine> {
  const { engineFactory } = await import("./engine-registry.js");
  return engineFactory(config.engine).create(config);
}
