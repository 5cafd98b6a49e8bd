import type { Llama, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { branchPrefixes, choicePaths, combineChoicePaths, nextChoiceTokens, pickChoiceToken, verdictTokenSeed } from "../../core/choice-probabilities.js";
import { J1Error } from "../../core/errors.js";
import { continuationIds, tokenizeInjected, type PieceTokenizer, type PieceVocabulary } from "../../core/prompt-pieces.js";
import type { AnswerRequest, AnswerResult, EngineSession, GenerateRequest, GenerateResult, SamplingOptions, SessionMark, SessionUsage } from "../engine.js";

/** Room kept free at the end of the context for the forced end of thinking and the verdict. */
const ANSWER_RESERVE = 48;

export interface LlamaCppSessionParts {
  llama: Llama;
  model: LlamaModel;
  sequence: LlamaContextSequence;
  promptTokens: number;
  cachedTokens: number;
  /** Prompt tokens not yet in the sequence: they are fed together with the first generation step. */
  pending: Token[];
  release: () => void;
  /** The piece rule's view of the vocabulary: what to break in judged text, whether pieces get a space prefix. */
  vocabulary: PieceVocabulary;
}

type TokenStream = AsyncGenerator<Token, void, void | Token | Token[]>;

interface LiveStream {
  iterator: TokenStream;
  /** The sampling the stream was started with (temperature and truncation), as a key. */
  sampling: string;
  /** The sequence position at which the stream waits (its last yielded token not yet fed). */
  position: number;
  /** Not started: its input was given to evaluate(), and the first next() takes no tokens. */
  fresh: boolean;
}

interface LlamaCppMark extends SessionMark {
  readonly fed: number;
  readonly pending: readonly Token[];
}

/**
 * One judgment's sequence in a llama.cpp context. Budget forcing happens at token level: `generate` stops
 * when the end-of-thinking token is sampled, before it enters the sequence, so whatever the judge appends
 * next (the wait text, or the delimiter itself) takes its place and nothing before it is evaluated again.
 *
 * Appended text is held as pending tokens and fed with the next generation step (one batch), and the last
 * sampled token stays pending too: every token is evaluated exactly once, however many waits are used.
 */
export class LlamaCppSession implements EngineSession {
  readonly promptTokens: number;
  private readonly parts: LlamaCppSessionParts;
  private readonly meterStart: number;
  private pending: Token[];
  private live: LiveStream | undefined;
  private closed = false;

  constructor(parts: LlamaCppSessionParts) {
    this.parts = parts;
    this.promptTokens = parts.promptTokens;
    this.pending = [...parts.pending];
    this.meterStart = evaluatedSoFar(parts.sequence);
  }

  private get sequence(): LlamaContextSequence {
    if (this.closed) throw new J1Error("engine", "session is closed");
    return this.parts.sequence;
  }

  private roomLeft(): number {
    return this.sequence.contextSize - this.sequence.nextTokenIndex - this.pending.length - ANSWER_RESERVE;
  }

  /** The model's tokenizer as the piece rule calls it. */
  private get tokenizer(): PieceTokenizer {
    const { model } = this.parts;
    return { tokenize: (text, parseSpecial) => model.tokenize(text, parseSpecial) };
  }

  /** `text`'s tokens where it continues the sequence (no space prefix of its own on SentencePiece vocabularies). */
  private async continuation(text: string, parseSpecial: boolean): Promise<Token[]> {
    return (await continuationIds(text, parseSpecial, this.tokenizer, this.parts.vocabulary)) as Token[];
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { model } = this.parts;
    // As the model writes it after other text: on a space-prefix vocabulary "</think>" alone would be "▁</think>".
    const stopTokens = await this.continuation(request.stopAt, true);
    const room = Math.max(0, this.roomLeft());
    const wanted = request.maxTokens ?? Number.POSITIVE_INFINITY;
    const limit = Math.max(0, Math.min(wanted, room));
    // Which limit binds says why thinking ended: the caller's cap, or the context being full.
    const limitStop: GenerateResult["stop"] = wanted <= room ? "length" : "context";
    if (limit === 0) return { text: "", tokens: 0, stop: limitStop };
    const stream = await this.thinkingStream(request.temperature, request.sampling, request.seed);
    const generated: Token[] = [];
    let next = await stream.iterator.next(stream.fresh ? undefined : this.takePending());
    stream.fresh = false;
    for (;;) {
      if (next.done) {
        this.live = undefined;
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: "end" };
      }
      if (request.signal?.aborted) {
        await this.closeStream();
        throw new J1Error("cancelled", "generation cancelled");
      }
      const token = next.value;
      // The stream now waits at a yielded token that is not in the sequence yet: whatever is appended next
      // is fed in its place (the wait text instead of the end of thinking), from this very position.
      stream.position = this.sequence.nextTokenIndex;
      generated.push(token);
      if (endsWith(generated, stopTokens)) {
        // Earlier pieces of a multi-token delimiter did enter the sequence, and are erased here (which
        // moves the position, so the stream is not continued).
        generated.splice(generated.length - stopTokens.length);
        if (stopTokens.length > 1) await this.eraseLast(stopTokens.length - 1);
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: "delimiter" };
      }
      // Checked after the delimiter: a family's end of thinking may itself be an end-of-generation token.
      if (model.isEogToken(token)) {
        generated.pop();
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: "end" };
      }
      request.onText?.(model.detokenize([token], false, generated.slice(Math.max(0, generated.length - 9), -1)));
      if (generated.length >= limit) {
        // The last sampled token was yielded but not fed: it is fed with the next step.
        this.pending.push(token);
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: limitStop };
      }
      next = await stream.iterator.next();
    }
  }

  /**
   * The generation stream that thinking continues in. One stream serves every thinking step of a
   * judgment: when the model tries to end its thinking the stream stays suspended at that token, and the
   * next step resumes it with the injected tokens in its place. Restarting a stream per step costs a
   * sampler and a batch round trip each time; resuming costs nothing. A stream is resumed only from the
   * position it stopped at (a read-out that was rolled back leaves it there) and with the same sampling;
   * otherwise a new one starts from the pending tokens. A continued stream keeps its first seed.
   */
  private async thinkingStream(temperature: number, sampling: SamplingOptions | undefined, seed: number): Promise<LiveStream> {
    const truncation = neutralSampling(sampling);
    const key = JSON.stringify([temperature, truncation]);
    const live = this.live;
    if (live && live.sampling === key && live.position === this.sequence.nextTokenIndex) return live;
    await this.closeStream();
    const iterator = this.sequence.evaluate(this.takePending(), { temperature, ...truncation, seed, yieldEogToken: true });
    const stream: LiveStream = { iterator, sampling: key, position: -1, fresh: true };
    this.live = stream;
    return stream;
  }

  private async closeStream(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    if (live) await live.iterator.return(undefined);
  }

  async append(text: string, options: { trusted?: boolean } = {}): Promise<number> {
    const tokens = (await tokenizeInjected(text, options.trusted ?? true, this.tokenizer, this.parts.vocabulary)) as Token[];
    if (tokens.length > this.roomLeft() + ANSWER_RESERVE) throw new J1Error("engine", `context full: cannot append ${tokens.length} tokens`);
    this.pending.push(...tokens);
    return tokens.length;
  }

  /**
   * The verdict, walked along the choices' tokens. At the verdict position, and after each verdict token
   * where a choice continues, the untempered distribution (temperature 1, no truncation, no grammar:
   * core/choice-probabilities.ts) is read as a top-k list, and the next token is drawn from it among the
   * tokens some choice allows there (greedy: the most likely). Those reads are the confidence's factors
   * and the generation at once, so the answer evaluates what plain generation would, and no grammar runs
   * over the vocabulary; a prefix off the chosen path ("1" when the verdict is "7" and "10" is a choice)
   * is probed from the verdict position and erased. The whole vocabulary is read only when a needed token
   * is not in the top k. The rest of the answer suffix follows the choice as given (what a grammar would
   * force).
   */
  async answer(request: AnswerRequest): Promise<AnswerResult> {
    const { model } = this.parts;
    // As continuations: on a space-prefix vocabulary "A" alone would be "▁A", not what follows "[[".
    const suffixTokens = await this.continuation(request.suffix, false);
    const tokenized = new Map<string, Token[]>();
    for (const choice of request.choices) tokenized.set(choice, await this.continuation(choice, false));
    const paths = choicePaths(request.choices, (text) => tokenized.get(text) ?? [], suffixTokens[0]);
    const distributions = new Map<string, Map<Token, number>>();
    const verdictPosition = this.sequence.nextTokenIndex + this.pending.length - 1;
    const chosen: Token[] = [];
    let feed = this.takePending();
    for (;;) {
      const allowed = nextChoiceTokens(paths, chosen) as Token[];
      const distribution = await this.readDistribution(feed, allowed, paths.length);
      if (request.signal?.aborted) throw new J1Error("cancelled", "answer cancelled");
      distributions.set(chosen.join(","), distribution);
      const token = pickChoiceToken(allowed, distribution, request.temperature, verdictTokenSeed(request.seed, chosen.length)) as Token;
      chosen.push(token);
      if (nextChoiceTokens(paths, chosen).length === 0 || chosen.length >= request.maxTokens) break;
      feed = [token];
    }
    // Probabilities still missing: prefixes off the chosen path, read from the verdict position.
    const offPath = branchPrefixes(paths).filter((prefix) => !distributions.has(prefix.join(",")));
    let pendingAnswer = chosen.slice(-1);
    if (offPath.length > 0) {
      await this.eraseFrom(verdictPosition + 1);
      for (const prefix of offPath) distributions.set(prefix.join(","), await this.probe(prefix as Token[], nextChoiceTokens(paths, prefix) as Token[], paths.length));
      pendingAnswer = [...chosen];
    }
    const combined = combineChoicePaths(paths, (prefix) => {
      const distribution = distributions.get(prefix.join(","));
      return distribution ? (token) => distribution.get(token as Token) ?? 0 : undefined;
    });
    // The suffix after the choice: the part the chosen path did not already end with.
    const ended = chosen[chosen.length - 1] === suffixTokens[0] && suffixTokens.length > 0;
    const rest = ended ? suffixTokens.slice(1) : model.detokenize(chosen, false).endsWith(request.suffix) ? [] : suffixTokens;
    const answer = [...chosen, ...rest.slice(0, Math.max(0, request.maxTokens - chosen.length))];
    // The tokens not fed wait for the next step, as in `generate` (a sweep's rollback drops them unfed).
    this.pending.push(...pendingAnswer, ...answer.slice(chosen.length));
    return {
      text: model.detokenize(answer, false),
      tokens: answer.length,
      choiceProbabilities: combined.probabilities,
      probabilityNote: combined.missing,
    };
  }

  /**
   * Feeds `tokens` and returns the untempered next-token distribution after the last one (temperature 1,
   * no top-p or min-p; `topK` 0 is the whole vocabulary).
   */
  private async feedAndRead(tokens: readonly Token[], topK: number): Promise<Map<Token, number>> {
    const last = tokens.length - 1;
    const items = tokens.map((token, index) =>
      index === last ? ([token, { generateNext: { probabilities: true, options: { temperature: 1, topK, topP: 1, minP: 0 } } }] as const) : token,
    );
    const outputs = await this.sequence.controlledEvaluate(items as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
    return outputs[last]?.next.probabilities ?? new Map<Token, number>();
  }

  /**
   * Feeds `input` and returns the next-token distribution after it, untempered. Asks for the top
   * candidates first (normalising over the choices needs only ratios, and a top-k list is cheap to hand
   * over: the whole map is 151,936 entries on Qwen3); the whole vocabulary only when a token in `needed`
   * is not among them.
   */
  private async readDistribution(input: Token[], needed: readonly Token[], choices: number): Promise<Map<Token, number>> {
    const top = await this.feedAndRead(input, Math.max(64, choices * 4));
    if (needed.every((token) => top.has(token))) return top;
    // Read the same position again over the whole vocabulary: erase the last fed token and feed it again.
    const end = this.sequence.nextTokenIndex;
    await this.sequence.eraseContextTokenRanges([{ start: end - 1, end }]);
    return this.feedAndRead([input[input.length - 1]], 0);
  }

  /** The distribution after `prefix` (fed, read, then erased again). */
  private async probe(prefix: Token[], needed: readonly Token[], choices: number): Promise<Map<Token, number>> {
    const start = this.sequence.nextTokenIndex;
    const distribution = await this.readDistribution(prefix, needed, choices);
    await this.eraseFrom(start);
    return distribution;
  }

  private async eraseFrom(start: number): Promise<void> {
    const end = this.sequence.nextTokenIndex;
    if (start < end) await this.sequence.eraseContextTokenRanges([{ start, end }]);
  }

  mark(): SessionMark {
    const mark: LlamaCppMark = { position: this.sequence.nextTokenIndex + this.pending.length, fed: this.sequence.nextTokenIndex, pending: [...this.pending] };
    return mark;
  }

  async rollback(mark: SessionMark): Promise<void> {
    const { fed, pending } = mark as LlamaCppMark;
    const sequence = this.sequence;
    if (fed < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: fed, end: sequence.nextTokenIndex }]);
    this.pending = [...pending];
  }

  usage(): SessionUsage {
    const evaluated = evaluatedSoFar(this.parts.sequence) - this.meterStart;
    return { promptTokens: this.promptTokens, evaluatedTokens: evaluated, cachedTokens: this.parts.cachedTokens };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.closeStream();
    this.closed = true;
    this.parts.release();
  }

  private takePending(): Token[] {
    if (this.pending.length === 0) throw new J1Error("engine", "nothing to continue from: the session has no pending tokens");
    const input = this.pending;
    this.pending = [];
    return input;
  }

  private async eraseLast(count: number): Promise<void> {
    const sequence = this.sequence;
    await sequence.eraseContextTokenRanges([{ start: sequence.nextTokenIndex - count, end: sequence.nextTokenIndex }]);
  }
}
/**
 * Tokens the sequence has run through the model. node-llama-cpp's meter counts a token whose logits were
 * sampled from as "output" and the rest of a batch as "input"; both were evaluated.
 */
function evaluatedSoFar(sequence: LlamaContextSequence): number {
  return sequence.tokenMeter.usedInputTokens + sequence.tokenMeter.usedOutputTokens;
}

function endsWith(tokens: readonly Token[], suffix: readonly Token[]): boolean {
  if (suffix.length === 0 || tokens.length < suffix.length) return false;
  for (let index = 0; index < suffix.length; index++) {
    if (tokens[tokens.length - suffix.length + index] !== suffix[index]) return false;
  }
  return true;
}

/** Unset truncation means none: node-llama-cpp's own defaults (top-k 40, top-p 0.95) must not apply silently. */
function neutralSampling(sampling: SamplingOptions | undefined): { topK: number; topP: number; minP: number } {
  return { topK: sampling?.topK ?? 0, topP: sampling?.topP ?? 1, minP: sampling?.minP ?? 0 };
}
