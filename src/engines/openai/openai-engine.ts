import { setMaxListeners } from "node:events";
import { J1Error, errorMessage } from "../../core/errors.js";
import { segmentsText } from "../../core/chat-format.js";
import { detectSpacePrefix, promptPieces, tokenizePieces, type PieceVocabulary } from "../../core/prompt-pieces.js";
import type { PromptSegment } from "../../core/template.js";
import type { Engine, EngineCapabilities, EngineDescription, EngineSession, ModelChatTemplate, OpenOptions } from "../engine.js";
import { WarningLog, type EngineWarning } from "../engine-warnings.js";
import { DEFAULT_MAX_RETRIES } from "../retry.js";
import { readGgufVocabulary, type GgufVocabulary } from "../gguf-vocabulary.js";
import type { OpenAIApi, RequestShape } from "./completion-request.js";
import { HttpClient } from "./http-client.js";
import { OpenAISession } from "./openai-session.js";
import { chatTemplateProblem, checkThinkEndVisible, readLlamaServerProps } from "./server-checks.js";
import { detectServer, serverRoot, tokenPromptSupport, type ServerFlavor } from "./server-flavor.js";
import { routeIsMissing, ServerTokenizer } from "./server-tokenizer.js";
import { TokenCounter } from "./token-counter.js";
import { Semaphore } from "./semaphore.js";
import { FleetRoute, freshFigures, ServerFleet, serverUnreachable, type FleetMember } from "./fleet.js";
import type { ServerFigures } from "../server-route.js";

export type { EngineWarning } from "../engine-warnings.js";
export type { ServerFlavor } from "./server-flavor.js";

export interface OpenAIEngineOptions {
  /** The server's OpenAI base URL, e.g. http://127.0.0.1:8080/v1 (vLLM, SGLang, llama-server). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; default: env J1_API_KEY, then OPENAI_API_KEY. */
  apiKey?: string;
  /** The served model's id; default: the first one GET /models lists. */
  model?: string;
  /** "completions": raw continuation of token ids (the real thing); "chat": the fallback (text). */
  api?: OpenAIApi;
  /**
   * Send the prompt as text where token ids are impossible (an unknown server, Ollama, `api: "chat"`).
   * Text lets judged text such as `<|im_end|>` become real control tokens on the server: refused
   * unless set, and then recorded as a warning.
   */
  allowTextPrompt?: boolean;
  /** The end-of-thinking text the judge watches (its template's `thinkEnd`); checked at start. Default "</think>". */
  thinkEnd?: string;
  /** Candidates asked for at the verdict position (default 50; vLLM 20, its default `max_logprobs`). */
  verdictTopK?: number;
  /**
   * How a llama-server token-id session writes the verdict: "walk" (default) reads candidates and walks
   * the choices' tokens as the in-process engine does; "grammar" asks under a grammar in one request (what
   * other servers get; kept for comparison, bench/http-answer.ts). OpenAISession.walkAnswer.
   */
  verdictAnswer?: "walk" | "grammar";
  /**
   * Requests in flight at once per server (default: a llama-server's slots from /props, else 4); their sum
   * over the fleet is `capabilities.parallelSessions`.
   */
  concurrency?: number;
  /** Per request attempt (default 120 000 ms); a timeout is retried. */
  timeoutMs?: number;
  /**
   * Thinking is asked for in chunks so no request outlives `timeoutMs`: the first chunk's tokens (default
   * 256); later chunks are sized from the speed measured to take about a quarter of the timeout.
   */
  thinkingChunkTokens?: number;
  /** Default 4. */
  maxRetries?: number;
  /** First backoff delay in ms (default 500). */
  retryDelayMs?: number;
  /**
   * A fleet: every server's base URL (`baseUrl` then is the first). Each judgment's sessions go to one
   * of them (rendezvous hashing on its key); a server that fails is left for the next (fleet.ts).
   */
  baseUrls?: readonly string[];
  /** How often a server marked down is checked again (default 2000 ms). */
  healthIntervalMs?: number;
  /** Skip detection (GET /models) and assume this server. */
  flavor?: ServerFlavor;
  /** Merged into every completion request, e.g. `{logit_bias: …}`. */
  extraBody?: Record<string, unknown>;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_THINK_END = "</think>";
const DEFAULT_VERDICT_TOP_K = 50;
const VLLM_MAX_LOGPROBS = 20;
/** The OpenAI API's own cap on `logprobs` for completions. */
const OPENAI_MAX_LOGPROBS = 5;

interface EngineParts {
  /** The servers (one per --base-url); sessions are routed by their affinity key. */
  fleet: ServerFleet;
  counter: TokenCounter;
  /** Whether the server's tokenizer can be used (llama-server, vLLM, SGLang). */
  known: boolean;
  /** Token-id prompts (true) or text prompts (allowTextPrompt). */
  tokenPrompts: boolean;
  bos?: number;
  contextSize?: number;
  chatTemplate?: ModelChatTemplate;
  /** The served GGUF's facts, where /props names a file j1 can read. */
  gguf?: GgufVocabulary;
  /** The piece rule's view of the served vocabulary (one model across the fleet). */
  vocabulary: PieceVocabulary;
  /** The first server answering at start: where the end-of-thinking checks run. */
  primary: { client: HttpClient; tokenizer: ServerTokenizer };
  /** End-of-thinking texts checked (or being checked) at start, by text. */
  thinkEndChecks: Map<string, Promise<void>>;
  /** Aborting it cancels every request in flight (dispose). */
  lifetime: AbortController;
  warnings: WarningLog;
  shape: RequestShape;
  concurrency: number;
  verdictTopK: number;
  verdictAnswer?: "walk" | "grammar";
  /** Per request attempt: long thinking is asked for in chunks that each take a fraction of it. */
  timeoutMs: number;
  thinkingChunkTokens?: number;
}

/**
 * The `openai` engine: budget forcing over an OpenAI-compatible server. Prompts go as token ids, built
 * by the piece rule (core/prompt-pieces.ts) with the server's own tokenizer, so judged text can never
 * become a control token and both engines feed the same ids for the same judgment; the session holds
 * ids from then on (OpenAISession). What the server cannot do (constrain a verdict, report cache use,
 * tell a stop string from end of sequence) is recorded in `warnings`, one entry per setting.
 *
 * At start it checks what would silently corrupt traces: a llama-server that hides the end-of-thinking
 * token (needs `--special`), and with `api: "chat"` a chat template that rewrites `<think>`.
 */
export class OpenAIEngine implements Engine {
  readonly name = "openai";
  readonly capabilities: EngineCapabilities;
  private readonly sessions = new Set<OpenAISession>();
  private disposed = false;

