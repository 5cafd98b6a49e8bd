import { J1Error } from "../../core/errors.js";
import type { HttpClient } from "./http-client.js";

/**
 * Which OpenAI-compatible server we talk to. The OpenAI API has no way to send token ids, constrain a
 * verdict, tell a stop string from end of sequence, or count tokens; each server has its own extension
 * for these, and sending one server's extension to another is at best ignored. The flavor picks what
 * to send.
 */
export type ServerFlavor = "llama-server" | "vllm" | "sglang" | "ollama" | "generic";

export interface ServerInfo {
  flavor: ServerFlavor;
  /** The served model's id (vLLM and SGLang require it in every request). */
  model?: string;
  /** The most tokens one sequence may hold (vLLM and SGLang list `max_model_len`). */
  maxModelLength?: number;
}

/**
 * Asks GET {baseUrl}/models: llama-server lists its model as owned by "llamacpp", vLLM by "vllm",
 * SGLang by "sglang", Ollama by "library" (or "ollama"). A server without that route is "generic"
 * (told by the warning the engine records); an authentication failure is thrown, since nothing else
 * would work either.
 */
export async function detectServer(client: HttpClient, baseUrl: string, signal?: AbortSignal): Promise<{ info: ServerInfo; problem?: string }> {
  let body: unknown;
  try {
    body = await client.getJson(`${baseUrl}/models`, { signal });
  } catch (error) {
    if (error instanceof J1Error && (error.context.status === 404 || error.context.status === 405)) {
      return { info: { flavor: "generic" }, problem: `GET ${baseUrl}/models answered HTTP ${error.context.status}` };
    }
    throw error;
  }
  const models = typeof body === "object" && body !== null && Array.isArray((body as { data?: unknown }).data) ? ((body as { data: unknown[] }).data as Array<Record<string, unknown>>) : [];
  const first = models[0];
  const owner = typeof first?.owned_by === "string" ? first.owned_by.toLowerCase() : "";
  const model = typeof first?.id === "string" ? first.id : undefined;
  const maxModelLength = typeof first?.max_model_len === "number" ? first.max_model_len : undefined;
  const flavor: ServerFlavor =
    owner.includes("llamacpp") || owner.includes("llama.cpp")
      ? "llama-server"
      : owner.includes("vllm")
        ? "vllm"
        : owner.includes("sglang")
          ? "sglang"
          : owner === "library" || owner.includes("ollama")
            ? "ollama"
            : "generic";
  return { info: { flavor, model, maxModelLength } };
}

/** The server's root: /tokenize, /props and llama-server's native /completion live there, not under /v1. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/v1$/, "");
}

/** Whether the server takes a prompt as token ids (and hands generated ids back), and if not, why. */
export function tokenPromptSupport(flavor: ServerFlavor): { ok: true } | { ok: false; reason: string } {
  switch (flavor) {
    case "llama-server":
    case "vllm":
    case "sglang":
      return { ok: true };
    case "ollama":
      return { ok: false, reason: "an Ollama server takes text prompts only (no token ids on /api/generate or /v1/completions), so judged text can become control tokens there" };
    case "generic":
      return { ok: false, reason: "the server is none j1 knows (llama-server, vLLM, SGLang), so j1 cannot send it token ids or tokenize with it; as one text prompt, judged text such as <|im_end|> can become real control tokens" };
  }
}
