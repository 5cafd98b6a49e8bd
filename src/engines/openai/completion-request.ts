import { choiceGrammarText } from "../../core/verdict-grammar.js";
import type { ServerFlavor } from "./server-flavor.js";
import type { WarningLog } from "../engine-warnings.js";

export type OpenAIApi = "completions" | "chat";

/** One continuation of a session's text, before it is shaped for an API and a server. */
export interface ContinuationRequest {
  /** The rendered prompt (the judge renders the chat format on its side). */
  promptText: string;
  /** Everything generated or appended since. */
  continuation: string;
  maxTokens?: number;
  stop: string[];
  temperature: number;
  seed: number;
  /** Ask for this many top alternatives per generated token. */
  topLogprobs?: number;
  /** Constrain the output to one of the choices then the suffix, where the server can. */
  constraint?: { choices: readonly string[]; suffix: string };
}

export interface RequestShape {
  api: OpenAIApi;
  flavor: ServerFlavor;
  model?: string;
  /** Merged last into every body (e.g. a `logit_bias` the model needs). */
  extraBody?: Record<string, unknown>;
}

/**
 * llama-server reports the true stop reason (a stop word vs end of sequence) only in its debug field
 * `__verbose`; `response_fields` trims that field to what we read, so the prompt is not echoed back.
 */
const LLAMA_SERVER_STOP_FIELDS = ["stop_type", "stopping_word"];

/**
 * The JSON body and path for one continuation. Completions send the text as it is (`prompt`); chat has
 * no raw text, so the whole rendered prompt becomes one user message and the continuation a partial
 * assistant message that the server continues (`continue_final_message`, vLLM and llama-server). That
 * wraps our rendered chat format in the server's own template, and some templates rewrite `<think>`: a
 * fallback for servers without raw completions, not the way to run a thinking judge.
 */
export function buildRequest(request: ContinuationRequest, shape: RequestShape, warnings: WarningLog): { path: string; body: Record<string, unknown> } {
  const { flavor } = shape;
  const body: Record<string, unknown> = {};
  if (shape.model !== undefined) body.model = shape.model;
  if (shape.api === "completions") {
    body.prompt = request.promptText + request.continuation;
  } else {
    body.messages = [
      { role: "user", content: request.promptText },
      { role: "assistant", content: request.continuation },
    ];
    body.continue_final_message = true;
    body.add_generation_prompt = false;
  }
  // vLLM's completions default to 16 tokens: null asks for "up to the context"; llama-server's default already is.
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  else if (flavor === "vllm" || flavor === "sglang") body.max_tokens = null;
  if (request.stop.length > 0) body.stop = request.stop;
  body.temperature = request.temperature;
  body.seed = request.seed;
  body.stream = false;

  if (flavor === "llama-server") {
    body.cache_prompt = true;
    body.verbose = true;
    body.response_fields = LLAMA_SERVER_STOP_FIELDS;
    // Keep <think> in the text: a chat parser would move it to `reasoning_content`.
    if (shape.api === "chat") body.reasoning_format = "none";
  } else {
    // Keep special tokens such as </think> in the output, and add none (BOS, …) to a templated prompt.
    body.skip_special_tokens = false;
    body.add_special_tokens = false;
  }

  if (request.topLogprobs !== undefined) {
    if (shape.api === "completions") body.logprobs = request.topLogprobs;
    else {
      body.logprobs = true;
      body.top_logprobs = request.topLogprobs;
    }
  }

  if (request.constraint) {
    const { choices, suffix } = request.constraint;
    if (flavor === "llama-server") body.grammar = choiceGrammarText(choices, suffix);
    else if (flavor === "vllm") body.guided_choice = choices.map((choice) => choice + suffix);
    else warnings.unsupported("grammar", `the verdict is not constrained: no known constraint option for a ${flavor} server`);
  }
  return { path: shape.api === "completions" ? "/completions" : "/chat/completions", body: { ...body, ...shape.extraBody } };
}
