import { J1Error } from "../../core/errors.js";
import { segmentsText } from "../../core/chat-format.js";
import type { PromptSegment } from "../../core/template.js";
import type { Engine, EngineCapabilities, EngineDescription, EngineSession, OpenOptions } from "../engine.js";
import { DEFAULT_MAX_RETRIES } from "../retry.js";
import type { OpenAIApi } from "./completion-request.js";
import { HttpClient } from "./http-client.js";
import { OpenAISession } from "./openai-session.js";
import { detectServer, serverRoot, type ServerFlavor } from "./server-flavor.js";
import { TokenCounter } from "./token-counter.js";
import { WarningLog, type EngineWarning } from "../engine-warnings.js";

export type { EngineWarning } from "../engine-warnings.js";
export type { ServerFlavor } from "./server-flavor.js";

export interface OpenAIEngineOptions {
  /** The server's OpenAI base URL, e.g. http://127.0.0.1:8080/v1 (vLLM, SGLang, llama-server). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; default: env J1_API_KEY, then OPENAI_API_KEY. */
  apiKey?: string;
  /** The served model's id; default: the first one GET /models lists. */
  model?: string;
  /** "completions": raw continuation of our rendered text (the real thing); "chat": the fallback. */
  api?: OpenAIApi;
  /** Requests in flight at once (default 4); also `capabilities.parallelSessions`. */
  concurrency?: number;
  /** Per request attempt (default 120 000 ms); a timeout is retried. */
  timeoutMs?: number;
  /** Default 4. */
  maxRetries?: number;
  /** First backoff delay in ms (default 500). */
  retryDelayMs?: number;
  /** Skip detection (GET /models) and assume this server. */
  flavor?: ServerFlavor;
  /** Merged into every completion request, e.g. `{logit_bias: …}`. */
  extraBody?: Record<string, unknown>;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_TIMEOUT_MS = 120_000;

/** Chat-template control tokens: <|im_end|>, <|eot_id|>, <s>, </s>, <start_of_turn>, … */
const SPECIAL_TOKEN_LIKE = /<\|[^|>]{1,40}\|>|<\/?s>|<(?:start|end)_of_turn>/;

interface EngineParts {
  client: HttpClient;
  counter: TokenCounter;
  /** Aborting it cancels every request in flight (dispose). */
  lifetime: AbortController;
  warnings: WarningLog;
  baseUrl: string;
  api: OpenAIApi;
  flavor: ServerFlavor;
  model?: string;
  concurrency: number;
  extraBody?: Record<string, unknown>;
}

/**
 * The `openai` engine: budget forcing over any OpenAI-compatible server. A session is text on our side;
 * each step continues it with a raw completion request (see OpenAISession). What the server cannot do
 * (constrain a verdict, count tokens, tell a stop string from end of sequence, report cache use) is
 * recorded in `warnings`, never a failure.
 *
 * Delimiters must come out as text: vLLM needs `skip_special_tokens: false` (sent), llama-server renders
 * special tokens only with `--special` (start it so if your model's </think> is a special token).
 */
export class OpenAIEngine implements Engine {
  readonly name = "openai";
  readonly capabilities: EngineCapabilities;
  private readonly sessions = new Set<OpenAISession>();
  private disposed = false;

  private constructor(private readonly parts: EngineParts) {
    this.capabilities = {
      grammar: parts.flavor === "llama-server" || parts.flavor === "vllm",
      probabilities: true,
      tokenLevelInjection: false,
      parallelSessions: parts.concurrency,
    };
  }

  static async create(options: OpenAIEngineOptions): Promise<OpenAIEngine> {
    const baseUrl = options.baseUrl.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(baseUrl)) throw new J1Error("bad-input", `--base-url must be an http(s) URL, got "${options.baseUrl}"`, { context: { field: "baseUrl" } });
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    const warnings = new WarningLog();
    const lifetime = new AbortController();
    const client = new HttpClient({
      apiKey: options.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      concurrency,
      retryDelayMs: options.retryDelayMs,
      lifetime: lifetime.signal,
    });
    let flavor = options.flavor;
    let model = options.model;
    if (flavor === undefined) {
      const detected = await detectServer(client, baseUrl);
      flavor = detected.info.flavor;
      model ??= detected.info.model;
      if (detected.problem) warnings.other("detect", `could not tell the server kind (${detected.problem}): using plain OpenAI requests`);
    }
    const counter = new TokenCounter(client, `${serverRoot(baseUrl)}/tokenize`, model, (reason) =>
      warnings.unsupported("tokenize", `token counts are estimates (about 4 characters a token): ${reason}`),
    );
    return new OpenAIEngine({ client, counter, lifetime, warnings, baseUrl, api: options.api ?? "completions", flavor, model, concurrency, extraBody: options.extraBody });
  }

  /** Options the server could not honour, one entry per setting. */
  get warnings(): readonly EngineWarning[] {
    return this.parts.warnings.all;
  }

  describe(): EngineDescription {
    const { model, baseUrl, api, flavor, concurrency } = this.parts;
    return { engine: "openai", model: model ?? "(server default)", baseUrl, api, flavor, concurrency };
  }

  countTokens(text: string): Promise<number> {
    return this.parts.counter.count(text);
  }

  async open(prompt: readonly PromptSegment[], options: OpenOptions = {}): Promise<EngineSession> {
    if (this.disposed) throw new J1Error("engine", "engine is disposed");
    const { client, counter, warnings, baseUrl, api, flavor, model, extraBody } = this.parts;
    const promptText = segmentsText(prompt);
    if (prompt.some((segment) => !segment.trusted && SPECIAL_TOKEN_LIKE.test(segment.text))) {
      // Over HTTP the prompt is one string, and the server parses special tokens in all of it.
      warnings.other("untrusted-special", "judged text that looks like a special token (<|…|>, <…>) is sent as plain text; the server may read it as that token");
    }
    const promptTokens = await counter.count(promptText, { withSpecial: flavor === "llama-server", signal: options.signal });
    const session: OpenAISession = new OpenAISession({
      client,
      baseUrl,
      shape: { api, flavor, model, extraBody },
      counter,
      warnings,
      promptText,
      promptTokens,
      onClose: () => this.sessions.delete(session),
    });
    this.sessions.add(session);
    return session;
  }

  /** Idempotent; aborts requests still in flight (they fail as cancelled) and closes open sessions. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.parts.lifetime.abort(new J1Error("cancelled", "engine disposed"));
    await Promise.all([...this.sessions].map((session) => session.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

export function createOpenAIEngine(options: OpenAIEngineOptions): Promise<OpenAIEngine> {
  return OpenAIEngine.create(options);
}
