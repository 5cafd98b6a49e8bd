import type { PromptSegment } from "../core/template.js";
import type { EngineWarning } from "./engine-warnings.js";

export type { EngineWarning } from "./engine-warnings.js";
export type { Failover, ServerFigures, SessionRoute } from "./server-route.js";
import type { ServerFigures, SessionRoute } from "./server-route.js";

/**
 * The engine seam. A session holds one growing text (prompt, then whatever is generated or appended);
 * the judge drives it with four moves: generate until the end of thinking, append text, answer with a
 * verdict, and roll back to a mark. Judge and eval import only this file, never a concrete engine.
 */
export interface Engine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  /** Opens a session on a rendered prompt; the prompt is evaluated (or reused from cache) here. */
  open(prompt: readonly PromptSegment[], options?: OpenOptions): Promise<EngineSession>;
  /** Counts tokens the way this engine's model does (for budgets and reports). */
  countTokens?(text: string): Promise<number>;
  /** A short description for reports: model file or URL and settings. */
  describe(): EngineDescription;
  /**
   * The model's own chat template, where the engine can find it (a GGUF's `tokenizer.chat_template`, a
   * server's `/props`): what `--chat-format auto` renders with.
   */
  chatTemplate?(): Promise<ModelChatTemplate | undefined>;
  /**
   * The model's `general.architecture` ("llama", "gemma3", …), where the engine can read it: with no chat
   * template, `--chat-format auto` picks j1's named format for the family from it.
   */
  architecture?(): Promise<string | undefined>;
  /**
   * Start-up check of the end-of-thinking text the judge will watch (the detected format's, known only
   * once the prompt format is resolved): throws a bad-input error with the fix when the engine would never
   * see the model write it (a server that hides control tokens). Called once per text before judging.
   */
  checkThinkEnd?(thinkEnd: string): Promise<void>;
  /** What the engine could not do as asked (one entry per setting), for stderr, --json, the store and reports. */
  readonly warnings?: readonly EngineWarning[];
  /** Figures per server, for engines that spread sessions over several (a fleet of OpenAI-compatible servers). */
  servers?(): ServerFigures[];
  dispose(): Promise<void>;
}

export interface EngineCapabilities {
  /** The verdict can be constrained to the valid choices. */
  grammar: boolean;
  /** Token probabilities at the verdict position (for confidence). */
  probabilities: boolean;
  /** Injected text replaces the end of thinking inside the sequence, with no prefix re-evaluation. */
  tokenLevelInjection: boolean;
  /** How many sessions can run at once (sequences of one context, or concurrent HTTP requests). */
  parallelSessions: number;
  /**
   * token (absent: the default): thinking runs token by token under j1's control (waits, the minimum,
   * probes). none: a chat API that thinks and answers in one call; j1 cannot suppress the end of thinking,
   * so waits, a minimum of thinking tokens, adaptive rules and trajectories are refused.
   */
  thinkingControl?: "token" | "none";
  /** The engine takes chat messages (core/chat-messages.ts) rather than one rendered text. */
  takesMessages?: boolean;
  /**
   * sequential: sessions on the same prompt reuse its evaluation only when they run one after another
   * (the prompt lives in one sequence's or one server slot's cache, and cannot be copied to another while
   * it is in use), so the judge runs the samples of one prompt one after another: K samples cost the prompt
   * once plus K continuations, at the speed of one by one. Absent: sessions may run in any order (a
   * server whose prefix cache is shared by concurrent requests, or an API that does not say).
   */
  promptSharing?: "sequential";
}

export interface ModelChatTemplate {
  /** The Jinja source. */
  template: string;
  bosToken?: string;
  eosToken?: string;
  /** Where it came from, for messages ("GGUF tokenizer.chat_template", "llama-server /props"). */
  source: string;
}

/** Sampling beyond temperature, for thinking models (Qwen3's card: top-p 0.95, top-k 20). Unset: no truncation. */
export interface SamplingOptions {
  topP?: number;
  topK?: number;
  minP?: number;
}

export interface EngineDescription {
  engine: string;
  model: string;
  [key: string]: string | number | boolean | undefined;
}

export interface OpenOptions {
  signal?: AbortSignal;
  /**
   * What keeps the sessions of one judgment together (the judge passes its item key): engines with
   * several servers send every session with the same key to the same server, whose prefix cache then
   * holds the judgment, and pass it on to routers as an affinity key.
   */
  affinityKey?: string;
}

export interface GenerateRequest {
  /** Stop before this text enters the sequence (the end-of-thinking delimiter). */
  stopAt: string;
  /** At most this many generated tokens; undefined means up to the context limit. */
  maxTokens?: number;
  temperature: number;
  sampling?: SamplingOptions;
  seed: number;
  /** Streaming: called with each new piece of generated text. */
  onText?: (text: string) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** The generated text, without the stop text. */
  text: string;
  tokens: number;
  /**
   * delimiter: the model produced `stopAt` (it is not in the sequence; the caller appends it or replaces it);
   * end: end of generation; length: `maxTokens` reached; context: the context (or the server's) is full.
   */
  stop: "delimiter" | "end" | "length" | "context";
}

export interface AnswerRequest {
  /** The valid verdict texts, e.g. ["A", "B"] or ["1", …, "10"]. */
  choices: readonly string[];
  /** Text that closes a verdict ("]]"); a grammar requires it, free generation stops at it. */
  suffix: string;
  maxTokens: number;
  temperature: number;
  seed: number;
  signal?: AbortSignal;
}

export interface AnswerResult {
  /** The generated answer text (the verdict and the suffix when the model wrote them). */
  text: string;
  tokens: number;
  /**
   * Probability of each choice at the verdict position, normalised over the choices; present only where
   * the engine reports probabilities.
   */
  choiceProbabilities?: Record<string, number>;
  /** Why `choiceProbabilities` is missing, when it is (never a silent 0). */
  probabilityNote?: string;
}

export interface SessionUsage {
  promptTokens: number;
  /** Tokens the engine actually ran through the model in this session. */
  evaluatedTokens: number;
  /** Prompt tokens reused from the engine's cache. */
  cachedTokens: number;
}

/** A position in a session's sequence to roll back to. */
export interface SessionMark {
  readonly position: number;
}

export interface EngineSession {
  readonly promptTokens: number;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Appends text to the sequence; returns its token count. Trusted (the default: j1's own `</think>`,
   * `[[`) may hold special tokens; `trusted: false` (the user's wait text) is tokenized by the judged-text
   * rule, so `<|eot_id|>` in it stays text.
   */
  append(text: string, options?: { signal?: AbortSignal; trusted?: boolean }): Promise<number>;
  answer(request: AnswerRequest): Promise<AnswerResult>;
  mark(): SessionMark;
  /** Drops everything after the mark: the next step continues from there, with nothing re-evaluated. */
  rollback(mark: SessionMark): Promise<void>;
  usage(): SessionUsage;
  /** The server the session ran on and its failovers, for engines with several servers; undefined otherwise. */
  route?(): SessionRoute | undefined;
  /** Frees the session (returns a sequence to its pool); idempotent. */
  close(): Promise<void>;
}
