import { J1Error } from "../../core/errors.js";

/**
 * One answer of an OpenAI-compatible server, read into the few facts a session needs. Servers differ in
 * where they put them, so this reads every shape we know:
 * - OpenAI /v1/completions: `choices[0].text`, `finish_reason`, legacy `logprobs.top_logprobs` (a
 *   {token: logprob} map per position); vLLM adds `choices[0].stop_reason` (the matched stop string, a
 *   stop token id, or null for end of sequence).
 * - OpenAI /v1/chat/completions: `choices[0].message.content`, `logprobs.content[i].top_logprobs`.
 * - llama-server /v1/completions: the chat-style `logprobs.content` even on completions; `finish_reason`
 *   is "stop" both for a stop word and for end of sequence, so the real reason is read from `__verbose`
 *   (`stop_type` "word" | "eos" | "limit", `stopping_word`) when the request asked for it; `timings`
 *   gives the tokens really evaluated (`prompt_n`, `predicted_n`) and reused (`cache_n`).
 * - llama-server's native /completion: `content`, `stop_type`, `stopping_word`, `completion_probabilities`.
 */
export interface CompletionOutcome {
  text: string;
  stop: "delimiter" | "end" | "length";
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
  /** Per generated position, the top alternatives with their log-probabilities (empty when not reported). */
  topLogprobs: Array<Array<{ token: string; logprob: number }>>;
}

type Json = Record<string, unknown>;

export function parseCompletion(body: unknown, stopAt: string | undefined, url: string): CompletionOutcome {
  if (!isObject(body)) throw shapeError(url, body, "not a JSON object");
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  const native = choice === undefined && typeof body.content === "string";
  if (!native && !isObject(choice)) throw shapeError(url, body, "no choices[0]");

  const text = native ? (body.content as string) : readChoiceText(choice as Json);
  if (text === undefined) throw shapeError(url, body, "choices[0] has neither text nor message.content");

  const verbose = native ? body : isObject(body.__verbose) ? body.__verbose : undefined;
  const { stop, stopKnown } = readStop(native ? undefined : (choice as Json), verbose, stopAt);
  const outcome: CompletionOutcome = { text, stop, stopKnown, evaluatedExact: false, topLogprobs: native ? readNativeProbabilities(body) : readLogprobs((choice as Json).logprobs) };
  readUsage(body, outcome);
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

function readStop(choice: Json | undefined, verbose: Json | undefined, stopAt: string | undefined): { stop: CompletionOutcome["stop"]; stopKnown: boolean } {
  const stopType = verbose?.stop_type;
  if (stopType === "word") {
    const word = verbose?.stopping_word;
    return { stop: word === undefined || word === stopAt || stopAt === undefined ? "delimiter" : "end", stopKnown: true };
  }
  if (stopType === "eos") return { stop: "end", stopKnown: true };
  if (stopType === "limit") return { stop: "length", stopKnown: true };
  const finish = choice?.finish_reason;
  if (finish === "length") return { stop: "length", stopKnown: true };
  if (choice && "stop_reason" in choice) {
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
  outcome.promptTokens = numberAt(usage, "prompt_tokens") ?? numberAt(body, "tokens_evaluated");
  outcome.completionTokens = numberAt(usage, "completion_tokens") ?? numberAt(body, "tokens_predicted");
  const details = usage && isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : undefined;
  outcome.cachedTokens = numberAt(timings, "cache_n") ?? numberAt(details, "cached_tokens");
  const promptEvaluated = numberAt(timings, "prompt_n");
  const predicted = numberAt(timings, "predicted_n") ?? outcome.completionTokens ?? 0;
  if (promptEvaluated !== undefined) {
    outcome.evaluatedTokens = promptEvaluated + predicted;
    outcome.evaluatedExact = true;
  } else if (outcome.promptTokens !== undefined && outcome.cachedTokens !== undefined) {
    outcome.evaluatedTokens = outcome.promptTokens - outcome.cachedTokens + predicted;
    outcome.evaluatedExact = true;
  } else if (outcome.promptTokens !== undefined) {
    outcome.evaluatedTokens = outcome.promptTokens + predicted;
  }
}

/** Both the legacy completions shape and the chat shape (which llama-server uses on completions too). */
function readLogprobs(logprobs: unknown): CompletionOutcome["topLogprobs"] {
  if (!isObject(logprobs)) return [];
  if (Array.isArray(logprobs.content)) return logprobs.content.map((position) => readAlternatives(isObject(position) ? position.top_logprobs : undefined));
  if (Array.isArray(logprobs.top_logprobs)) {
    return logprobs.top_logprobs.map((position) =>
      isObject(position) ? Object.entries(position).filter((entry): entry is [string, number] => typeof entry[1] === "number").map(([token, logprob]) => ({ token, logprob })) : [],
    );
  }
  return [];
}

function readNativeProbabilities(body: Json): CompletionOutcome["topLogprobs"] {
  const positions = body.completion_probabilities;
  if (!Array.isArray(positions)) return [];
  return positions.map((position) => (isObject(position) ? readAlternatives(position.top_logprobs ?? position.top_probs) : []));
}

function readAlternatives(list: unknown): Array<{ token: string; logprob: number }> {
  if (!Array.isArray(list)) return [];
  const alternatives: Array<{ token: string; logprob: number }> = [];
  for (const entry of list) {
    if (!isObject(entry) || typeof entry.token !== "string") continue;
    const logprob = typeof entry.logprob === "number" ? entry.logprob : typeof entry.prob === "number" ? Math.log(entry.prob) : undefined;
    if (logprob !== undefined) alternatives.push({ token: entry.token, logprob });
  }
  return alternatives;
}

function numberAt(object: Json | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shapeError(url: string, body: unknown, problem: string): J1Error {
  const shown = JSON.stringify(body) ?? String(body);
  return new J1Error("engine-http", `${url}: unexpected answer (${problem}): ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`, { context: { url } });
}
