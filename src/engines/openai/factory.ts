import { J1Error } from "../../core/errors.js";
import type { EngineFactory } from "../engine-registry.js";

/** An OpenAI-compatible server (llama-server, vLLM, SGLang, …) over HTTP. Loaded lazily. */
export const openAIFactory: EngineFactory = {
  kind: "openai",
  description: "an OpenAI-compatible server over HTTP (--base-url)",
  async create(config) {
    if (!config.baseUrl) throw new J1Error("bad-input", "--engine openai needs --base-url (for example http://127.0.0.1:8080/v1)", { context: { field: "--base-url" } });
    const { createOpenAIEngine } = await import("./openai-engine.js");
    return createOpenAIEngine({
      baseUrl: config.baseUrl,
      baseUrls: config.baseUrls,
      apiKey: config.apiKey,
      model: config.model,
      api: config.api ?? "completions",
      concurrency: config.parallel,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      allowTextPrompt: config.allowTextPrompt,
      thinkEnd: config.thinkEnd,
    });
  },
};
