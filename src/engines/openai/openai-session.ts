import { J1Error } from "../../core/errors.js";
import type { AnswerRequest, AnswerResult, EngineSession, GenerateRequest, GenerateResult, SessionMark, SessionUsage } from "../engine.js";
import { choiceProbabilities } from "./choice-probabilities.js";
import { buildRequest, type ContinuationRequest, type RequestShape } from "./completion-request.js";
import { parseCompletion, type CompletionOutcome } from "./completion-response.js";
import type { HttpClient } from "./http-client.js";
import type { TokenCounter } from "./token-counter.js";
import type { WarningLog } from "../engine-warnings.js";

/** Top alternatives asked for at the verdict position (the most vLLM and OpenAI accept by default). */
const VERDICT_TOP_LOGPROBS = 5;

export interface OpenAISessionParts {
  client: HttpClient;
  baseUrl: string;
  shape: RequestShape;
  counter: TokenCounter;
  warnings: WarningLog;
  promptText: string;
  promptTokens: number;
  onClose: () => void;
}

/**
 * One judgment's text on a remote server. The server keeps no session: this object holds the text so far
 * (prompt, then everything generated or appended) and each step sends all of it again. Budget forcing is
 * text-level here: the judge appends "Wait" where the model stopped at the delimiter, and the next
 * request re-sends prompt + thinking + "Wait"; the server's prefix cache (vLLM's automatic prefix
 * caching, llama-server's `cache_prompt`) makes the repeated prefix cheap, and `usage()` reports what it
 * really evaluated where the server says so.
 */
export class OpenAISession implements EngineSession {
  readonly promptTokens: number;
  private continuation = "";
  private evaluated = 0;
  private cached = 0;
  private closed = false;

  constructor(private readonly parts: OpenAISessionParts) {
    this.promptTokens = parts.promptTokens;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.assertOpen();
    if (request.maxTokens !== undefined && request.maxTokens <= 0) return { text: "", tokens: 0, stop: "length" };
    const outcome = await this.send(
      { maxTokens: request.maxTokens, stop: [request.stopAt], temperature: request.temperature, seed: request.seed },
      request.signal,
    );
    this.continuation += outcome.text;
    // Not streamed: the whole step arrives as one piece.
    if (outcome.text.length > 0) request.onText?.(outcome.text);
    const tokens = await this.generatedTokens(outcome, outcome.stop === "delimiter" ? request.stopAt : undefined, request.signal);
    return { text: outcome.text, tokens, stop: outcome.stop };
  }

  async append(text: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.assertOpen();
    const tokens = await this.parts.counter.count(text, { signal: options.signal });
    this.continuation += text;
    return tokens;
  }

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    this.assertOpen();
    const stop = request.suffix.length > 0 ? [request.suffix] : [];
    const outcome = await this.send(
      {
        maxTokens: request.maxTokens,
        stop,
        temperature: request.temperature,
        seed: request.seed,
        topLogprobs: VERDICT_TOP_LOGPROBS,
        constraint: { choices: request.choices, suffix: request.suffix },
      },
      request.signal,
    );
    // The server drops the stop string; the model did write it, so it belongs to the answer.
    const text = outcome.stop === "delimiter" ? outcome.text + request.suffix : outcome.text;
    this.continuation += text;
    const tokens = await this.generatedTokens(outcome, undefined, request.signal);
    const first = outcome.topLogprobs[0];
    if (!first || first.length === 0) this.parts.warnings.unsupported("probabilities", "the server returned no top log-probabilities: verdicts carry no confidence");
    return { text, tokens, choiceProbabilities: first ? choiceProbabilities(request.choices, first) : undefined };
  }

  mark(): SessionMark {
    this.assertOpen();
    return { position: this.continuation.length };
  }

  async rollback(mark: SessionMark): Promise<void> {
    this.assertOpen();
    if (mark.position > this.continuation.length) throw new J1Error("engine", `cannot roll back to ${mark.position}: the session holds only ${this.continuation.length} characters after the prompt`);
    this.continuation = this.continuation.slice(0, mark.position);
  }

  usage(): SessionUsage {
    return { promptTokens: this.promptTokens, evaluatedTokens: this.evaluated, cachedTokens: this.cached };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.onClose();
  }

  /** The session's text after the prompt (for tests and debugging). */
  get text(): string {
    return this.continuation;
  }

  private async send(step: Omit<ContinuationRequest, "promptText" | "continuation">, signal: AbortSignal | undefined): Promise<CompletionOutcome> {
    const { client, baseUrl, shape, warnings } = this.parts;
    const { path, body } = buildRequest({ ...step, promptText: this.parts.promptText, continuation: this.continuation }, shape, warnings);
    const url = baseUrl + path;
    const outcome = parseCompletion(await client.postJson(url, body, { signal }), step.stop[0], url);
    // llama-server's chat answer repeats the partial assistant message it continued; vLLM's does not.
    if (shape.api === "chat" && shape.flavor === "llama-server" && outcome.text.startsWith(this.continuation)) {
      outcome.text = outcome.text.slice(this.continuation.length);
    }
    if (!outcome.stopKnown && step.stop.length > 0) {
      warnings.other("stop-reason", `${url} says only "stop", not which: a stop at "${step.stop[0]}" is taken as the end of generation`);
    }
    if (outcome.evaluatedTokens === undefined) warnings.other("usage", `${url} reports no token usage: evaluated tokens are not counted`);
    else if (!outcome.evaluatedExact) warnings.other("usage-bound", `${url} reports no cache figures: evaluated tokens are prompt + completion per request, an upper bound`);
    this.evaluated += outcome.evaluatedTokens ?? 0;
    this.cached += outcome.cachedTokens ?? 0;
    return outcome;
  }

  /**
   * The server's completion count includes what it sampled but cut from the text: the tokens of a stop
   * string it matched (`stopText`), or the end-of-sequence token (llama-server and vLLM both count it).
   * Those are taken off again, so the count matches the text that stays in the session.
   */
  private async generatedTokens(outcome: CompletionOutcome, stopText: string | undefined, signal: AbortSignal | undefined): Promise<number> {
    const { counter } = this.parts;
    if (outcome.completionTokens === undefined) return counter.count(outcome.text, { signal });
    let cut = 0;
    if (stopText !== undefined) cut = await counter.count(stopText, { signal });
    else if (outcome.stop === "end") cut = 1;
    return Math.max(0, outcome.completionTokens - cut);
  }

  private assertOpen(): void {
    if (this.closed) throw new J1Error("engine", "session is closed");
  }
}
