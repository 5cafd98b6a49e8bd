import { choiceGrammarText } from "../../core/verdict-grammar.js";
import type { SamplingOptions } from "../engine.js";
import type { WarningLog } from "../engine-warnings.js";
import type { ServerFlavor } from "./server-flavor.js";

export type OpenAIApi = "completions" | "chat";

/** What a request continues: the session's token ids, or (text prompts) its rendered text. */
export type ContinuationInput = { kind: "tokens"; ids: readonly number[] } | { kind: "text"; promptText: string; continuation: string };

/** One continuation of a session, before it is shaped for an API and a server. */
export interface ContinuationRequest {
  input: ContinuationInput;
  maxTokens?: number;
  stop: string[];
  temperature: number;
  sampling?: SamplingOptions;
  seed: number;
  /** Ask for this many top alternatives per generated token (untempered where the server allows). */
  topLogprobs?: number;
  /** Constrain the output to one of the choices then the suffix, where the server can. */
  constraint?: { choices: readonly string[]; suffix: string };
  /**
   * llama-server only: make the greedy sampler take this token (a logit bias far above any logit), so the
   * next position's candidates are those after it. The candidates of the position it is taken at are
   * still the raw softmax (`n_probs` ignores logit bias).
   */
  forceToken?: number;
}

/** A logit bias no real logit comes near: the biased token is the greedy choice. */
export const FORCE_BIAS = 1e9;

export interface RequestShape {
  api: OpenAIApi;
  flavor: ServerFlavor;
  /** The OpenAI base URL (…/v1). */
  baseUrl: string;
  /** The server root, where llama-server's /completion and SGLang's /generate live. */
  root: string;
  model?: string;
  /** Merged last into every body (e.g. a `logit_bias` the model needs). */
  extraBody?: Record<string, unknown>;
}

/**
 * The fields read from llama-server's native /completion answer (`response_fields` trims the rest: the
 * detokenized prompt and the generation settings would otherwise come back with every step).
 */
export const LLAMA_SERVER_FIELDS = ["content", "tokens", "stop_type", "stopping_word", "truncated", "tokens_predicted", "tokens_evaluated", "timings", "completion_probabilities"];

/** llama-server's chat route reports the true stop reason only in its debug field `__verbose`. */
const LLAMA_SERVER_CHAT_STOP_FIELDS = ["stop_type", "stopping_word", "truncated"];

/**
 * The JSON body and URL for one continuation.
 *
 * Token prompts (the safe way, docs/architecture.md, "The piece rule"):
 * - llama-server: native POST {root}/completion `{prompt: ids, n_predict, return_tokens: true}`; the
 *   answer holds the generated ids (`tokens`, stop-word and end-of-sequence tokens included), the stop
 *   reason (`stop_type`, `stopping_word`, `truncated`), the work done (`timings`) and, with `n_probs`,
 *   the top candidates of each position from the raw logits (no temperature, grammar or bias).
 * - vLLM: POST {base}/completions `{prompt: ids, return_token_ids: true}` (vLLM ≥ 0.10.2; older ones
 *   return only text, which is then tokenized again, with a warning); `logprobs` with
 *   `return_tokens_as_token_ids` names candidates by id.
 * - SGLang: native POST {root}/generate `{input_ids, sampling_params}` (answer `output_ids`, `meta_info`).
 *
 * Text prompts (only with `allowTextPrompt`): completions send the text; chat has no raw text, so the
 * whole rendered prompt becomes one user message and the continuation a partial assistant message that
 * the server continues (`continue_final_message`). That nests j1's chat format inside the server's own
 * template: a fallback (see OpenAIEngine.create for the template check).
 *
 * Sampling: unset truncation means none, sent as neutral values (llama-server top_k 0, vLLM and SGLang
 * top_k -1; top_p 1, min_p 0, no penalties): a server's own defaults (llama-server top-k 40 / top-p 0.95
 * / min-p 0.05, vLLM's copy of the model's generation_config) would otherwise sample another
 * distribution than the in-process engine does for the same judgment.
 */
