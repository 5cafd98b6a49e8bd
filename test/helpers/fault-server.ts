/**
 * A scripted stand-in for an OpenAI-compatible server, for the faults a real server will not produce on
 * demand (the project brief: a test double only for faults a real part will not produce): each completion request takes the next step of the script
 * (a 429 with Retry-After, a 500, a hang, broken JSON, a malformed 200, a 401, a dropped connection, or
 * a normal answer shaped like the server's), and the server counts requests in flight and keeps every
 * request it saw.
 *
 * It speaks as llama-server by default (GET /v1/models owned by "llamacpp", POST /tokenize, GET /props,
 * POST /apply-template, native POST /completion, and the /v1 routes), or as vLLM or an unknown server
 * (`flavor`). Its tokenizer is one token per character (id = code point + 1000), BOS 1, EOS 2, so tests
 * can write the ids they expect.
 *
 *   const server = await startFaultServer();
 *   server.script({ kind: "status", status: 429, headers: { "retry-after": "1" } }, { kind: "ok", text: "hi" });
 *   // engine on server.baseUrl ...
 *   await server.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultStep =
  | {
      kind: "ok";
      text?: string;
      /** Why the server stopped; "word" means the request's first stop string matched. */
      stopType?: "word" | "eos" | "limit";
      /** With stopType "limit": the context was full (llama-server `truncated`). */
      truncated?: boolean;
      /** Answer this much later (to overlap requests). */
      delayMs?: number;
      /** Top log-probabilities of the first generated token, by token text (one character → its id). */
      firstTokenLogprobs?: Record<string, number>;
      /** Top log-probabilities per generated position (llama-server's native shape; replaces firstTokenLogprobs there). */
      tokenLogprobs?: Array<Record<string, number>>;
      /** Leave the generated ids out of the answer (an old vLLM). */
      noTokenIds?: boolean;
    }
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  /** Never answers: the client's timeout (or cancellation) must end it. */
  | { kind: "hang" }
  | { kind: "broken-json" }
  /** A 200 with valid JSON but not a completion. */
  | { kind: "malformed"; body?: unknown }
  /** Drops the connection without an answer (a connection reset). */
  | { kind: "reset" };

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | undefined;
}

export interface FaultServer {
  /** The OpenAI base URL, e.g. http://127.0.0.1:40123/v1. */
  baseUrl: string;
  /** Queues steps for the next completion requests; when the queue is empty, `defaultStep` answers. */
  script(...steps: FaultStep[]): void;
  defaultStep: FaultStep;
  /** Every request, in arrival order. */
  readonly requests: SeenRequest[];
  /** Completion requests only (native /completion, /v1/completions, /v1/chat/completions). */
  completionRequests(): SeenRequest[];
  /** The most completion requests that were in flight at once. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export interface FaultServerOptions {
  /** Answer POST /tokenize; default true. */
  tokenize?: boolean;
  /** Whom GET /v1/models names as owner; default llama-server ("llamacpp"). */
  flavor?: "llama-server" | "vllm" | "generic";
  /** llama-server's context per slot in GET /props (default 4096). */
  contextSize?: number;
  /** What POST /apply-template renders (default: ChatML that keeps the assistant text as given). */
  applyTemplate?: (messages: Array<{ role: string; content: string }>) => string;
}

const MODEL_ID = "fault-model";
export const FAULT_BOS = 1;
export const FAULT_EOS = 2;

/** The fault server's tokenizer: one token per character. */
export function faultTokens(text: string): number[] {
  return [...text].map((character) => (character.codePointAt(0) as number) + 1000);
}

export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const queue: FaultStep[] = [];
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { defaultStep: { kind: "ok", text: "fine" } as FaultStep };
  const flavor = options.flavor ?? "llama-server";

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const path = (request.url ?? "/").split("?")[0];
    let body: Record<string, unknown> | undefined;
    try {
      body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    requests.push({ method: request.method ?? "GET", path, headers: request.headers, body });

    if (request.method === "GET" && path === "/v1/models") {
      const owner = flavor === "llama-server" ? "llamacpp" : flavor === "vllm" ? "vllm" : "someone";
      sendJson(response, 200, { object: "list", data: [{ id: MODEL_ID, object: "model", created: 0, owned_by: owner, ...(flavor === "vllm" ? { max_model_len: 4096 } : {}) }] });
      return;
    }
    if (request.method === "GET" && path === "/props" && flavor === "llama-server") {
      sendJson(response, 200, { default_generation_settings: { n_ctx: options.contextSize ?? 4096 }, chat_template: "{{ messages }}", bos_token: "<s>", eos_token: "</s>" });
      return;
    }
    if (request.method === "POST" && path === "/tokenize") {
      if (options.tokenize === false || flavor === "generic") {
        sendJson(response, 404, { error: { code: 404, message: "File Not Found", type: "not_found_error" } });
        return;
      }
      const text = typeof body?.content === "string" ? body.content : typeof body?.prompt === "string" ? body.prompt : "";
      const addSpecial = body?.add_special === true || body?.add_special_tokens === true;
      const ids = [...(addSpecial ? [FAULT_BOS] : []), ...faultTokens(text)];
      sendJson(response, 200, { tokens: body?.with_pieces === true ? ids.map((id) => ({ id, piece: String.fromCodePoint(id - 1000) })) : ids });
      return;
    }
    if (request.method === "POST" && path === "/apply-template" && flavor === "llama-server") {
      const messages = (Array.isArray(body?.messages) ? body.messages : []) as Array<{ role: string; content: string }>;
      const render = options.applyTemplate ?? ((list) => list.map((message, index) => `<|im_start|>${message.role}\n${message.content}${index === list.length - 1 ? "" : "<|im_end|>\n"}`).join(""));
      sendJson(response, 200, { prompt: render(messages) });
      return;
    }
    if (request.method === "POST" && (path === "/completion" || path === "/v1/completions" || path === "/v1/chat/completions")) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let counted = true;
      const done = () => {
        if (counted) inFlight--;
        counted = false;
      };
      response.once("close", done);
      const shape = path === "/completion" ? "native" : path.endsWith("/chat/completions") ? "chat" : "completions";
      await answerStep(queue.shift() ?? state.defaultStep, body ?? {}, shape, flavor, request, response);
      return;
    }
    sendJson(response, 404, { error: { code: 404, message: "File Not Found", type: "not_found_error" } });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    script: (...steps) => void queue.push(...steps),
    get defaultStep() {
      return state.defaultStep;
    },
    set defaultStep(step: FaultStep) {
      state.defaultStep = step;
    },
    requests,
    completionRequests: () => requests.filter((seen) => seen.path === "/completion" || seen.path.endsWith("/completions")),
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests hold their sockets open: drop them, or close() would wait forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Shape = "native" | "completions" | "chat";