  private constructor(private readonly parts: EngineParts) {
    const { flavor } = parts.shape;
    this.capabilities = {
      grammar: flavor === "llama-server" || flavor === "vllm" || flavor === "sglang",
      probabilities: true,
      tokenLevelInjection: false,
      parallelSessions: parts.concurrency,
      // llama-server keeps a prompt in the slot that evaluated it (and picks the idle slot with the longest
      // common prefix), so concurrent samples of one prompt would each evaluate it in another slot.
      ...(flavor === "llama-server" ? { promptSharing: "sequential" as const } : {}),
    };
  }

  static async create(options: OpenAIEngineOptions): Promise<OpenAIEngine> {
    const urls = fleetUrls(options);
    const warnings = new WarningLog();
    const lifetime = new AbortController();
    // Every request in flight, over every server, listens to it: far more than Node's default warning at 10.
    setMaxListeners(0, lifetime.signal);
    const fleetOfMany = urls.length > 1;
    const clientFor = (serverUrl: string, concurrency: number) =>
      new HttpClient({
        serverUrl,
        apiKey: options.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
        concurrency,
        retryDelayMs: options.retryDelayMs,
        lifetime: lifetime.signal,
        // In a fleet an unreachable server is left for another at once (fleet.ts), not asked again.
        retryUnreachable: !fleetOfMany,
        onRetry: ({ error }) => noteRetry(warnings, error, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    // Each server gets its own client: its own bound on requests in flight, set once its slots are known.
    const clients = urls.map((url) => clientFor(url, options.concurrency ?? DEFAULT_CONCURRENCY));

    // The first server that answers is asked everything below; the others must serve the same model.
    let primary = 0;
    let flavor = options.flavor;
    let model = options.model;
    let contextSize: number | undefined;
    const reachable = urls.map(() => true);
    if (flavor === undefined) {
      const detections: Array<Awaited<ReturnType<typeof detectServer>> | Error> = await Promise.all(
        urls.map((url, index) => detectServer(clients[index], url).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
      );
      const answered = detections.findIndex((detection) => !(detection instanceof Error));
      if (answered < 0 && fleetOfMany && detections.every((detection) => detection instanceof J1Error && detection.context.refused === true)) {
        throw new J1Error("bad-input", `connection refused by every server of the fleet: is any running at ${urls.join(", ")}?`, { context: { field: "--base-url", urls, refused: true } });
      }
      if (answered < 0 || !fleetOfMany) {
        if (detections[0] instanceof Error) throw detections[0];
      }
      primary = answered;
      const detected = detections[primary] as Awaited<ReturnType<typeof detectServer>>;
      flavor = detected.info.flavor;
      model ??= detected.info.model;
      contextSize = detected.info.maxModelLength;
      if (detected.problem) warnings.other("detect", `could not tell the server kind (${detected.problem}): using plain OpenAI requests`);
      detections.forEach((detection, index) => {
        if (detection instanceof Error) {
          if (!serverUnreachable(detection)) throw detection;
          reachable[index] = false;
          warnings.other(`down:${urls[index]}`, `${urls[index]} did not answer at start (${errorMessage(detection)}): marked down until its health check answers`);
          return;
        }
        const other = detection.info;
        if (other.flavor !== flavor || (options.model === undefined && other.model !== detected.info.model)) {
          throw new J1Error("bad-input", `the servers of a fleet must serve the same model on the same kind of server: ${urls[primary]} is ${detected.info.flavor} serving "${detected.info.model}", ${urls[index]} is ${other.flavor} serving "${other.model}"`, { context: { field: "--base-url", url: urls[index] } });
        }
      });
    }
    const api = options.api ?? "completions";
    const shapes: RequestShape[] = urls.map((url) => ({ api, flavor: flavor as ServerFlavor, baseUrl: url, root: serverRoot(url), model, extraBody: options.extraBody }));
    const shape = shapes[primary];
    const client = clients[primary];
    const root = shape.root;
    const thinkEnd = options.thinkEnd ?? DEFAULT_THINK_END;
    const known = flavor === "llama-server" || flavor === "vllm" || flavor === "sglang";
    const tokenizers = urls.map((_, index) => new ServerTokenizer(clients[index], shapes[index].root, flavor as ServerFlavor, model, known ? undefined : 0));
    const tokenizer = tokenizers[primary];
    const counter = new TokenCounter(tokenizer, (reason) => warnings.unsupported("tokenize", `token counts are estimates (about 4 characters a token): ${reason}`));

    // Token ids where the server takes them; text only when allowed, and then said.
    let tokenPrompts = api === "completions" && tokenPromptSupport(flavor).ok;
    let bos: number | undefined;
    if (tokenPrompts) {
      try {
        bos = await tokenizer.beginningOfSequence();
      } catch (error) {
        if (!routeIsMissing(error)) throw error;
        tokenPrompts = false;
        if (!options.allowTextPrompt) {
          throw new J1Error("bad-input", `${root}/tokenize failed (${errorMessage(error)}): without the server's tokenizer j1 cannot send token ids, and as text judged text such as <|im_end|> can become real control tokens. Pass --allow-text-prompt (allowTextPrompt: true) to send text anyway`, { context: { field: "allowTextPrompt" } });
        }
        warnings.other("text-prompt", `prompts are sent as text (the server's /tokenize failed): judged text that looks like a special token may become that token`);
      }
    } else {
      const reason = api === "chat" ? "the chat API takes messages, not token ids" : (tokenPromptSupport(flavor) as { reason: string }).reason;
      if (!options.allowTextPrompt) {
        throw new J1Error("bad-input", `cannot send token-id prompts: ${reason}. Judged text would reach the model as text, where <|im_end|> and the like become real control tokens. Use --api completions with llama-server, vLLM or SGLang, or pass --allow-text-prompt (allowTextPrompt: true) to accept text prompts`, {
          context: { field: api === "chat" ? "api" : "allowTextPrompt", flavor },
        });
      }
      warnings.other("text-prompt", `prompts are sent as text (${reason}): judged text that looks like a special token may become that token`);
    }

    let chatTemplate: ModelChatTemplate | undefined;
    let gguf: GgufVocabulary | undefined;
    const slots: Array<number | undefined> = urls.map(() => undefined);
    if (flavor === "llama-server") {
      try {
        const props = await readLlamaServerProps(client, root);
        contextSize = props.contextSize ?? contextSize;
        chatTemplate = props.chatTemplate;
        gguf = props.modelPath ? await readGgufVocabulary(props.modelPath).catch(() => undefined) : undefined;
        if (props.builtinTemplate || (gguf && !gguf.hasChatTemplate && chatTemplate)) {
          // As in process: a model without a template of its own gets j1's fallback (and its note), not the server's.
          chatTemplate = undefined;
          warnings.other("builtin-template", "llama-server reports its built-in ChatML template: the GGUF carries no chat template of its own, so j1 renders the prompt as it does in process for such a model (see the prompt format's note)");
        }
        slots[primary] = props.slots;
      } catch (error) {
        if (error instanceof J1Error && error.code === "cancelled") throw error;
        warnings.other("props", `${root}/props failed (${errorMessage(error)}): the context size per sequence is unknown`);
      }
      // Each server's own slots bound its requests in flight (unless --parallel says otherwise).
      await Promise.all(
        urls.map(async (_, index) => {
          if (index === primary || !reachable[index]) return;
          slots[index] = (await readLlamaServerProps(clients[index], shapes[index].root).catch(() => undefined))?.slots;
        }),
      );
    }
    // The piece rule's view of the vocabulary: its added tokens from the served GGUF where it can be read
    // (the same list the in-process engine uses), whether it puts a space before every text from the server.
    const vocabulary: PieceVocabulary = { addedTokens: gguf?.addedTokens };
    if (tokenPrompts) {
      if (!gguf) warnings.other("vocabulary", "the served vocabulary's added tokens are unknown here (llama-server's model file is not readable on this machine, or another server): judged text is broken at special-looking strings (a pattern) instead, which may miss an added token of another shape and splits strings that only look special");
      vocabulary.spacePrefix = await detectSpacePrefix(tokenizer.pieceTokenizer());
    }
    const thinkEndChecks = new Map<string, Promise<void>>();
    if (flavor === "llama-server" && (tokenPrompts || api === "chat")) {
      const check = checkThinkEndVisible(client, root, tokenizer, thinkEnd, bos);
      thinkEndChecks.set(thinkEnd, check);
      await check;
    }
    if (api === "chat") {
      const problem = await chatTemplateProblem(client, shape, thinkEnd);
      if (problem === "unchecked") warnings.other("chat-template", "--api chat: the server offers no way to render its chat template, so j1 could not check that it keeps the thinking as given");
      else if (problem !== undefined) {
        throw new J1Error("bad-input", `--api chat cannot run a thinking judge on this server: its chat template rewrites the thinking (${problem}), so the recorded trace would not be what the model continued. Use --api completions (token ids)`, { context: { field: "api" } });
      }
      warnings.other("chat-nesting", "--api chat: the server puts j1's rendered prompt into its own chat template as one user message (with --chat-format plain, the server's template is the only one applied)");
    }

    const members: FleetMember[] = urls.map((url, index) => {
      const concurrency = options.concurrency ?? slots[index] ?? slots[primary] ?? DEFAULT_CONCURRENCY;
      clients[index].setConcurrency(concurrency);
      return { baseUrl: url, client: clients[index], shape: shapes[index], tokenizer: tokenizers[index], figures: freshFigures(url, concurrency, reachable[index]), seats: new Semaphore(concurrency) };
    });
    const fleet = new ServerFleet(members, options.healthIntervalMs);
    const concurrency = members.reduce((sum, member) => sum + member.figures.slots, 0);

    const requested = options.verdictTopK ?? DEFAULT_VERDICT_TOP_K;
    const verdictTopK = flavor === "vllm" && options.verdictTopK === undefined ? VLLM_MAX_LOGPROBS : flavor === "generic" || flavor === "ollama" ? Math.min(requested, OPENAI_MAX_LOGPROBS) : requested;
    return new OpenAIEngine({ fleet, counter, tokenPrompts, bos, contextSize, chatTemplate, lifetime, warnings, shape, concurrency, verdictTopK, known, gguf, thinkEndChecks, vocabulary, primary: { client, tokenizer }, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, thinkingChunkTokens: options.thinkingChunkTokens, verdictAnswer: options.verdictAnswer });
  }

  /** Options the server could not honour, one entry per setting. */
  get warnings(): readonly EngineWarning[] {
    return this.parts.warnings.all;
  }

  describe(): EngineDescription {
    const { shape, concurrency, tokenPrompts, contextSize, fleet } = this.parts;
    return {
      engine: "openai",
      model: shape.model ?? "(server default)",
      // A fleet is named by all its servers, sorted: the same fleet given in another order is the same.
      baseUrl: fleet.size > 1 ? [...fleet.members.map((member) => member.baseUrl)].sort().join(" ") : shape.baseUrl,
      api: shape.api,
      flavor: shape.flavor,
      concurrency,
      prompt: tokenPrompts ? "token-ids" : "text",
      contextSize,
    };
  }

  /** Per server: up or down, slots, sessions, requests, tokens, cache reuse, errors and failovers. */
  servers(): ServerFigures[] {
    return this.parts.fleet.figures();
  }

  async countTokens(text: string): Promise<number> {
    // As in process: plain text, no special-token parsing.
    return this.parts.counter.count(text, { parseSpecial: false });
  }

  async chatTemplate(): Promise<ModelChatTemplate | undefined> {
    return this.parts.chatTemplate;
  }

  /** The piece rule's view of the served vocabulary (added tokens from the GGUF where readable, space prefix). */
  get vocabulary(): PieceVocabulary {
    return this.parts.vocabulary;
  }

  async architecture(): Promise<string | undefined> {
    return this.parts.gguf?.architecture;
  }

  /**
   * The start-up check for the end of thinking of the detected format (`[/THINK]`, harmony's `<|end|>`),
   * once per text: on llama-server a control token there must come back as text (`--special`).
   */
  async checkThinkEnd(thinkEnd: string): Promise<void> {
    const { shape, tokenPrompts, primary, bos, thinkEndChecks, known } = this.parts;
    const { client, tokenizer } = primary;
    if (shape.flavor !== "llama-server" || !known || !(tokenPrompts || shape.api === "chat")) return;
    let check = thinkEndChecks.get(thinkEnd);
    if (!check) {
      check = checkThinkEndVisible(client, shape.root, tokenizer, thinkEnd, bos);
      thinkEndChecks.set(thinkEnd, check);
    }
    await check;
  }

  /**
   * The prompt's ids by the piece rule, tokenized by the server (pieces in parallel, joined in order),
   * with BOS in front when the model wants it and the rendered template did not already write it.
   */
  async tokenizePrompt(prompt: readonly PromptSegment[], signal?: AbortSignal, sessionRoute?: FleetRoute): Promise<number[]> {
    if (!this.parts.known) throw new J1Error("engine", "this server has no tokenizer j1 can use");
    const route = sessionRoute ?? new FleetRoute(this.parts.fleet, "tokenize");
    try {
      return await this.tokenizeOn(route, prompt, signal);
    } finally {
      if (!sessionRoute) route.leave();
    }
  }

  private async tokenizeOn(route: FleetRoute, prompt: readonly PromptSegment[], signal: AbortSignal | undefined): Promise<number[]> {
    const { vocabulary } = this.parts;
    // Each piece through the route (its server, failing over as any request does); a continuation on a
    // space-prefix vocabulary costs the server one more small /tokenize.
    const tokenizer = { tokenize: (text: string, parseSpecial: boolean) => route.call((member) => member.tokenizer.tokenize(text, parseSpecial, { signal, headers: route.headers }), signal) };
    const ids = await tokenizePieces(promptPieces(prompt, vocabulary), tokenizer, vocabulary);
    const { bos } = this.parts;
    if (bos !== undefined && ids[0] !== bos) ids.unshift(bos);
    return ids;
  }

  async open(prompt: readonly PromptSegment[], options: OpenOptions = {}): Promise<EngineSession> {
    if (this.disposed) throw new J1Error("engine", "engine is disposed");
    const { counter, warnings, shape, tokenPrompts, contextSize, verdictTopK, fleet, known } = this.parts;
    const promptText = segmentsText(prompt);
    // One judgment's sessions share a key, so they share a server (and its prefix cache).
    const route = new FleetRoute(fleet, options.affinityKey ?? promptText);
    let promptIds: number[] | undefined;
    let promptTokens: number;
    try {
      // A seat on its server (a fleet of several) for the session's whole life: it is given back on close.
      await route.admit(options.signal);
      if (tokenPrompts) {
        promptIds = await this.tokenizePrompt(prompt, options.signal, route);
        promptTokens = promptIds.length;
        if (contextSize !== undefined && promptTokens > contextSize - 64) {
          throw new J1Error("engine", `the prompt has ${promptTokens} tokens but the server holds ${contextSize} per sequence; start it with a larger context (llama-server -c, divided by -np) or shorten the input`, { context: { promptTokens, contextSize } });
        }
      } else {
        promptTokens = await counter.count(promptText, { withSpecial: shape.flavor === "llama-server", signal: options.signal });
      }
    } catch (error) {
      route.leave();
      throw error;
    }
    const session: OpenAISession = new OpenAISession({
      route,
      shape,
      warnings,
      counter,
      tokenize: known,
      vocabulary: this.parts.vocabulary,
      promptIds,
      promptText,
      promptTokens,
      contextSize,
      topLogprobs: verdictTopK,
      verdictAnswer: this.parts.verdictAnswer,
      requestTimeoutMs: this.parts.timeoutMs,
      firstChunkTokens: this.parts.thinkingChunkTokens,
      onClose: () => {
        route.leave();
        this.sessions.delete(session);
      },
    });
    this.sessions.add(session);
    return session;
  }

  /** Idempotent; aborts requests still in flight (they fail as cancelled) and closes open sessions. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.parts.fleet.dispose();
    this.parts.lifetime.abort(new J1Error("cancelled", "engine disposed"));
    await Promise.all([...this.sessions].map((session) => session.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** The fleet's base URLs, checked: http(s), without trailing slashes, none twice. */
function fleetUrls(options: OpenAIEngineOptions): string[] {
  const given = options.baseUrls && options.baseUrls.length > 0 ? options.baseUrls : [options.baseUrl];
  const urls: string[] = [];
  for (const raw of given) {
    const url = raw.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(url)) throw new J1Error("bad-input", `--base-url must be an http(s) URL, got "${raw}"`, { context: { field: "baseUrl" } });
    if (urls.includes(url)) throw new J1Error("bad-input", `--base-url ${url} is given twice: each server of a fleet once`, { context: { field: "baseUrl" } });
    urls.push(url);
  }
  return urls;
}

export function createOpenAIEngine(options: OpenAIEngineOptions): Promise<OpenAIEngine> {
  return OpenAIEngine.create(options);
}

/**
 * Requests sent again, counted as one warning per cause. A timed-out attempt matters beyond the wait: the
 * server went on evaluating its prompt, which no answer reports, and the retry then finds those tokens in
 * the server's cache, so the judgment's evaluated tokens are short of the work done (measured on
 * JudgeBench over a busy llama-server: whole prompts of 658 and 2,208 tokens counted as cached).
 */
function noteRetry(warnings: WarningLog, error: J1Error, timeoutMs: number): void {
  const plural = (times: number) => (times === 1 ? "1 request was" : `${times} requests were`);
  if (error.code === "engine-timeout") {
    warnings.tally("retry-timeout", (times) => `${plural(times)} sent again after taking longer than the timeout (${timeoutMs} ms): the tokens the server evaluated for an abandoned attempt are not counted and its cache served them to the retry, so evaluated-token figures are a lower bound; give a busy server a longer --timeout or fewer requests at once (--parallel)`);
  } else {
    warnings.tally("retry-failed", (times) => `${plural(times)} sent again after a failure (the last: ${error.message})`);
  }
}
