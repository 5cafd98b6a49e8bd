import { generateText, type LanguageModel } from "ai";
import { decodeMessages, messagesText, type ChatMessages } from "../../core/chat-messages.js";
import { J1Error, errorMessage } from "../../core/errors.js";
import type { PromptSegment } from "../../core/template.js";
import type { AnswerRequest, AnswerResult, Engine, EngineCapabilities, EngineDescription, EngineSession, GenerateRequest, GenerateResult, OpenOptions, SessionMark, SessionUsage } from "../engine.js";
import { WarningLog, type EngineWarning } from "../engine-warnings.js";
import { nativeThinkingBudget } from "./thinking-budget.js";

/**
 * Any Vercel AI SDK language model as a j1 engine: an API judge (OpenAI, Anthropic, any OpenAI-compatible
 * server) gets j1's protocols (swap, votes, official scoring, the run store, reports).
 *
 * A chat API thinks and answers in one call, so a session maps the judge's moves onto that one call:
 * `generate` makes the call and returns the thinking (the provider's reasoning, or the text before
 * `</think>`), stopped at the delimiter; `append` of the end of thinking and the answer prefix sends
 * nothing; `answer` returns the text that followed the thinking. Nothing can be rolled back or injected,
 * so its capabilities say `thinkingControl: "none"` and the judge refuses waits, minimums, adaptive rules
 * and trajectories. A thinking cap goes to the provider's native budget where it has one
 * (thinking-budget.ts), else a warning says it is not enforced. There is no grammar and no probability.
 */
export interface AiSdkEngineOptions {
  model: LanguageModel;
  /** Concurrent calls (default 4). */
  parallel?: number;
  /** For reports: the provider and model, when the model object does not say. */
  label?: string;
  /** Extra provider options, merged under j1's (e.g. { openai: { reasoningEffort: "low" } }). */
  providerOptions?: Record<string, Record<string, unknown>>;
  maxRetries?: number;
}

export function createAiSdkEngine(options: AiSdkEngineOptions): AiSdkEngine {
  return new AiSdkEngine(options);
}

export class AiSdkEngine implements Engine {
  readonly name = "ai-sdk";
  readonly capabilities: EngineCapabilities;
  private readonly log = new WarningLog();
  private readonly provider: string;
  private readonly modelId: string;

  constructor(private readonly options: AiSdkEngineOptions) {
    this.capabilities = { grammar: false, probabilities: false, tokenLevelInjection: false, parallelSessions: Math.max(1, options.parallel ?? 4), thinkingControl: "none", takesMessages: true };
    const model = options.model;
    this.provider = typeof model === "string" ? "gateway" : model.provider;
    this.modelId = typeof model === "string" ? model : model.modelId;
  }

  get warnings(): readonly EngineWarning[] {
    return this.log.all;
  }

  describe(): EngineDescription {
    return { engine: "ai-sdk", model: this.options.label ?? `${this.provider}:${this.modelId}`, provider: this.provider, api: "chat" };
  }

  async open(prompt: readonly PromptSegment[], options: OpenOptions = {}): Promise<EngineSession> {
    const messages = decodeMessages(prompt);
    if (!messages) {
      // A named --chat-format renders one text: sent as the user turn, as a chat API can only take it.
      this.log.other("ai-sdk:rendered-prompt", "ai-sdk: a named --chat-format sends its rendered text as one user message (leave --chat-format at auto to send system and user turns)");
    }
    return new AiSdkSession(this, messages ?? { system: "", user: prompt.map((segment) => segment.text).join("") }, options.signal);
  }

