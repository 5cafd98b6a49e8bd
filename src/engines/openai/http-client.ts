import { J1Error, errorMessage } from "../../core/errors.js";
import { parseRetryAfter, retryWithExponentialBackoff } from "../retry.js";
import { Semaphore } from "./semaphore.js";

export interface HttpClientOptions {
  apiKey?: string;
  /** Per attempt, from sending the request to reading the whole body. */
  timeoutMs: number;
  maxRetries: number;
  /** Requests in flight at once, over every session of the engine. */
  concurrency: number;
  /** First backoff delay (tests shorten it). */
  retryDelayMs?: number;
  /** Aborts everything in flight when the engine is disposed. */
  lifetime?: AbortSignal;
  /**
   * False in a fleet of several servers: a refused or dropped connection or a timeout is thrown at once
   * (not retried on the same server), because the fleet sends the request to another server instead
   * (fleet.ts). Default true.
   */
  retryUnreachable?: boolean;
  /** The server's base URL as the user gave it (`--base-url`), for messages; default: the request's origin. */
  serverUrl?: string;
  /**
   * Told of every failed attempt that is sent again (the engine records them as a warning: an attempt
   * abandoned at the timeout may have made the server evaluate tokens no answer reports).
   */
  onRetry?: (event: { method: string; url: string; attempt: number; error: J1Error }) => void;
}

export interface RequestOptions<T = unknown> {
  signal?: AbortSignal;
  /** Set for probes whose failure the caller handles (e.g. /tokenize missing): no retries. */
  retries?: number;
  /**
   * Reads the parsed JSON into what the caller needs, inside the retried attempt: a malformed answer
   * (a 200 without the expected fields) throws a retryable `malformedAnswer` error and is asked again,
   * like a 5xx.
   */
  read?: (json: unknown, url: string) => T;
  /** Extra request headers (the fleet's affinity key for routers). */
  headers?: Record<string, string>;
}

/** A 200 whose JSON lacks what the caller needs: retried like a 5xx (and given up when it repeats). */
export function malformedAnswer(url: string, body: unknown, problem: string): J1Error {
  const shown = JSON.stringify(body) ?? String(body);
  return new J1Error("engine-http", `${url}: unexpected answer (${problem}): ${truncate(shown)}`, {
    context: { url, status: 200, malformed: true, serverBody: shown.slice(0, 2000) },
    retryable: true,
  });
}

/** How much of a server's error body goes into an error message. */
const ERROR_TEXT_LIMIT = 500;

/** Connection failures worth another try: the server restarted, dropped us, or is still starting. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

/**
 * JSON over HTTP with what a judge run needs from a remote model: a bearer key, a bound on requests in
 * flight, a per-attempt timeout, cancellation, and retries (through engines/retry.ts) of the failures
 * that can pass. Every error names the method, URL and status and quotes the server's own error text.
 */
export class HttpClient {
  private readonly semaphore: Semaphore;
  /**
   * Whether the server has answered anything yet (any HTTP status). Until it has, a refused connection
   * means nothing listens at the URL (a typo, a server not started), which no retry will change: it is
   * said at once (`unreachableServer`). Once it has, a refused connection is a server that went away
   * mid-run (restarting, or a fleet member dropping), and is retried as before.
   */
  private answered = false;

  constructor(private readonly options: HttpClientOptions) {
    this.semaphore = new Semaphore(options.concurrency);
  }

  /** Sets the bound on requests in flight (the server's slots, once known). */
  setConcurrency(limit: number): void {
    this.semaphore.resize(limit);
  }

  get inFlight(): number {
    return this.semaphore.inUse;
  }

  getJson<T = unknown>(url: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request("GET", url, undefined, options);
  }

  postJson<T = unknown>(url: string, body: unknown, options: RequestOptions<T> = {}): Promise<T> {
    return this.request("POST", url, body, options);
  }

  private request<T>(method: string, url: string, body: unknown, options: RequestOptions<T>): Promise<T> {
    const signal = anySignal([options.signal, this.options.lifetime]);
    return retryWithExponentialBackoff(
      async () => {
        const json = await this.once(method, url, body, signal, options.headers);
        return options.read ? options.read(json, url) : (json as T);
      },
      {
        maxRetries: options.retries ?? this.options.maxRetries,
        initialDelayMs: this.options.retryDelayMs,
        signal,
        failureKey: deterministicFailureKey,
        onRetry: this.options.onRetry && (({ attempt, error }) => this.options.onRetry?.({ method, url, attempt, error })),
      },
    );
  }

