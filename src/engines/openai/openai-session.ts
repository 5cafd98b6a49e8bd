import { branchPrefixes, choicePaths, nextChoiceTokens, pickChoiceToken, verdictTokenSeed, type ChoicePath, type ChoiceProbabilityResult } from "../../core/choice-probabilities.js";
import { J1Error } from "../../core/errors.js";
import { continuationIds, tokenizeInjected, type PieceTokenizer, type PieceVocabulary } from "../../core/prompt-pieces.js";
import type { AnswerRequest, AnswerResult, EngineSession, GenerateRequest, GenerateResult, SessionMark, SessionUsage } from "../engine.js";
import type { WarningLog } from "../engine-warnings.js";
import { buildRequest, type ContinuationInput, type ContinuationRequest, type RequestShape } from "./completion-request.js";
import { parseCompletion, type CompletionOutcome } from "./completion-response.js";
import type { FleetRoute } from "./fleet.js";
import type { SessionRoute } from "../server-route.js";
import type { TokenCounter } from "./token-counter.js";
import { candidateDistribution, combineReported, textChoiceProbabilities } from "./verdict-probabilities.js";

/** Room kept free at the end of the context for the forced end of thinking and the verdict (as in process). */
const ANSWER_RESERVE = 48;
/** Thinking is asked for in chunks (generateChunked): the first is this long, the next sized by speed. */
const FIRST_CHUNK_TOKENS = 256;
const MIN_CHUNK_TOKENS = 32;
/** A chunk is sized to take about this share of the per-request timeout at the speed measured so far. */
const CHUNK_SHARE_OF_TIMEOUT = 0.25;

export interface OpenAISessionParts {
  /** The server this session runs on, and the way to the next one if it fails (fleet.ts). */
  route: FleetRoute;
  /** The request shape every server of the fleet shares (its URLs are each server's own). */
  shape: RequestShape;
  warnings: WarningLog;
  counter: TokenCounter;
  /** Whether the server's tokenizer can be used; false for servers j1 cannot tokenize with. */
  tokenize: boolean;
  /** The piece rule's view of the served vocabulary: injected text is tokenized as a continuation by it. */
  vocabulary: PieceVocabulary;
  /** Token ids of the prompt (BOS included) for token-id sessions; undefined for text sessions. */
  promptIds?: number[];
  promptText: string;
  promptTokens: number;
  /** Tokens one sequence may hold on the server, where known. */
  contextSize?: number;
  /** Candidates asked for at the verdict position. */
  topLogprobs: number;
  /**
   * How a token-id session on llama-server writes the verdict: "walk" (the default) reads the verdict
   * position's candidates and walks the choices' tokens, as in process; "grammar" asks for the verdict
   * under a grammar in one request (what every other server gets). See OpenAISession.walkAnswer.
   */
  verdictAnswer?: "walk" | "grammar";
  /** The per-request timeout: long thinking is asked for in chunks that take a fraction of it. */
  requestTimeoutMs: number;
  /** The first thinking chunk's tokens (default FIRST_CHUNK_TOKENS). */
  firstChunkTokens?: number;
  onClose: () => void;
}

interface OpenAIMark extends SessionMark {
  readonly textLength: number;
}

/**
 * One judgment on a remote server. The server keeps no session: this object holds the sequence so far
 * and each step sends all of it again; the server's prefix cache (llama-server's `cache_prompt`, vLLM's
 * automatic prefix caching, SGLang's radix cache) makes the repeated prefix cheap, and `usage()`
 * reports what it really evaluated where the server says so.
 *
 * Token-id sessions (the default) hold token ids, exactly as the in-process engine does: the prompt by
 * the piece rule, each generated step as the ids the server sampled (without the stop word's tokens or
 * the end-of-sequence token, which never enter the sequence in process either), appended text
 * (`</think>`, `[[`: trusted, with special-token parsing on; the user's wait text by the judged-text
 * rule) tokenized as a continuation, as in process. Nothing is ever
 * detokenized and tokenized again, so no step can shift a token boundary.
 *
 * Text sessions (`allowTextPrompt`: an unknown server, Ollama, or the chat API) hold text and re-send it.
 */
/** Request fields a verdict read sets and relies on: one of them in `extraBody` sends the verdict to the grammar. */
const WALK_FIELDS = ["logit_bias", "n_probs", "post_sampling_probs", "n_predict", "grammar", "json_schema"] as const;

