import { malformedAnswer } from "./http-client.js";

/** One top candidate at a generated position: its id where the server names it, its text, its log-probability. */
export interface TokenCandidate {
  id?: number;
  token: string;
  logprob: number;
}

/**
 * One answer of a server, read into the few facts a session needs. Servers differ in where they put
 * them, so this reads every shape we know:
 * - llama-server native /completion: `content`, `tokens` (with `return_tokens`: every sampled id, the
 *   stop word's and the end-of-sequence token included), `stop_type` "word" | "eos" | "limit",
 *   `stopping_word`, `truncated` (the context is full), `timings` (`prompt_n` evaluated, `cache_n`
 *   reused, `predicted_n` sampled), `completion_probabilities[i].top_logprobs[{id, token, logprob}]`.
 * - OpenAI /v1/completions: `choices[0].text`, `finish_reason`, legacy `logprobs.top_logprobs` (a
 *   {token: logprob} map per position; vLLM with `return_tokens_as_token_ids` writes "token_id:N");
 *   vLLM adds `choices[0].stop_reason` (the matched stop string, a stop token id, or null for end of
 *   sequence) and, with `return_token_ids`, `choices[0].token_ids`.
 * - OpenAI /v1/chat/completions: `choices[0].message.content`, `logprobs.content[i].top_logprobs`
 *   (llama-server's entries carry `id`); llama-server's real stop reason in `__verbose`.
 * - SGLang native /generate: `text`, `output_ids`, `meta_info` (`prompt_tokens`, `completion_tokens`,
 *   `cached_tokens`, `finish_reason: {type, matched}`, `output_top_logprobs[i][[logprob, id, text]]`).
 *
 * An answer without the fields a step needs throws a retryable malformed-answer error (http-client.ts).
 */
export interface CompletionOutcome {
  text: string;
  /** The generated ids as the server sampled them (stop-word and end tokens included), when reported. */
  tokenIds?: number[];
  stop: "delimiter" | "end" | "length" | "context";
  /** False when the server said only "stop", so a stop string could not be told from end of sequence. */
  stopKnown: boolean;
  promptTokens?: number;
  completionTokens?: number;
  /** Tokens the server ran through the model for this request. */
  evaluatedTokens?: number;
  /** Prompt tokens the server reused from its cache for this request. */
  cachedTokens?: number;
  /** False when evaluatedTokens had to be taken as prompt + completion (no cache figures): an upper bound. */
  evaluatedExact: boolean;
  /** Per generated position, the top candidates (empty when not reported). */
  topLogprobs: TokenCandidate[][];
}

type Json = Record<string, unknown>;

export function parseCompletion(body: unknown, stopAt: string | undefined, url: string): CompletionOutcome {
  if (!isObject(body)) throw malformedAnswer(url, body, "not a JSON object");
  if (typeof body.content === "string" && !Array.isArray(body.choices)) return parseLlamaServerNative(body, stopAt, url);
  if (typeof body.text === "string" && isObject(body.meta_info)) return parseSglang(body, stopAt, url);

  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isObject(choice)) throw malformedAnswer(url, body, "no choices[0]");
  const text = readChoiceText(choice);
  if (text === undefined) throw malformedAnswer(url, body, "choices[0] has neither text nor message.content");
  const verbose = isObject(body.__verbose) ? body.__verbose : undefined;
  const { stop, stopKnown } = readStop(choice, verbose, stopAt);
  const tokenIds = readIds(choice.token_ids);
  const outcome: CompletionOutcome = { text, tokenIds, stop, stopKnown, evaluatedExact: false, topLogprobs: readLogprobs(choice.logprobs) };
  readUsage(body, outcome);
  return outcome;
}

