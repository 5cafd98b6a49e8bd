import type { Llama, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { J1Error } from "../../core/errors.js";
import type { AnswerRequest, AnswerResult, EngineSession, GenerateRequest, GenerateResult, SessionMark, SessionUsage } from "../engine.js";
import { choiceGrammar } from "./verdict-grammar.js";

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
}

type TokenStream = AsyncGenerator<Token, void, void | Token | Token[]>;

interface LiveStream {
  iterator: TokenStream;
  temperature: number;
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

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { model } = this.parts;
    const stopTokens = model.tokenize(request.stopAt, true);
    const limit = Math.max(0, Math.min(request.maxTokens ?? Number.POSITIVE_INFINITY, this.roomLeft()));
    if (limit === 0) return { text: "", tokens: 0, stop: "length" };
    const stream = await this.thinkingStream(request.temperature, request.seed);
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
      if (model.isEogToken(token)) return { text: model.detokenize(generated, false), tokens: generated.length, stop: "end" };
      generated.push(token);
      if (endsWith(generated, stopTokens)) {
        // Earlier pieces of a multi-token delimiter did enter the sequence, and are erased here (which
        // moves the position, so the stream is not continued).
        generated.splice(generated.length - stopTokens.length);
        if (stopTokens.length > 1) await this.eraseLast(stopTokens.length - 1);
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: "delimiter" };
      }
      request.onText?.(model.detokenize([token], false, generated.slice(Math.max(0, generated.length - 9), -1)));
      if (generated.length >= limit) {
        // The last sampled token was yielded but not fed: it is fed with the next step.
        this.pending.push(token);
        return { text: model.detokenize(generated, false), tokens: generated.length, stop: "length" };
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
  private async thinkingStream(temperature: number, seed: number): Promise<LiveStream> {
    const live = this.live;
    if (live && live.temperature === temperature && live.position === this.sequence.nextTokenIndex) return live;
    await this.closeStream();
    const iterator = this.sequence.evaluate(this.takePending(), { temperature, seed, yieldEogToken: true });
    const stream: LiveStream = { iterator, temperature, position: -1, fresh: true };
    this.live = stream;
    return stream;
  }

  private async closeStream(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    if (live) await live.iterator.return(undefined);
  }

  async append(text: string): Promise<number> {
    const tokens = this.parts.model.tokenize(text, true);
    if (tokens.length > this.roomLeft() + ANSWER_RESERVE) throw new J1Error("engine", `context full: cannot append ${tokens.length} tokens`);
    this.pending.push(...tokens);
    return tokens.length;
  }

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    const { model, llama } = this.parts;
    const sequence = this.sequence;
    const grammar = await choiceGrammar(llama, request.choices, request.suffix);
    const { LlamaGrammarEvaluationState } = await import("node-llama-cpp");
    const grammarState = new LlamaGrammarEvaluationState({ model, grammar });
    const input = this.takePending();
    const generated: Token[] = [];
    let choiceProbabilities: Record<string, number> | undefined;
    const iterator = sequence.evaluateWithMetadata(input, { probabilities: true }, {
      temperature: request.temperature,
      // The full distribution: top-k/top-p truncation would distort the verdict probabilities (confidence)
      // and the grammar already limits the choice to valid verdicts.
      topK: 0,
      topP: 1,
      seed: request.seed,
      grammarEvaluationState: grammarState,
      yieldEogToken: true,
    });
    try {
      for await (const output of iterator) {
        if (request.signal?.aborted) throw new J1Error("cancelled", "answer cancelled");
        if (generated.length === 0) choiceProbabilities = normaliseChoices(model, request.choices, output.probabilities);
        if (model.isEogToken(output.token)) break;
        generated.push(output.token);
        if (model.detokenize(generated, false).endsWith(request.suffix) || generated.length >= request.maxTokens) break;
      }
    } finally {
      await iterator.return(undefined);
    }
    if (generated.length > 0) this.pending.push(generated[generated.length - 1]);
    return { text: model.detokenize(generated, false), tokens: generated.length, choiceProbabilities };
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

/** P(choice) at the verdict position, normalised over the choices (by each choice's first token). */
function normaliseChoices(model: LlamaModel, choices: readonly string[], probabilities: Map<Token, number>): Record<string, number> | undefined {
  const raw: Record<string, number> = {};
  let total = 0;
  const seen = new Set<Token>();
  for (const choice of choices) {
    const first = model.tokenize(choice, false)[0];
    if (first === undefined) continue;
    const probability = probabilities.get(first) ?? 0;
    raw[choice] = probability;
    if (!seen.has(first)) {
      total += probability;
      seen.add(first);
    }
  }
  if (total <= 0) return undefined;
  for (const choice of Object.keys(raw)) raw[choice] /= total;
  return raw;
}