  /** One chat call; what the session's moves read. */
  async call(messages: ChatMessages, request: GenerateRequest): Promise<CallResult> {
    const budget = request.maxTokens === undefined ? undefined : nativeThinkingBudget(this.provider, request.maxTokens);
    if (request.maxTokens !== undefined && budget === undefined) {
      this.log.unsupported("--max-thinking", `provider ${this.provider} has no thinking budget j1 knows; the cap is not enforced (the provider's own limits apply)`);
    }
    if (request.sampling && Object.values(request.sampling).some((value) => value !== undefined)) {
      this.log.unsupported("--top-p/--top-k/--min-p", "sent as topP/topK; min-p is not part of the AI SDK's call settings");
    }
    let result;
    try {
      result = await generateText({
        model: this.options.model,
        system: messages.system || undefined,
        messages: [{ role: "user", content: messages.user }],
        temperature: request.temperature,
        topP: request.sampling?.topP,
        topK: request.sampling?.topK,
        seed: request.seed,
        maxRetries: this.options.maxRetries ?? 2,
        // A signal of its own per call: the provider's fetch listens to it, and a judgment's samples run
        // their calls at once under one signal (128 listeners on it for 64 samples in both orders).
        abortSignal: request.signal && AbortSignal.any([request.signal]),
        providerOptions: mergeProviderOptions(this.options.providerOptions, budget?.providerOptions) as never,
      });
    } catch (error) {
      if (request.signal?.aborted) throw new J1Error("cancelled", "the judgment was cancelled");
      throw new J1Error("engine", `ai-sdk (${this.provider}:${this.modelId}): ${errorMessage(error)}`, { cause: error });
    }
    const reasoning = result.reasoningText ?? "";
    let thinking = reasoning;
    let answer = result.text;
    let delimiter = reasoning.length > 0;
    // A model that writes its thinking inline: split at the end of thinking (the judge's delimiter).
    const end = answer.indexOf(request.stopAt);
    if (end >= 0) {
      thinking = `${thinking}${answer.slice(0, end).replace(/^\s*<think>\s*/, "")}`;
      answer = answer.slice(end + request.stopAt.length);
      delimiter = true;
    }
    const usage = result.usage;
    const reasoningTokens = usage.outputTokenDetails?.reasoningTokens ?? usage.reasoningTokens;
    const output = usage.outputTokens ?? 0;
    return {
      thinking,
      answer,
      delimiter,
      finish: result.finishReason,
      inputTokens: usage.inputTokens ?? 0,
      cachedTokens: usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0,
      // Inline thinking with no reasoning count (or a 0 that only means "not reported"): the split is unknown.
      thinkingTokens: reasoningTokens !== undefined && (reasoningTokens > 0 || thinking === "") ? reasoningTokens : thinking === "" ? 0 : undefined,
      outputTokens: output,
    };
  }

  async dispose(): Promise<void> {}
}

interface CallResult {
  thinking: string;
  answer: string;
  /** The thinking ended (a reasoning field, or the delimiter in the text). */
  delimiter: boolean;
  finish: string;
  inputTokens: number;
  cachedTokens: number;
  /** Reported by the provider; undefined when it reports only the total. */
  thinkingTokens: number | undefined;
  outputTokens: number;
}

class AiSdkSession implements EngineSession {
  private result: CallResult | undefined;
  private position = 0;

  constructor(
    private readonly engine: AiSdkEngine,
    private readonly messages: ChatMessages,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Known once the call is made (the provider counts the prompt); 0 before. */
  get promptTokens(): number {
    return this.result?.inputTokens ?? 0;
  }

  /** The prompt as the trace shows it: the two turns, labelled. */
  get promptText(): string {
    return messagesText(this.messages);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.result) throw new J1Error("unsupported", "engine ai-sdk thinks once per session: it cannot continue thinking after a wait");
    this.result = await this.engine.call(this.messages, { ...request, signal: request.signal ?? this.signal });
    const { thinking, delimiter, finish } = this.result;
    request.onText?.(thinking);
    this.position++;
    // Tokens of the thinking: the provider's count, else the output less what the answer took (unknown: all of it).
    const tokens = this.result.thinkingTokens ?? this.result.outputTokens;
    const stop: GenerateResult["stop"] = delimiter ? "delimiter" : finish === "length" ? "length" : "end";
    return { text: thinking, tokens, stop };
  }

  async append(_text: string): Promise<number> {
    // Nothing is sent: the call already ended thinking and answered. No tokens were evaluated for it.
    this.position++;
    return 0;
  }

  async answer(_request: AnswerRequest): Promise<AnswerResult> {
    if (!this.result) throw new J1Error("engine", "ai-sdk: answer before the call");
    const text = this.result.answer.replace(/^\s*(\[\[)?/, (match, prefix) => (prefix ? "" : match.trimStart()));
    const tokens = this.result.thinkingTokens === undefined ? 0 : Math.max(0, this.result.outputTokens - this.result.thinkingTokens);
    return { text, tokens, probabilityNote: "the AI SDK engine reports no token probabilities" };
  }

  mark(): SessionMark {
    return { position: this.position };
  }

  async rollback(_mark: SessionMark): Promise<void> {
    throw new J1Error("unsupported", "engine ai-sdk cannot roll back: a chat API thinks and answers in one call");
  }

  usage(): SessionUsage {
    const result = this.result;
    if (!result) return { promptTokens: 0, evaluatedTokens: 0, cachedTokens: 0 };
    return { promptTokens: result.inputTokens, evaluatedTokens: result.inputTokens - result.cachedTokens + result.outputTokens, cachedTokens: result.cachedTokens };
  }

  async close(): Promise<void> {}
}

function mergeProviderOptions(...parts: Array<Record<string, Record<string, unknown>> | undefined>): Record<string, Record<string, unknown>> | undefined {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const part of parts) for (const [provider, values] of Object.entries(part ?? {})) merged[provider] = { ...merged[provider], ...values };
  return Object.keys(merged).length > 0 ? merged : undefined;
}