function parseLlamaServerNative(body: Json, stopAt: string | undefined, url: string): CompletionOutcome {
  const stopType = body.stop_type;
  if (typeof stopType !== "string") throw malformedAnswer(url, body, "no stop_type");
  const tokenIds = readIds(body.tokens);
  if (tokenIds === undefined) throw malformedAnswer(url, body, "no tokens list");
  let stop: CompletionOutcome["stop"];
  if (stopType === "word") stop = body.stopping_word === stopAt || stopAt === undefined ? "delimiter" : "end";
  else if (stopType === "eos") stop = "end";
  else stop = body.truncated === true ? "context" : "length";
  const timings = isObject(body.timings) ? body.timings : undefined;
  const outcome: CompletionOutcome = {
    text: body.content as string,
    tokenIds,
    stop,
    stopKnown: true,
    promptTokens: numberAt(body, "tokens_evaluated"),
    completionTokens: numberAt(body, "tokens_predicted"),
    evaluatedExact: false,
    topLogprobs: Array.isArray(body.completion_probabilities) ? body.completion_probabilities.map((position) => readCandidates(isObject(position) ? (position.top_logprobs ?? position.top_probs) : undefined)) : [],
  };
  const promptEvaluated = numberAt(timings, "prompt_n");
  const predicted = numberAt(timings, "predicted_n") ?? outcome.completionTokens;
  outcome.cachedTokens = numberAt(timings, "cache_n");
  if (promptEvaluated !== undefined && predicted !== undefined) {
    outcome.evaluatedTokens = promptEvaluated + decodedOf(predicted);
    outcome.evaluatedExact = true;
  }
  return outcome;
}

function parseSglang(body: Json, stopAt: string | undefined, url: string): CompletionOutcome {
  const meta = body.meta_info as Json;
  const finish = isObject(meta.finish_reason) ? meta.finish_reason : undefined;
  if (!finish) throw malformedAnswer(url, body, "no meta_info.finish_reason");
  let stop: CompletionOutcome["stop"];
  if (finish.type === "length") stop = "length";
  else if (finish.type === "stop") stop = typeof finish.matched === "string" && (finish.matched === stopAt || stopAt === undefined) ? "delimiter" : "end";
  else throw malformedAnswer(url, body, `finish_reason ${JSON.stringify(finish.type)}`);
  const topLogprobs = Array.isArray(meta.output_top_logprobs)
    ? meta.output_top_logprobs.map((position) =>
        Array.isArray(position)
          ? position.flatMap((entry): TokenCandidate[] =>
              Array.isArray(entry) && typeof entry[0] === "number" && typeof entry[1] === "number" ? [{ id: entry[1], token: typeof entry[2] === "string" ? entry[2] : "", logprob: entry[0] }] : [],
            )
          : [],
      )
    : [];
  const outcome: CompletionOutcome = {
    text: body.text as string,
    tokenIds: readIds(body.output_ids),
    stop,
    stopKnown: true,
    promptTokens: numberAt(meta, "prompt_tokens"),
    completionTokens: numberAt(meta, "completion_tokens"),
    cachedTokens: numberAt(meta, "cached_tokens"),
    evaluatedExact: false,
    topLogprobs,
  };
  fillEvaluated(outcome);
  return outcome;
}

function readChoiceText(choice: Json): string | undefined {
  if (typeof choice.text === "string") return choice.text;
  const message = choice.message;
  if (isObject(message)) {
    if (typeof message.content === "string") return message.content;
    if (message.content === null || message.content === undefined) return "";
  }
  return undefined;
}

function readStop(choice: Json, verbose: Json | undefined, stopAt: string | undefined): { stop: CompletionOutcome["stop"]; stopKnown: boolean } {
  const stopType = verbose?.stop_type;
  if (stopType === "word") {
    const word = verbose?.stopping_word;
    return { stop: word === undefined || word === stopAt || stopAt === undefined ? "delimiter" : "end", stopKnown: true };
  }
  if (stopType === "eos") return { stop: "end", stopKnown: true };
  if (stopType === "limit") return { stop: verbose?.truncated === true ? "context" : "length", stopKnown: true };
  const finish = choice.finish_reason;
  if (finish === "length") return { stop: "length", stopKnown: true };
  if ("stop_reason" in choice) {
    // vLLM: the stop string that matched, a stop token id, or null for end of sequence.
    const reason = choice.stop_reason;
    if (typeof reason === "string") return { stop: reason === stopAt ? "delimiter" : "end", stopKnown: true };
    return { stop: "end", stopKnown: true };
  }
  // "stop" alone cannot tell our stop string from end of sequence: take it as the end (see README/DESIGN).
  return { stop: "end", stopKnown: false };
}

