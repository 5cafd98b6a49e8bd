import { onThinkingEnd, thinkingTokensLeft, type ScalingOptions, type ThinkingState } from "../core/budget.js";
import { deriveSeed } from "../core/seed.js";
import { answerRegion, TraceBuilder, type TraceSpan } from "../core/trace.js";
import type { JudgeTemplate } from "../core/template.js";
import { emptyUsage, type Usage } from "../core/usage.js";
import { parseVerdict } from "../core/verdict.js";
import type { AnswerResult, EngineSession, SamplingOptions } from "../engines/engine.js";

/** What one pass produced, before it is mapped to an order and a verdict label. */
export interface RawRun {
  rawVerdict: string | null;
  parseError?: string;
  /** P(rawVerdict) among the choices, where the engine reports probabilities. */
  confidence?: number;
  choiceProbabilities?: Record<string, number>;
  waitsUsed: number;
  forcedEnd: boolean;
  /** Why thinking ended: see `ThinkingEndReason`. */
  thinkingEnd: ThinkingEndReason;
  trace: TraceSpan[];
  usage: Usage;
}

/**
 * model: the model ended its thinking and nothing asked for more; waits-used: it ended after every
 * suppression the policy allowed; cap: j1 forced the end at the thinking cap; context: the context was full.
 */
export type ThinkingEndReason = "model" | "waits-used" | "cap" | "context";

export type ThinkingEvent =
  | { type: "thinking"; text: string }
  | { type: "injected"; text: string; role: "wait" | "think-end" | "answer-prefix" }
  | { type: "answer"; text: string };

export interface ThinkingRunOptions {
  template: JudgeTemplate;
  scaling: ScalingOptions;
  choices: readonly string[];
  temperature: number;
  /** Truncation for the thinking (top-p, top-k, min-p); unset: none. The verdict is always read untruncated. */
  sampling?: SamplingOptions;
  seed: number;
  /**
   * One-pass sweep: read the verdict at each of these wait counts on the way (answer, record, roll back,
   * continue thinking). Points at or past the run's own `waits` get the final result.
   */
  readAtWaits?: readonly number[];
  /** The rendered prompt, for the trace's prompt span. */
  promptText?: string;
  onEvent?: (event: ThinkingEvent) => void;
  signal?: AbortSignal;
}

export interface ThinkingRunResult {
  final: RawRun;
  /** Per requested wait count (readAtWaits): the run as if `waits` had been that count. */
  readouts: Map<number, RawRun>;
  /** What the whole pass cost the engine, read-outs included. */
  evaluatedTokens: number;
}

/**
 * One pass of budget forcing over one session: think, and each time the model tries to stop, ask the
 * policy whether to inject the wait text or let thinking end; at the cap, force the end; then inject the
 * answer prefix and generate the verdict. The trace records every span with its provenance.
 */