export class OpenAISession implements EngineSession {
  readonly promptTokens: number;
  private ids: number[] = [];
  private text = "";
  private evaluated = 0;
  private cached = 0;
  private closed = false;

  constructor(private readonly parts: OpenAISessionParts) {
    this.promptTokens = parts.promptTokens;
  }

  private get tokenMode(): boolean {
    return this.parts.promptIds !== undefined;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.assertOpen();
    const wanted = request.maxTokens ?? Number.POSITIVE_INFINITY;
    const room = this.roomLeft();
    const limit = Math.max(0, Math.min(wanted, room));
    // Which limit binds says why thinking ended: the caller's cap, or the context being full.
    const limitStop: GenerateResult["stop"] = wanted <= room ? "length" : "context";
    if (limit === 0) return { text: "", tokens: 0, stop: limitStop };
    if (!this.tokenMode) return this.generateText(request, limit, limitStop);
    return this.generateChunked(request, limit, limitStop);
  }

  /**
   * Token-id sessions ask for long thinking in chunks: one request for 4,096 thinking tokens of a CPU
   * server outlives any sensible per-request timeout (seen: SmolLM2 at 7 tokens/s, 609 s), while each
   * chunk re-sends the sequence so far, which the server's prefix cache serves, so no token is evaluated
   * twice. A chunk is sized from the speed measured so far to take about a quarter of the timeout.
   * Greedy thinking follows the same tokens as one request except at a near tie: the server's numerics
   * depend on which tokens it evaluates together, which a chunk boundary changes (docs/engine-facts.md,
   * "Real weights"). A sampled chunk gets its own seed.
   */
  private async generateChunked(request: GenerateRequest, limit: number, limitStop: GenerateResult["stop"]): Promise<GenerateResult> {
    const start = this.ids.length;
    const startText = this.text.length;
    let chunk = Math.min(limit, this.parts.firstChunkTokens ?? FIRST_CHUNK_TOKENS);
    let generated = 0;
    let chunkIndex = 0;
    let heldBack = "";
    for (;;) {
      const asked = Math.min(chunk, limit - generated);
      const began = Date.now();
      const outcome = await this.send(
        {
          maxTokens: Number.isFinite(asked) ? asked : undefined,
          stop: [request.stopAt],
          temperature: request.temperature,
          sampling: request.sampling,
          seed: chunkSeed(request.seed, chunkIndex),
        },
        request.signal,
      );
      const elapsed = Date.now() - began;
      chunkIndex++;
      let kept = await this.keptIds(outcome, outcome.stop === "delimiter" ? request.stopAt : undefined, request.signal);
      let text = outcome.text;
      // The stop text written across two chunks: no request saw it whole. Found in the joined text, the
      // thinking is cut where it began, tokenized again from the text (with a warning), as a stop word
      // that began inside a token is.
      const crossing = heldBack.length > 0 ? (heldBack + text).indexOf(request.stopAt) : -1;
      if (crossing >= 0 && crossing < heldBack.length) {
        const thought = this.text.slice(startText) + heldBack.slice(0, crossing);
        if (crossing > 0) request.onText?.(heldBack.slice(0, crossing));
        this.parts.warnings.other("retokenized:chunk", `the stop text "${request.stopAt}" was written across two requests: the thinking before it was tokenized again`);
        const ids = await continuationIds(thought, true, this.pieceTokenizer(request.signal), this.parts.vocabulary);
        this.ids.length = start;
        for (const id of ids) this.ids.push(id);
        this.text = this.text.slice(0, startText) + thought;
        return { text: thought, tokens: ids.length, stop: "delimiter" };
      }
      if (heldBack.length > 0) {
        this.text += heldBack;
        request.onText?.(heldBack);
        heldBack = "";
      }
      // Another chunk only when this one stopped at the tokens it asked for: a server that stops short of
      // them at "length" has a limit of its own (its --n-predict), which the next chunk would meet again.
      const returned = outcome.tokenIds?.length ?? kept.length;
      const more = outcome.stop === "length" && returned >= asked && generated + kept.length < limit && kept.length > 0;
      if (more) {
        // A chunk that ends with the start of the stop text ("</" of "</think>"): its tokens are given back
        // when they are exactly that start (the next chunk writes them again, the same when greedy), else
        // held until the next chunk says whether the stop text goes on.
        const partial = stopPrefixAtEnd(text, request.stopAt);
        if (partial.length > 0) {
          const partialIds = await continuationIds(partial, true, this.pieceTokenizer(request.signal), this.parts.vocabulary);
          if (kept.length > partialIds.length && endsWith(kept, partialIds)) {
            kept = kept.slice(0, kept.length - partialIds.length);
            text = text.slice(0, text.length - partial.length);
          } else {
            heldBack = partial;
            text = text.slice(0, text.length - partial.length);
          }
        }
      }
      for (const id of kept) this.ids.push(id);
      generated += kept.length;
      this.text += text;
      // Not streamed: each chunk arrives as one piece.
      if (text.length > 0) request.onText?.(text);
      if (!more) {
        if (heldBack.length > 0) {
          this.text += heldBack;
          request.onText?.(heldBack);
        }
        const stop = outcome.stop === "length" ? limitStop : outcome.stop;
        return { text: this.text.slice(startText), tokens: this.ids.length - start, stop };
      }
      const perToken = elapsed / Math.max(1, outcome.tokenIds?.length ?? kept.length);
      chunk = Math.max(Math.min(MIN_CHUNK_TOKENS, this.parts.firstChunkTokens ?? MIN_CHUNK_TOKENS), Math.floor((this.parts.requestTimeoutMs * CHUNK_SHARE_OF_TIMEOUT) / Math.max(perToken, 0.01)));
    }
  }