function readUsage(body: Json, outcome: CompletionOutcome): void {
  const usage = isObject(body.usage) ? body.usage : undefined;
  const timings = isObject(body.timings) ? body.timings : undefined;
  outcome.promptTokens = numberAt(usage, "prompt_tokens");
  outcome.completionTokens = numberAt(usage, "completion_tokens");
  const details = usage && isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : undefined;
  outcome.cachedTokens = numberAt(timings, "cache_n") ?? numberAt(details, "cached_tokens");
  const promptEvaluated = numberAt(timings, "prompt_n");
  if (promptEvaluated !== undefined) {
    outcome.evaluatedTokens = promptEvaluated + decodedOf(numberAt(timings, "predicted_n") ?? outcome.completionTokens ?? 0);
    outcome.evaluatedExact = true;
    return;
  }
  fillEvaluated(outcome);
}

function fillEvaluated(outcome: CompletionOutcome): void {
  const decoded = decodedOf(outcome.completionTokens ?? 0);
  if (outcome.promptTokens !== undefined && outcome.cachedTokens !== undefined) {
    outcome.evaluatedTokens = outcome.promptTokens - outcome.cachedTokens + decoded;
    outcome.evaluatedExact = true;
  } else if (outcome.promptTokens !== undefined) {
    outcome.evaluatedTokens = outcome.promptTokens + decoded;
  }
}

/**
 * Of n sampled tokens, n - 1 were run through the model: the last one (a stop word's, the end of
 * sequence, or the one the limit cut at) is sampled and never decoded, as in the in-process engine
 * (llama-server: `tokens_cached` = prompt + predicted - 1).
 */
function decodedOf(sampled: number): number {
  return Math.max(0, sampled - 1);
}

/** The legacy completions shape, the chat shape (llama-server uses it on completions too). */
function readLogprobs(logprobs: unknown): TokenCandidate[][] {
  if (!isObject(logprobs)) return [];
  if (Array.isArray(logprobs.content)) return logprobs.content.map((position) => readCandidates(isObject(position) ? position.top_logprobs : undefined));
  if (Array.isArray(logprobs.top_logprobs)) {
    return logprobs.top_logprobs.map((position) =>
      isObject(position)
        ? Object.entries(position)
            .filter((entry): entry is [string, number] => typeof entry[1] === "number")
            .map(([token, logprob]) => {
              // vLLM's return_tokens_as_token_ids names each candidate "token_id:N".
              const byId = /^token_id:(\d+)$/.exec(token);
              return byId ? { id: Number(byId[1]), token, logprob } : { token, logprob };
            })
        : [],
    );
  }
  return [];
}

function readCandidates(list: unknown): TokenCandidate[] {
  if (!Array.isArray(list)) return [];
  const candidates: TokenCandidate[] = [];
  for (const entry of list) {
    if (!isObject(entry)) continue;
    const logprob = typeof entry.logprob === "number" ? entry.logprob : typeof entry.prob === "number" ? Math.log(entry.prob) : undefined;
    if (logprob === undefined) continue;
    const candidate: TokenCandidate = { token: typeof entry.token === "string" ? entry.token : "", logprob };
    if (typeof entry.id === "number") candidate.id = entry.id;
    candidates.push(candidate);
  }
  return candidates;
}

function readIds(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.every((id) => typeof id === "number" && Number.isInteger(id)) ? (value as number[]) : undefined;
}

function numberAt(object: Json | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