export function buildRequest(request: ContinuationRequest, shape: RequestShape, warnings: WarningLog): { url: string; body: Record<string, unknown> } {
  const { flavor, api } = shape;
  if (api === "completions" && flavor === "llama-server") return { url: `${shape.root}/completion`, body: { ...llamaServerBody(request), ...shape.extraBody } };
  if (api === "completions" && flavor === "sglang") return { url: `${shape.root}/generate`, body: { ...sglangBody(request, warnings), ...shape.extraBody } };

  const body: Record<string, unknown> = {};
  if (shape.model !== undefined) body.model = shape.model;
  const { input } = request;
  if (api === "completions") {
    body.prompt = input.kind === "tokens" ? [...input.ids] : input.promptText + input.continuation;
  } else {
    if (input.kind === "tokens") throw new Error("the chat API takes no token ids");
    body.messages = [
      { role: "user", content: input.promptText },
      { role: "assistant", content: input.continuation },
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
  Object.assign(body, samplingFields(flavor, request.sampling, warnings));

  if (flavor === "llama-server") {
    body.cache_prompt = true;
    body.verbose = true;
    body.response_fields = LLAMA_SERVER_CHAT_STOP_FIELDS;
    // Keep <think> in the text: a chat parser would move it to `reasoning_content`.
    body.reasoning_format = "none";
  } else if (flavor === "vllm" || flavor === "sglang") {
    // Keep special tokens such as </think> in the output, and add none (BOS, …) to a templated prompt.
    body.skip_special_tokens = false;
    body.spaces_between_special_tokens = false;
    if (api === "completions") {
      body.add_special_tokens = false;
      body.return_token_ids = true;
    }
  }

  if (request.topLogprobs !== undefined) {
    if (api === "completions") {
      body.logprobs = request.topLogprobs;
      if (flavor === "vllm") body.return_tokens_as_token_ids = true;
    } else {
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
  const path = api === "completions" ? "/completions" : "/chat/completions";
  return { url: shape.baseUrl + path, body: { ...body, ...shape.extraBody } };
}

function llamaServerBody(request: ContinuationRequest): Record<string, unknown> {
  const { input } = request;
  const body: Record<string, unknown> = {
    prompt: input.kind === "tokens" ? [...input.ids] : input.promptText + input.continuation,
    temperature: request.temperature,
    seed: request.seed,
    stream: false,
    cache_prompt: true,
    return_tokens: true,
    response_fields: LLAMA_SERVER_FIELDS,
    ...samplingFields("llama-server", request.sampling),
  };
  if (request.maxTokens !== undefined) body.n_predict = request.maxTokens;
  if (request.stop.length > 0) body.stop = request.stop;
  // n_probs without post_sampling_probs: the softmax of the raw logits (server-context.cpp
  // populate_token_probs → get_token_probabilities), i.e. temperature 1, no truncation, no grammar.
  if (request.topLogprobs !== undefined) body.n_probs = request.topLogprobs;
  if (request.constraint) body.grammar = choiceGrammarText(request.constraint.choices, request.constraint.suffix);
  if (request.forceToken !== undefined) body.logit_bias = [[request.forceToken, FORCE_BIAS]];
  return body;
}

function sglangBody(request: ContinuationRequest, warnings: WarningLog): Record<string, unknown> {
  const { input } = request;
  const sampling: Record<string, unknown> = {
    temperature: request.temperature,
    skip_special_tokens: false,
    spaces_between_special_tokens: false,
    ...samplingFields("sglang", request.sampling, warnings),
  };
  if (request.maxTokens !== undefined) sampling.max_new_tokens = request.maxTokens;
  if (request.stop.length > 0) sampling.stop = request.stop;
  if (request.constraint) sampling.regex = `(${request.constraint.choices.map(escapeRegex).join("|")})${escapeRegex(request.constraint.suffix)}`;
  const body: Record<string, unknown> = { sampling_params: sampling, stream: false };
  if (input.kind === "tokens") body.input_ids = [...input.ids];
  else body.text = input.promptText + input.continuation;
  // SGLang's seed (`sampling_seed`, recent releases only) matters only when sampling; greedy needs none.
  if (request.temperature > 0) sampling.sampling_seed = request.seed;
  if (request.topLogprobs !== undefined) {
    body.return_logprob = true;
    body.top_logprobs_num = request.topLogprobs;
    // Only the generated positions, not the whole prompt.
    body.logprob_start_len = -1;
  }
  return body;
}

/** Truncation as asked, or the server's neutral values when unset (see buildRequest). */
export function samplingFields(flavor: ServerFlavor, sampling: SamplingOptions | undefined, warnings?: WarningLog): Record<string, unknown> {
  const topP = sampling?.topP ?? 1;
  const minP = sampling?.minP ?? 0;
  switch (flavor) {
    case "llama-server":
      return {
        top_k: sampling?.topK ?? 0,
        top_p: topP,
        min_p: minP,
        // The rest of llama-server's sampler chain, neutral (a server started with --repeat-penalty etc.
        // would otherwise apply its own).
        typical_p: 1,
        top_n_sigma: -1,
        xtc_probability: 0,
        repeat_penalty: 1,
        presence_penalty: 0,
        frequency_penalty: 0,
        dry_multiplier: 0,
        mirostat: 0,
      };
    case "vllm":
    case "sglang":
      return { top_k: sampling?.topK ?? -1, top_p: topP, min_p: minP, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 };
    default:
      // The OpenAI API knows top_p only; other fields may be refused by a strict server.
      if (sampling?.topK !== undefined) warnings?.unsupported("topK", `top-k is not sent to a ${flavor} server (the OpenAI API has no such field)`);
      if (sampling?.minP !== undefined) warnings?.unsupported("minP", `min-p is not sent to a ${flavor} server (the OpenAI API has no such field)`);
      return { top_p: topP };
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