  /** Text sessions: one request (a text cannot be continued exactly by ids, so it is not chunked). */
  private async generateText(request: GenerateRequest, limit: number, limitStop: GenerateResult["stop"]): Promise<GenerateResult> {
    const outcome = await this.send(
      {
        maxTokens: Number.isFinite(limit) ? limit : undefined,
        stop: [request.stopAt],
        temperature: request.temperature,
        sampling: request.sampling,
        seed: request.seed,
      },
      request.signal,
    );
    const stop = outcome.stop === "length" ? limitStop : outcome.stop;
    const tokens = await this.countedTokens(outcome, outcome.stop === "delimiter" ? request.stopAt : undefined, request.signal);
    this.text += outcome.text;
    // Not streamed: the whole step arrives as one piece.
    if (outcome.text.length > 0) request.onText?.(outcome.text);
    return { text: outcome.text, tokens, stop };
  }

  async append(text: string, options: { signal?: AbortSignal; trusted?: boolean } = {}): Promise<number> {
    this.assertOpen();
    if (text.length === 0) return 0;
    let tokens: number;
    if (this.tokenMode) {
      // j1's own text (the end of thinking, the answer prefix) is trusted; the user's wait text is not.
      const ids = await tokenizeInjected(text, options.trusted ?? true, this.pieceTokenizer(options.signal), this.parts.vocabulary);
      if (this.parts.contextSize !== undefined && this.sequenceLength() + ids.length > this.parts.contextSize) {
        throw new J1Error("engine", `context full: cannot append ${ids.length} tokens to a sequence of ${this.sequenceLength()} (the server holds ${this.parts.contextSize} per sequence)`);
      }
      for (const id of ids) this.ids.push(id);
      tokens = ids.length;
    } else {
      tokens = await this.parts.counter.count(text, { signal: options.signal });
    }
    this.text += text;
    return tokens;
  }

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    this.assertOpen();
    const { shape, topLogprobs } = this.parts;
    const tokenized = this.parts.tokenize ? await this.choiceTokens(request) : undefined;
    const paths = tokenized?.paths;
    if (tokenized && this.walks(request, tokenized)) {
      const walked = await this.walkAnswer(request, tokenized.paths, tokenized.suffix);
      if (walked) return walked;
    }
    const before = this.ids.length;
    // llama-server's n_probs are the raw softmax whatever the sampling (server-context.cpp
    // populate_token_probs); elsewhere logprobs may be tempered, so they are read from a probe at T = 1.
    const rootFromAnswer = shape.flavor === "llama-server" || request.temperature === 1;
    const stop = request.suffix.length > 0 ? [request.suffix] : [];
    const outcome = await this.send(
      {
        maxTokens: request.maxTokens,
        stop,
        temperature: request.temperature,
        seed: request.seed,
        topLogprobs: rootFromAnswer ? topLogprobs : undefined,
        constraint: { choices: request.choices, suffix: request.suffix },
      },
      request.signal,
    );
    // The server drops the stop string from the text; the model did write it, so it belongs to the answer.
    const text = outcome.stop === "delimiter" ? outcome.text + request.suffix : outcome.text;
    let tokens: number;
    let kept: number[] = [];
    if (this.tokenMode) {
      // The suffix's tokens stay (they are in the sequence in process too); only an end token goes.
      kept = await this.keptIds(outcome, undefined, request.signal);
      tokens = kept.length;
    } else {
      tokens = await this.countedTokens(outcome, undefined, request.signal);
    }

