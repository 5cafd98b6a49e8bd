import { J1Error, errorMessage } from "../../core/errors.js";
import type { EngineFactory } from "../engine-registry.js";

/**
 * Any Vercel AI SDK language model (`languageModel` in the library), or from the CLI an OpenAI-compatible
 * server through `@ai-sdk/openai-compatible` (--base-url, --model). The AI SDK packages are optional
 * dependencies: imported only here, and only when this engine is asked for.
 */
export const aiSdkFactory: EngineFactory = {
  kind: "ai-sdk",
  description: "any Vercel AI SDK language model (CLI: an OpenAI-compatible server through @ai-sdk/openai-compatible; a chat API, no waits)",
  async create(config) {
    const { createAiSdkEngine } = await importOptional(() => import("./ai-sdk-engine.js"));
    if (config.languageModel !== undefined) return createAiSdkEngine({ model: config.languageModel as never, parallel: config.parallel, maxRetries: config.maxRetries });
    if (!config.baseUrl) throw new J1Error("bad-input", "--engine ai-sdk needs --base-url (an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1) and --model", { context: { field: "--base-url" } });
    if (!config.model) throw new J1Error("bad-input", "--engine ai-sdk needs --model (the served model's name)", { context: { field: "--model" } });
    const { createOpenAICompatible } = await importOptional(() => import("@ai-sdk/openai-compatible"));
    const provider = createOpenAICompatible({ name: "j1", baseURL: config.baseUrl, apiKey: config.apiKey });
    return createAiSdkEngine({ model: provider.chatModel(config.model), parallel: config.parallel, maxRetries: config.maxRetries, label: `${config.model} @ ${config.baseUrl}` });
  },
};

/** Imports an optional dependency, or says how to install it. */
async function importOptional<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = /Cannot find (package|module) '([^']+)'/.exec(errorMessage(error));
    if (missing) throw new J1Error("bad-input", `--engine ai-sdk needs the AI SDK: npm install ai@6 @ai-sdk/openai-compatible@2 (missing: ${missing[2]})`, { context: { field: "--engine" } });
    throw error;
  }
}