export async function runThinking(session: EngineSession, options: ThinkingRunOptions): Promise<ThinkingRunResult> {
  const { template, scaling } = options;
  const trace = new TraceBuilder();
  const usage = emptyUsage();
  usage.promptTokens = session.promptTokens;
  trace.add({ source: "prompt", text: options.promptText ?? "", tokens: session.promptTokens });
  const state: ThinkingState = { waitsUsed: 0, thinkingTokens: 0 };
  const readouts = new Map<number, RawRun>();
  const wanted = new Set((options.readAtWaits ?? []).filter((k) => k < scaling.waits));
  let phase = 0;
  let forcedEnd = false;
  let endReason: ThinkingEndReason = "model";
  // Tokens evaluated by read-outs that were rolled back: a separate run would not have paid them.
  let readoutOverhead = 0;

  const append = async (text: string, role: "wait" | "think-end" | "answer-prefix", source: "injected" | "generated" = "injected") => {
    const tokens = await session.append(text, { signal: options.signal });
    trace.add({ source, text, tokens, role });
    if (source === "generated") usage.thinkingTokens += tokens;
    else usage.injectedTokens += tokens;
    options.onEvent?.(source === "injected" ? { type: "injected", text, role } : { type: "thinking", text });
  };

  const finishRun = async (): Promise<RawRun> => {
    await append(template.answerPrefix, "answer-prefix");
    const answer = await session.answer({
      choices: options.choices,
      suffix: template.answerSuffix,
      maxTokens: scaling.answerTokens,
      temperature: options.temperature,
      seed: deriveSeed(options.seed, "answer"),
      signal: options.signal,
    });
    trace.add({ source: "generated", text: answer.text, tokens: answer.tokens, role: "answer" });
    options.onEvent?.({ type: "answer", text: answer.text });
    usage.answerTokens += answer.tokens;
    const engineUsage = session.usage();
    return buildRun(trace.snapshot(), { ...usage, evaluatedTokens: engineUsage.evaluatedTokens - readoutOverhead, cachedTokens: engineUsage.cachedTokens }, state, forcedEnd, answer, endReason);
  };

  const buildRun = (spans: TraceSpan[], runUsage: Usage, at: ThinkingState, forced: boolean, answer: AnswerResult, reason: ThinkingEndReason): RawRun => {
    const region = answerRegion(spans, template.thinkEnd);
    const parsed = region ? parseVerdict(region.text, options.choices, { open: template.answerPrefix, close: template.answerSuffix }) : ({ ok: false, reason: "thinking never ended" } as const);
    const rawVerdict = parsed.ok ? parsed.verdict : null;
    return {
      rawVerdict,
      parseError: parsed.ok ? undefined : parsed.reason,
      confidence: rawVerdict !== null ? answer.choiceProbabilities?.[rawVerdict] : undefined,
      choiceProbabilities: answer.choiceProbabilities,
      waitsUsed: at.waitsUsed,
      forcedEnd: forced,
      thinkingEnd: reason,
      trace: spans,
      usage: runUsage,
    };
  };

  // Reads the verdict as if thinking ended here, then puts the session, trace and counts back.
  const readOut = async (stop: "delimiter" | "end"): Promise<RawRun> => {
    const mark = session.mark();
    const traceLength = trace.length;
    const saved = { ...usage };
    const savedReason = endReason;
    // Read at k waits: the model's attempt here would have ended thinking with k waits used.
    endReason = state.waitsUsed > 0 ? "waits-used" : "model";
    const evaluatedBefore = session.usage().evaluatedTokens;
    await endThinking(stop);
    const run = await finishRun();
    readoutOverhead += session.usage().evaluatedTokens - evaluatedBefore;
    await session.rollback(mark);
    trace.truncate(traceLength);
    Object.assign(usage, saved);
    endReason = savedReason;
    return run;
  };

  const endThinking = async (stop: "delimiter" | "end" | "length") => {
    // A delimiter the model produced is generated text; an end we force (cap, or end of generation) is ours.
    if (stop === "delimiter") await append(template.thinkEnd, "think-end", "generated");
    else await append(template.thinkEnd, "think-end");
  };

  for (;;) {
    const left = thinkingTokensLeft(scaling, state);
    const step = await session.generate({
      stopAt: template.thinkEnd,
      maxTokens: left,
      temperature: options.temperature,
      sampling: options.sampling,
      seed: deriveSeed(options.seed, "think", phase++),
      onText: options.onEvent ? (text) => options.onEvent?.({ type: "thinking", text }) : undefined,
      signal: options.signal,
    });
    trace.add({ source: "generated", text: step.text, tokens: step.tokens, role: "thinking" });
    state.thinkingTokens += step.tokens;
    usage.thinkingTokens += step.tokens;
    if (step.stop === "length" || step.stop === "context") {
      // The cap (or the end of the context): force the end of thinking.
      forcedEnd = true;
      endReason = step.stop === "context" ? "context" : "cap";
      await endThinking("length");
      break;
    }
    const decision = onThinkingEnd(scaling, state);
    if (decision.action === "end") {
      endReason = state.waitsUsed > 0 ? "waits-used" : "model";
      await endThinking(step.stop);
      break;
    }
    if (wanted.has(state.waitsUsed) && onThinkingEnd({ ...scaling, waits: state.waitsUsed }, state).action === "end") {
      readouts.set(state.waitsUsed, await readOut(step.stop));
    }
    await append(decision.text, "wait");
    state.waitsUsed++;
  }
  const final = await finishRun();
  for (const k of options.readAtWaits ?? []) if (!readouts.has(k)) readouts.set(k, final);
  return { final, readouts, evaluatedTokens: session.usage().evaluatedTokens };
}