    const confidence = await this.confidence(request, paths, rootFromAnswer ? outcome : undefined, this.ids.slice(0, before));
    for (const id of kept) this.ids.push(id);
    this.text += text;
    return { text, tokens, choiceProbabilities: confidence.probabilities, probabilityNote: confidence.missing };
  }

  mark(): SessionMark {
    this.assertOpen();
    const mark: OpenAIMark = { position: this.tokenMode ? this.ids.length : this.text.length, textLength: this.text.length };
    return mark;
  }

  async rollback(mark: SessionMark): Promise<void> {
    this.assertOpen();
    const { position, textLength } = mark as OpenAIMark;
    const length = this.tokenMode ? this.ids.length : this.text.length;
    if (position > length || textLength === undefined || textLength > this.text.length) {
      throw new J1Error("engine", `cannot roll back to ${position}: the session holds only ${length} ${this.tokenMode ? "tokens" : "characters"} after the prompt`);
    }
    this.ids.length = this.tokenMode ? position : 0;
    this.text = this.text.slice(0, textLength);
  }

  usage(): SessionUsage {
    return { promptTokens: this.promptTokens, evaluatedTokens: this.evaluated, cachedTokens: this.cached };
  }

  route(): SessionRoute | undefined {
    return this.parts.route.route();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.onClose();
  }

  /** The session's text after the prompt (for tests and debugging). */
  get continuationText(): string {
    return this.text;
  }

  /** The token ids sent as the next request's prompt (token-id sessions; for tests and debugging). */
  get sequenceIds(): readonly number[] | undefined {
    return this.parts.promptIds ? [...this.parts.promptIds, ...this.ids] : undefined;
  }

  private sequenceLength(): number {
    return (this.parts.promptIds?.length ?? this.promptTokens) + this.ids.length;
  }

  private roomLeft(): number {
    const { contextSize } = this.parts;
    if (contextSize === undefined || !this.tokenMode) return Number.POSITIVE_INFINITY;
    return contextSize - this.sequenceLength() - ANSWER_RESERVE;
  }

  private input(extra: readonly number[] = [], ids: readonly number[] = this.ids): ContinuationInput {
    const { promptIds, promptText } = this.parts;
    if (promptIds) return { kind: "tokens", ids: [...promptIds, ...ids, ...extra] };
    return { kind: "text", promptText, continuation: this.text };
  }

  private async send(step: Omit<ContinuationRequest, "input">, signal: AbortSignal | undefined, input: ContinuationInput = this.input()): Promise<CompletionOutcome> {
    const { route, warnings } = this.parts;
    // Sent to the session's server; if it is gone, the same request (the whole sequence) to the next one.
    const { url, outcome } = await route.call(async (member) => {
      const { url, body } = buildRequest({ ...step, input }, member.shape, warnings);
      const outcome = await member.client.postJson(url, body, { signal, headers: route.headers, read: (json, answeredUrl) => parseCompletion(json, step.stop[0], answeredUrl) });
      member.figures.requests++;
      member.figures.evaluatedTokens += outcome.evaluatedTokens ?? 0;
      member.figures.cachedTokens += outcome.cachedTokens ?? 0;
      return { url, outcome };
    }, signal);
    const { shape } = this.parts;
    // llama-server's chat answer repeats the partial assistant message it continued; vLLM's does not.
    if (shape.api === "chat" && shape.flavor === "llama-server" && input.kind === "text" && outcome.text.startsWith(input.continuation)) {
      outcome.text = outcome.text.slice(input.continuation.length);
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
   * The ids that enter the sequence after a step: what the server sampled, without the end-of-sequence
   * token (stop "end") or the stop word's tokens (`stopText`, when the server's ids end with them).
   * A stop word that began inside a token (".</think>" as one token), or a server that returns no ids
   * (vLLM before 0.10.2), leaves only the text: it is tokenized again, with a warning.
   */
  private async keptIds(outcome: CompletionOutcome, stopText: string | undefined, signal: AbortSignal | undefined): Promise<number[]> {
    const { warnings } = this.parts;
    const ids = outcome.tokenIds;
    const retokenize = async (reason: string) => {
      warnings.other(`retokenized:${reason}`, `generated text was tokenized again (${reason}): its ids may differ from what the model sampled`);
      return continuationIds(outcome.text, true, this.pieceTokenizer(signal), this.parts.vocabulary);
    };
    if (!ids) return retokenize("the server returned no token ids");
    if (outcome.stop === "end") return ids.length > 0 && outcome.stopKnown ? ids.slice(0, -1) : ids;
    if (stopText === undefined) return ids;
    const stopIds = await continuationIds(stopText, true, this.pieceTokenizer(signal), this.parts.vocabulary);
    if (endsWith(ids, stopIds)) return ids.slice(0, ids.length - stopIds.length);
    return retokenize(`the stop text "${stopText}" did not end on a token boundary`);
  }

  /**
   * Text sessions: the server's completion count includes what it sampled but cut from the text (a stop
   * string's tokens, the end-of-sequence token); those are taken off again.
   */
  private async countedTokens(outcome: CompletionOutcome, stopText: string | undefined, signal: AbortSignal | undefined): Promise<number> {
    const { counter } = this.parts;
    if (outcome.completionTokens === undefined) return counter.count(outcome.text, { signal });
    let cut = 0;
    if (stopText !== undefined) cut = await counter.count(stopText, { signal });
    else if (outcome.stop === "end") cut = 1;
    return Math.max(0, outcome.completionTokens - cut);
  }

  /** Through the session's server's tokenizer (the fleet serves one model: any server's ids are the same). */
  private tokenizeText(text: string, parseSpecial: boolean, signal: AbortSignal | undefined): Promise<number[]> {
    const { route } = this.parts;
    return route.call((member) => member.tokenizer.tokenize(text, parseSpecial, { signal, headers: route.headers }), signal);
  }

  /** The session's server's tokenizer as the piece rule calls it. */
  private pieceTokenizer(signal: AbortSignal | undefined): PieceTokenizer {
    return { tokenize: (text, parseSpecial) => this.tokenizeText(text, parseSpecial, signal) };
  }

  /** The choices' paths (core/choice-probabilities.ts) and the suffix's ids. */
  private async choiceTokens(request: AnswerRequest): Promise<{ paths: ChoicePath[]; suffix: number[] }> {
    // As in process: choices and suffix as plain text (no special-token parsing).
    const tokenized = new Map<string, number[]>();
    // As continuations: on a space-prefix vocabulary "A" alone would be "▁A", not what follows "[[".
    await Promise.all(request.choices.map(async (choice) => tokenized.set(choice, await continuationIds(choice, false, this.pieceTokenizer(request.signal), this.parts.vocabulary))));
    const suffix = request.suffix.length > 0 ? await continuationIds(request.suffix, false, this.pieceTokenizer(request.signal), this.parts.vocabulary) : [];
    return { paths: choicePaths(request.choices, (text) => tokenized.get(text) ?? [], suffix[0]), suffix };
  }

  /**
   * Whether the verdict is walked (walkAnswer): a token-id session on llama-server's native endpoint,
   * whose candidates are the raw softmax; none of the fields the reads rely on in the caller's `extraBody`
   * (WALK_FIELDS: it is spread over j1's body, so `n_probs`, `post_sampling_probs` or `n_predict` would
   * change what a read returns); in particular no `logit_bias` (the walk reads
   * raw candidates, which a bias does not change, so a banned choice could be picked; and the caller's
   * bias would replace the walk's own); every choice has tokens; and the longest answer fits in
   * `maxTokens` (a cut answer's text would need detokenizing).
   */
  private walks(request: AnswerRequest, tokenized: { paths: ChoicePath[]; suffix: number[] }): boolean {
    const { shape, verdictAnswer } = this.parts;
    if ((verdictAnswer ?? "walk") !== "walk" || !this.tokenMode || shape.flavor !== "llama-server" || shape.api !== "completions") return false;
    if (shape.extraBody !== undefined && WALK_FIELDS.some((field) => field in (shape.extraBody as object))) return false;
    if (tokenized.paths.some((path) => path.tokens.length === 0)) return false;
    const longest = Math.max(...tokenized.paths.map((path) => path.tokens.length));
    return longest + tokenized.suffix.length <= request.maxTokens;
  }

  /**
   * The verdict as the in-process engine writes it (llamacpp-session.ts `answer`), by reading, not by a
   * grammar. The distributions needed are known before the verdict: the verdict position's and one after
   * each branch prefix ("1" where "1" and "10" are choices), for the confidence and for walking the
   * choices' tokens alike. A read is one request of the sequence so far plus a prefix with `n_probs`
   * (the raw softmax's top candidates) and, where a branch prefix one token longer is still unread, that
   * token forced (FORCE_BIAS) and `n_predict: 2`, so the next position's candidates come back too: 1..10
   * on a Qwen tokenizer is one request evaluating what plain generation of "7]]" does. The token is then
   * picked among those a choice allows (greedy: the most likely; sampled: p^(1/T) with the seed every
   * engine uses), and the suffix follows the choice as given, unevaluated, as in process.
   *
   * No grammar runs: llama-server applies a grammar to the whole vocabulary (151,936 Qwen3 tokens)
   * whenever the model's own greedy token is not a choice (bench/http-answer.ts).
   *
   * Undefined (the caller then asks under a grammar) when the reads cannot decide a token: no allowed
   * token among the top candidates, or, when sampling, one of them missing (its weight unknown).
   */
  private async walkAnswer(request: AnswerRequest, paths: ChoicePath[], suffix: number[]): Promise<AnswerResult | undefined> {
    const { topLogprobs } = this.parts;
    const before = [...this.ids];
    const needed = branchPrefixes(paths);
    const distributions = new Map<string, Map<number, number>>();
    const read = async (prefix: readonly number[]) => {
      const child = needed.find((other) => other.length === prefix.length + 1 && prefix.every((token, index) => other[index] === token) && !distributions.has(other.join(",")));
      const force = child?.[prefix.length];
      const outcome = await this.send({ maxTokens: force === undefined ? 1 : 2, stop: [], temperature: 0, seed: request.seed, topLogprobs, forceToken: force }, request.signal, this.input(prefix, before));
      const here = candidateDistribution(outcome.topLogprobs[0] ?? []);
      if (here) distributions.set(prefix.join(","), here);
      const next = force !== undefined && outcome.tokenIds?.[0] === force ? candidateDistribution(outcome.topLogprobs[1] ?? []) : undefined;
      if (child && next) distributions.set(child.join(","), next);
    };
    const chosen: number[] = [];
    for (;;) {
      const allowed = nextChoiceTokens(paths, chosen);
      if (!distributions.has(chosen.join(","))) await read(chosen);
      const distribution = distributions.get(chosen.join(","));
      if (!distribution) return undefined;
      const known = allowed.filter((token) => distribution.has(token)).length;
      if (known === 0 || (request.temperature > 0 && known < allowed.length)) return undefined;
      chosen.push(pickChoiceToken(allowed, distribution, request.temperature, verdictTokenSeed(request.seed, chosen.length)));
      if (nextChoiceTokens(paths, chosen).length === 0) break;
    }
    let confidence: ChoiceProbabilityResult;
    try {
      // Branch prefixes off the chosen path not read with it ("1" for 1..100 when the verdict is "85").
      for (const prefix of needed) if (!distributions.has(prefix.join(","))) await read(prefix);
      confidence = combineReported(paths, distributions, topLogprobs, describe);
    } catch (error) {
      if (error instanceof J1Error && error.code === "cancelled") throw error;
      // Confidence is a report, not the verdict: a failed probe leaves it unknown, with the reason.
      confidence = { missing: `reading the verdict probabilities failed: ${(error as Error).message}` };
    }
    // The suffix after the choice: the part the chosen path did not already end with (as in process).
    const path = paths.find((candidate) => candidate.tokens.length === chosen.length && candidate.tokens.every((token, index) => token === chosen[index]));
    if (!path) throw new J1Error("engine", `the verdict walk ended off every choice's path (tokens ${chosen.join(", ")})`);
    const ended = suffix.length > 0 && chosen[chosen.length - 1] === suffix[0];
    const rest = ended ? suffix.slice(1) : path.choice.endsWith(request.suffix) ? [] : suffix;
    const text = ended || rest.length > 0 ? path.choice + request.suffix : path.choice;
    for (const id of [...chosen, ...rest]) this.ids.push(id);
    this.text += text;
    return { text, tokens: chosen.length + rest.length, choiceProbabilities: confidence.probabilities, probabilityNote: confidence.missing };
  }

  /**
   * P(verdict) as in process: untempered, over whole choice strings. The root distribution comes from
   * the answer request's first position where the server reports it untempered (llama-server), else
   * from a probe at temperature 1; each branch prefix ("1" before "0" or "]]") costs one more small
   * request (prompt + prefix, one token, its top candidates), served from the prefix cache.
   */
  private async confidence(request: AnswerRequest, paths: ChoicePath[] | undefined, answered: CompletionOutcome | undefined, before: readonly number[]): Promise<ChoiceProbabilityResult> {
    const { topLogprobs, warnings } = this.parts;
    try {
      if (!this.tokenMode || !paths) {
        // A text session: only the root position can be read (a probe cannot extend a text by token ids).
        const first = answered?.topLogprobs[0] ?? (await this.probe([], before, request))?.[0] ?? [];
        const root = candidateDistribution(first);
        if (!paths || !root) return textChoiceProbabilities(request.choices, first, topLogprobs);
        if (branchPrefixes(paths).length > 0) return { missing: "the choices share leading tokens, and a text session cannot read the deeper positions" };
        return combineReported(paths, new Map([["", root]]), topLogprobs, describe);
      }
      const distributions = new Map<string, Map<number, number>>();
      // llama-server drops a position's candidates when the stop string tokenizes alone into more tokens than
      // the model wrote for it (a space-prefix vocabulary: "]]" alone is "▁]]"), so an answer may carry none:
      // then the root is read from a probe like any other position.
      const answeredFirst = answered?.topLogprobs[0];
      const dropped = answered !== undefined && !(answeredFirst && answeredFirst.length > 0) && this.parts.vocabulary.spacePrefix === true;
      const root = candidateDistribution(answered && !dropped ? (answeredFirst ?? []) : ((await this.probe([], before, request))?.[0] ?? []));
      if (root) distributions.set("", root);
      for (const prefix of branchPrefixes(paths)) {
        const reported = candidateDistribution((await this.probe(prefix, before, request))?.[0] ?? []);
        if (reported) distributions.set(prefix.join(","), reported);
      }
      const result = combineReported(paths, distributions, topLogprobs, describe);
      if (!root) warnings.unsupported("probabilities", "the server returned no top log-probabilities with token ids: verdicts carry no confidence");
      return result;
    } catch (error) {
      if (error instanceof J1Error && error.code === "cancelled") throw error;
      // Confidence is a report, not the verdict: a failed probe leaves it unknown, with the reason.
      return { missing: `reading the verdict probabilities failed: ${(error as Error).message}` };
    }
  }

  /** One token's candidates after the session's ids before the answer plus `prefix`, at temperature 1. */
  private async probe(prefix: readonly number[], before: readonly number[], request: AnswerRequest) {
    const outcome = await this.send(
      { maxTokens: 1, stop: [], temperature: 1, seed: request.seed, topLogprobs: this.parts.topLogprobs },
      request.signal,
      this.input(prefix, before),
    );
    return outcome.topLogprobs;
  }

  private assertOpen(): void {
    if (this.closed) throw new J1Error("engine", "session is closed");
  }
}

function describe(prefix: readonly number[]): string {
  return `token${prefix.length > 1 ? "s" : ""} ${prefix.join(", ")}`;
}

/** The longest proper start of `stop` that `text` ends with ("" when none). */
function stopPrefixAtEnd(text: string, stop: string): string {
  for (let length = Math.min(stop.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(stop.slice(0, length))) return stop.slice(0, length);
  }
  return "";
}

/** A sampled chunk's own seed, so chunks do not repeat one random stream (greedy ignores it). */
function chunkSeed(seed: number, chunk: number): number {
  return chunk === 0 ? seed : (seed + Math.imul(chunk, 0x9e3779b1)) >>> 0;
}

function endsWith(tokens: readonly number[], suffix: readonly number[]): boolean {
  if (suffix.length === 0 || tokens.length < suffix.length) return false;
  for (let index = 0; index < suffix.length; index++) if (tokens[tokens.length - suffix.length + index] !== suffix[index]) return false;
  return true;
}
