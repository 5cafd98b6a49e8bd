import { J1Error } from "../../core/errors.js";
import type { HttpClient } from "./http-client.js";

/**
 * Which OpenAI-compatible server we talk to. The OpenAI API has no way to constrain a verdict, to tell a
 * stop string from end of sequence, or to count tokens; each server has its own extension for these,
 * and sending one server's extension to another is at best ignored. The flavor picks what to send.
 */
export type ServerFlavor = "llama-server" | "vllm" | "sglang" | "generic";

export interface ServerInfo {
  flavor: ServerFlavor;
  /** The served model's id (vLLM and SGLang require it in every request). */
  model?: string;
}

/**
 * Asks GET {baseUrl}/models: llama-server lists its model as owned by "llamacpp", vLLM by "vllm",
 * SGLang by "sglang". A server without that route is "generic" (told by the warning the engine records);
 * an authentication failure is thrown, since nothing else would work either.
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
  const flavor: ServerFlavor = owner.includes("llamacpp") || owner.includes("llama.cpp") ? "llama-server" : owner.includes("vllm") ? "vllm" : owner.includes("sglang") ? "sglang" : "generic";
  return { info: { flavor, model } };
}

/** The server's root: /tokenize lives there (llama-server, vLLM), not under /v1. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/v1$/, "");
}
