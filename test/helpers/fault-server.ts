/**
 * A scripted stand-in for an OpenAI-compatible server, for the faults a real server will not produce on
 * demand (DESIGN.md, "Real parts in tests"): each POST /v1/completions takes the next step of the script
 * (a 429 with Retry-After, a 500, a hang, broken JSON, a 401, a dropped connection, or a normal answer
 * shaped like llama-server's), and the server counts requests in flight and keeps every request it saw.
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
      /** What llama-server's `__verbose.stop_type` says; "word" means the request's stop string matched. */
      stopType?: "word" | "eos" | "limit";
      /** Answer this much later (to overlap requests). */
      delayMs?: number;
      /** Top log-probabilities of the first generated token (llama-server's chat-style shape). */
      firstTokenLogprobs?: Record<string, number>;
    }
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  /** Never answers: the client's timeout (or cancellation) must end it. */
  | { kind: "hang" }
  | { kind: "broken-json" }
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
  /** Completion requests only. */
  completionRequests(): SeenRequest[];
  /** The most completion requests that were in flight at once. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export interface FaultServerOptions {
  /** Answer POST /tokenize (one token per word, +1 for add_special); default true. */
  tokenize?: boolean;
}

const MODEL_ID = "fault-model";

export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const queue: FaultStep[] = [];
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { defaultStep: { kind: "ok", text: "fine" } as FaultStep };

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
      sendJson(response, 200, { object: "list", data: [{ id: MODEL_ID, object: "model", created: 0, owned_by: "llamacpp" }] });
      return;
    }
    if (request.method === "POST" && path === "/tokenize") {
      if (options.tokenize === false) {
        sendJson(response, 404, { error: { code: 404, message: "File Not Found", type: "not_found_error" } });
        return;
      }
      const content = typeof body?.content === "string" ? body.content : "";
      const count = (content.match(/\s*\S+/g) ?? []).length + (body?.add_special === true ? 1 : 0);
      sendJson(response, 200, { tokens: Array.from({ length: count }, (_, index) => index + 1) });
      return;
    }
    if (request.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions")) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let counted = true;
      const done = () => {
        if (counted) inFlight--;
        counted = false;
      };
      response.once("close", done);
      await answerStep(queue.shift() ?? state.defaultStep, body ?? {}, path.endsWith("/chat/completions"), request, response);
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
    completionRequests: () => requests.filter((seen) => seen.path.endsWith("/completions")),
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

async function answerStep(step: FaultStep, body: Record<string, unknown>, chat: boolean, request: IncomingMessage, response: ServerResponse): Promise<void> {
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
    case "status":
      response.writeHead(step.status, { "content-type": "application/json", ...step.headers });
      response.end(step.body ?? JSON.stringify({ error: { code: step.status, message: `scripted failure ${step.status}`, type: "server_error" } }));
      return;
    case "ok":
      if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
      if (response.destroyed) return;
      sendJson(response, 200, completionAnswer(step, body, chat));
      return;
  }
}

/** The shape of llama-server's /v1/completions (or chat) answer, non-streaming, with `__verbose` when asked. */
function completionAnswer(step: Extract<FaultStep, { kind: "ok" }>, body: Record<string, unknown>, chat: boolean): Record<string, unknown> {
  const text = step.text ?? "";
  const stopType = step.stopType ?? "eos";
  const stop = Array.isArray(body.stop) ? (body.stop[0] as string | undefined) : undefined;
  const promptTokens = typeof body.prompt === "string" ? (body.prompt.match(/\s*\S+/g) ?? []).length + 1 : 1;
  const completionTokens = (text.match(/\s*\S+/g) ?? []).length + (stopType === "limit" ? 0 : 1);
  const logprobs = step.firstTokenLogprobs
    ? {
        content: [
          {
            id: 0,
            token: Object.keys(step.firstTokenLogprobs)[0],
            bytes: [],
            logprob: Object.values(step.firstTokenLogprobs)[0],
            top_logprobs: Object.entries(step.firstTokenLogprobs).map(([token, logprob], id) => ({ id, token, bytes: [], logprob })),
          },
        ],
      }
    : null;
  const answer: Record<string, unknown> = {
    choices: [{ ...(chat ? { message: { role: "assistant", content: echoedPrefill(body) + text } } : { text }), index: 0, logprobs, finish_reason: stopType === "limit" ? "length" : "stop" }],
    created: Math.floor(Date.now() / 1000),
    model: MODEL_ID,
    system_fingerprint: "fault-server",
    object: chat ? "chat.completion" : "text_completion",
    usage: { completion_tokens: completionTokens, prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, prompt_tokens_details: { cached_tokens: 0 } },
    id: "cmpl-fault",
    timings: { cache_n: 0, prompt_n: promptTokens, prompt_ms: 1, predicted_n: completionTokens, predicted_ms: 1 },
  };
  if (body.verbose === true) answer.__verbose = { stop_type: stopType, stopping_word: stopType === "word" ? (stop ?? "") : "" };
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