  private async once(method: string, url: string, body: unknown, signal: AbortSignal | undefined, extraHeaders: Record<string, string> | undefined): Promise<unknown> {
    const release = await this.semaphore.acquire(signal);
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error("timeout"));
    }, this.options.timeoutMs);
    // One signal for the caller's cancel and this attempt's timeout, without a listener on the caller's
    // signal: a judgment tokenizes its pieces concurrently under one signal, and a listener per request
    // passed Node's limit of 10 (MaxListenersExceededWarning) at five or more special-token strings.
    const attemptSignal = signal === undefined ? attempt.signal : AbortSignal.any([signal, attempt.signal]);
    try {
      const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
      const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: attemptSignal });
      this.answered = true;
      const text = await response.text();
      if (!response.ok) throw httpError(method, url, response, text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // A cut-short body is worth another try; the same broken body twice is not (deterministicFailureKey).
        throw new J1Error("engine-http", `${method} ${url}: the server's answer is not valid JSON (HTTP ${response.status}): ${truncate(text)}`, {
          context: { url, status: response.status, malformed: true, serverBody: text.slice(0, 2000) },
          retryable: true,
        });
      }
    } catch (error) {
      if (error instanceof J1Error) throw error;
      if (signal?.aborted) throw new J1Error("cancelled", `${method} ${url}: cancelled`, { context: { url }, cause: error });
      if (timedOut) {
        throw new J1Error("engine-timeout", `${method} ${url}: no complete answer within ${this.options.timeoutMs} ms`, {
          context: { url, timeoutMs: this.options.timeoutMs, unreachable: true },
          retryable: this.options.retryUnreachable !== false,
          cause: error,
        });
      }
      const code = networkErrorCode(error);
      if ((code === "ECONNREFUSED" || code === "ENOTFOUND") && !this.answered) throw unreachableServer(code, method, url, this.options.serverUrl, error);
      const transient = code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
      throw new J1Error("engine-http", `${method} ${url}: ${errorMessage(error)}${causeText(error)}`, {
        context: { url, networkError: code, unreachable: transient },
        retryable: transient && this.options.retryUnreachable !== false,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      release();
    }
  }
}

/**
 * A server that could not be reached before it ever answered, for a reason that is the URL's and not the
 * moment's: bad input (exit 2 in the CLI, like a model file that is not there), not retried, and still
 * `unreachable` so that a fleet marks that one server down and goes on with the others (fleet.ts).
 * - ECONNREFUSED: nothing listens at the URL (`refused`, which the fleet counts for its own message).
 * - ENOTFOUND: the host name does not resolve, a typo in the URL. (EAI_AGAIN, a resolver that could not
 *   answer now, is not here: it is retried.)
 */
function unreachableServer(code: "ECONNREFUSED" | "ENOTFOUND", method: string, url: string, serverUrl: string | undefined, error: unknown): J1Error {
  const where = serverUrl ?? new URL(url).origin;
  const message = code === "ECONNREFUSED" ? `connection refused: is the server running at ${where}?` : `host not found: ${new URL(url).hostname} does not resolve (check the host name in ${where})`;
  return new J1Error("bad-input", message, {
    context: { url, baseUrl: where, request: `${method} ${url}`, field: "--base-url", networkError: code, ...(code === "ECONNREFUSED" ? { refused: true } : {}), unreachable: true },
    retryable: false,
    cause: error,
  });
}

function httpError(method: string, url: string, response: Response, text: string): J1Error {
  const status = response.status;
  // 408 and 409 are the other answers that mean "try again"; 4xx otherwise means the request is wrong.
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  const hint = status === 401 || status === 403 ? " (check --api-key, J1_API_KEY or OPENAI_API_KEY)" : "";
  return new J1Error("engine-http", `${method} ${url}: HTTP ${status}${hint}: ${truncate(serverErrorText(text))}`, {
    context: { url, status, retryAfterMs: parseRetryAfter(response.headers.get("retry-after")), serverBody: text.slice(0, 2000) },
    retryable,
  });
}

/**
 * A 5xx or a malformed 200 that comes back with the same status and body as the attempt before is the
 * server's fixed answer to this request (llama-server's 500 on invalid UTF-8 is one): retrying it
 * again only wastes time. A 429 or a timeout says nothing about the request, so it has no key; nor
 * do 502, 503 and 504, which tell the state of the server or a proxy in front of it: llama-server
 * answers every request with the same 503 "Loading model" until its model is loaded.
 */
function deterministicFailureKey(error: J1Error): string | undefined {
  const { status, serverBody } = error.context;
  if (typeof status !== "number" || typeof serverBody !== "string") return undefined;
  if (status < 500 && error.context.malformed !== true) return undefined;
  if (status >= 502 && status <= 504) return undefined;
  return `${status}\n${serverBody}`;
}

/** Servers wrap their message as {error: {message}} (OpenAI, llama-server), {error: "…"} or {detail} (vLLM's FastAPI). */
function serverErrorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    if (typeof error === "string") return error;
    if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") return (error as { message: string }).message;
    if (typeof parsed.message === "string") return parsed.message;
    if (parsed.detail !== undefined) return typeof parsed.detail === "string" ? parsed.detail : JSON.stringify(parsed.detail);
  } catch {
    // Not JSON: quote it as it is.
  }
  return text.trim() || "(empty body)";
}

function truncate(text: string): string {
  return text.length <= ERROR_TEXT_LIMIT ? text : `${text.slice(0, ERROR_TEXT_LIMIT)}… (${text.length} characters)`;
}

/** undici reports network failures as TypeError("fetch failed") with the system error as its cause. */
function networkErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message ? ` (${cause.message})` : "";
}

function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}