async function answerStep(step: FaultStep, body: Record<string, unknown>, shape: Shape, flavor: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  switch (step.kind) {
    case "hang":
      return;
    case "reset":
      request.socket.destroy();
      return;
    case "broken-json":
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"choices": [{"text": "trunc');
      return;
    case "malformed":
      sendJson(response, 200, step.body ?? { object: "text_completion", note: "no choices here" });
      return;
    case "status":
      response.writeHead(step.status, { "content-type": "application/json", ...step.headers });
      response.end(step.body ?? JSON.stringify({ error: { code: step.status, message: `scripted failure ${step.status}`, type: "server_error" } }));
      return;
    case "ok":
      if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
      if (response.destroyed) return;
      sendJson(response, 200, completionAnswer(step, body, shape, flavor));
      return;
  }
}

/** The server's answer, non-streaming: llama-server's native shape, or the /v1 shapes (vLLM's extras when vLLM). */
function completionAnswer(step: Extract<FaultStep, { kind: "ok" }>, body: Record<string, unknown>, shape: Shape, flavor: string): Record<string, unknown> {
  const text = step.text ?? "";
  const stopType = step.stopType ?? "eos";
  const stop = Array.isArray(body.stop) ? (body.stop[0] as string | undefined) : undefined;
  const prompt = body.prompt;
  const promptTokens = Array.isArray(prompt) ? prompt.length : typeof prompt === "string" ? faultTokens(prompt).length + 1 : 1;
  const ids = [...faultTokens(text), ...(stopType === "word" ? faultTokens(stop ?? "") : stopType === "eos" ? [FAULT_EOS] : [])];
  const listed = (logprobs: Record<string, number>) => Object.entries(logprobs).map(([token, logprob]) => ({ id: faultTokens(token)[0], token, bytes: [], logprob }));
  const positions = (step.tokenLogprobs ?? (step.firstTokenLogprobs ? [step.firstTokenLogprobs] : [])).map(listed);
  const candidates = positions[0];
  const timings = { cache_n: 0, prompt_n: promptTokens, prompt_ms: 1, predicted_n: ids.length, predicted_ms: 1 };
  if (shape === "native") {
    return {
      content: text,
      tokens: step.noTokenIds ? [] : ids,
      stop_type: stopType,
      stopping_word: stopType === "word" ? (stop ?? "") : "",
      truncated: step.truncated === true,
      tokens_predicted: ids.length,
      tokens_evaluated: promptTokens,
      timings,
      ...(positions.length > 0 ? { completion_probabilities: positions.map((position) => ({ ...position[0], top_logprobs: position })) } : {}),
    };
  }
  const chat = shape === "chat";
  let logprobs: unknown = null;
  if (candidates) {
    logprobs =
      flavor === "vllm" && !chat
        ? { tokens: [candidates[0].token], token_logprobs: [candidates[0].logprob], top_logprobs: [Object.fromEntries(candidates.map((candidate) => [body.return_tokens_as_token_ids ? `token_id:${candidate.id}` : candidate.token, candidate.logprob]))] }
        : { content: [{ ...candidates[0], top_logprobs: candidates }] };
  }
  const choice: Record<string, unknown> = {
    ...(chat ? { message: { role: "assistant", content: (flavor === "llama-server" ? echoedPrefill(body) : "") + text } } : { text }),
    index: 0,
    logprobs,
    finish_reason: stopType === "limit" ? "length" : "stop",
  };
  if (flavor === "vllm") {
    choice.stop_reason = stopType === "word" ? (stop ?? null) : null;
    if (body.return_token_ids === true && !step.noTokenIds) choice.token_ids = ids;
  }
  const answer: Record<string, unknown> = {
    choices: [choice],
    created: Math.floor(Date.now() / 1000),
    model: MODEL_ID,
    object: chat ? "chat.completion" : "text_completion",
    usage: { completion_tokens: ids.length, prompt_tokens: promptTokens, total_tokens: promptTokens + ids.length, prompt_tokens_details: { cached_tokens: 0 } },
    id: "cmpl-fault",
  };
  if (flavor === "llama-server") {
    answer.timings = timings;
    if (body.verbose === true) answer.__verbose = { stop_type: stopType, stopping_word: stopType === "word" ? (stop ?? "") : "", truncated: step.truncated === true };
  }
  return answer;
}

/** llama-server's chat answer repeats the partial assistant message it was asked to continue. */
function echoedPrefill(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string; content?: string }>) : [];
  const last = messages[messages.length - 1];
  return body.continue_final_message === true && last?.role === "assistant" ? (last.content ?? "") : "";
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
