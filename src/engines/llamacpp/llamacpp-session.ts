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
    const sequence = this.sequence;
    const stopTokens = model.tokenize(request.stopAt, true);
    const limit = Math.max(0, Math.min(request.maxTokens ?? Number.POSITIVE_INFINITY, this.roomLeft()));
    if (limit === 0) return { text: "", tokens: 0, stop: "length" };
    const input = this.takePending();
    const generated: Token[] = [];
    let stop: GenerateResult["stop"] = "length";
    const iterator = sequence.evaluate(input, { temperature: request.temperature, seed: request.seed, yieldEogToken: true });
    try {
      for await (const token of iterator) {
        if (request.signal?.aborted) throw new J1Error("cancelled", "generation cancelled");
        if (model.isEogToken(token)) {
          stop = "end";
          break;
        }
        generated.push(token);
        if (endsWith(generated, stopTokens)) {
          // The delimiter's last token never entered the sequence (the iterator yields before feeding);
          // earlier pieces of a multi-token delimiter did, and are erased here.
          generated.splice(generated.length - stopTokens.length);
          if (stopTokens.length > 1) await this.eraseLast(stopTokens.length - 1);
          return { text: model.detokenize(generated, false), tokens: generated.length, stop: "delimiter" };
        }
        request.onText?.(model.detokenize([token], false, generated.slice(Math.max(0, generated.length - 9), -1)));
        if (generated.length >= limit) break;
      }
    } finally {
      await iterator.return(undefined);
    }
    // The last sampled token was yielded but not fed: it is fed with the next step. (An end-of-generation
    // token is dropped.)
    if (stop === "length" && generated.length > 0) this.pending.push(generated[generated.length - 1]);
    return { text: model.detokenize(generated, false), tokens: generated.length, stop };
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
