import { badInput } from "../core/errors.js";
import type { Judgment, JudgmentRun } from "../core/judgment.js";
import { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, choiceLetters, type JudgeTemplate } from "../core/template.js";
import { thinkingEnd, traceText, type TraceSpan } from "../core/trace.js";
import type { Usage } from "../core/usage.js";
import { createEngine, type EngineConfig } from "../engines/create-engine.js";
import type { Engine } from "../engines/engine.js";
import { TINY_MODEL_NOTE } from "../engines/tiny/tiny-model.js";
import { Judge, type JudgeCallOptions } from "../judge/judge.js";
import { readTemplateFile } from "../judge/template-file.js";
import { DEFAULT_THRESHOLD, engineConfigOf, scalingOf, type IntegrationOptions } from "./judge-options.js";

/**
 * The j1 judge as an eval tool sees it: options in, a pass, a 0–1 score and a reason (the thinking) out.
 * An eval tool calls a grader once per output, often from several places in one process, so the engine
 * is loaded once per distinct engine config and kept for the life of the process (loading a model is the
 * slow part; the tiny model takes seconds, a real one much more), and each judge once per options.
 */
const engines = new Map<string, Promise<Engine>>();
const judges = new Map<string, Promise<Judge>>();

function engineFor(config: EngineConfig): Promise<Engine> {
  const key = JSON.stringify(config);
  let engine = engines.get(key);
  if (engine === undefined) {
    if (config.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
    engine = createEngine(config);
    // A failed load is not cached: the next call tries again (and reports its own error).
    engine.catch(() => engines.delete(key));
    engines.set(key, engine);
  }
  return engine;
}

type TemplateKind = JudgeTemplate["kind"];
const DEFAULTS: Record<TemplateKind, JudgeTemplate> = { pairwise: DEFAULT_PAIRWISE_TEMPLATE, pointwise: DEFAULT_POINTWISE_TEMPLATE, choice: DEFAULT_CHOICE_TEMPLATE };

/** The judge for a kind of judgment under these options; `purpose` says in errors what needed it. */
export function judgeFor(options: IntegrationOptions, kind: TemplateKind, purpose: string): Promise<Judge> {
  const config = engineConfigOf(options);
  const scaling = scalingOf(options);
  const key = JSON.stringify({ config, kind, scaling, chatFormat: options.chatFormat, chatTemplate: options.chatTemplate, reasoning: options.reasoningFormat, template: options.template });
  let judge = judges.get(key);
  if (judge === undefined) {
    judge = (async () => {
      const template = options.template === undefined ? DEFAULTS[kind] : await readTemplateFile(options.template);
      if (template.kind !== kind) throw badInput(`template "${template.name}" is ${template.kind}; ${purpose} needs a ${kind} template`, { field: "template" });
      const engine = await engineFor(config);
      return Judge.create({ engine, template, chatFormat: options.chatFormat ?? "auto", chatTemplateFile: options.chatTemplate, reasoning: options.reasoningFormat, scaling });
    })();
    judge.catch(() => judges.delete(key));
    judges.set(key, judge);
  }
  return judge;
}

/** Frees every engine this process loaded (a tool's cleanup hook, or the end of a test). */
export async function disposeIntegrationEngines(): Promise<void> {
  const loaded = [...engines.values()];
  engines.clear();
  judges.clear();
  for (const engine of await Promise.allSettled(loaded)) if (engine.status === "fulfilled") await engine.value.dispose();
}

/**
 * The call options. The item key is the judged text itself: an eval tool has no stable item ids, and the
 * same inputs must give the same judgment (same seeds) while two different items never share a stream.
 */
function callOptions(options: IntegrationOptions, item: unknown, signal: AbortSignal | undefined): JudgeCallOptions {
  const samples = options.samples ?? 1;
  return {
    samples,
    swap: options.swap ?? false,
    allowTie: options.tie ?? false,
    temperature: options.temperature ?? (samples > 1 ? 0.7 : 0),
    seed: options.seed ?? 0,
    itemKey: JSON.stringify(item),
    signal,
  };
}

/** What a tool may add to a call: its abort signal (promptfoo's, when the user stops the eval). */
export interface GradeCall {
  signal?: AbortSignal;
  /** Said after j1's own pass mark when the tool applies a threshold of its own after j1 (promptfoo's llm-rubric). */
  thresholdNote?: string;
}

/** What a grader reports: the tool's pass and 0–1 score, a reason that carries the thinking, and the judgment. */
export interface J1Grade {
  pass: boolean;
  /** 0–1. */
  score: number;
  reason: string;
  /** The model's thinking (all runs, labelled when there are several), as j1 recorded it. */
  thinking: string;
  judgment: Judgment;
}

/** The summary a tool shows next to its score (its metadata). */
export interface J1Summary {
  kind: Judgment["kind"];
  verdict: Judgment["verdict"];
  rawScore: number | null;
  status: Judgment["status"];
  error?: string;
  confidence?: number;
  waitsUsed: number;
  thinking: string;
  usage: Usage;
}

export function summaryOf(grade: Pick<J1Grade, "judgment" | "thinking">): J1Summary {
  const { judgment } = grade;
  return {
    kind: judgment.kind,
    verdict: judgment.verdict,
    rawScore: judgment.score,
    status: judgment.status,
    error: judgment.error,
    confidence: judgment.confidence,
    waitsUsed: judgment.waitsUsed,
    thinking: grade.thinking,
    usage: judgment.usage,
  };
}

/** The thinking of one run: what the model generated (and j1 injected) before its thinking ended. */
function runThinkingText(trace: readonly TraceSpan[], thinkEnd: string): string {
  const start = trace.findIndex((span) => span.source !== "prompt");
  if (start < 0) return "";
  const end = thinkingEnd(trace, thinkEnd);
  const spans = trace.slice(start, end?.index ?? trace.length);
  const cut = end?.offset === undefined ? "" : trace[end.index].text.slice(0, end.offset);
  return (traceText(spans, ["generated", "injected"]) + cut).trim();
}

export function thinkingOf(judgment: Judgment, thinkEnd: string): string {
  const runs: readonly Pick<JudgmentRun, "order" | "sample" | "trace">[] = judgment.runs.length > 0 ? judgment.runs : [{ order: "AB", sample: 0, trace: judgment.trace }];
  if (runs.length === 1) return runThinkingText(runs[0].trace, thinkEnd);
  return runs.map((run) => `[order ${run.order}, sample ${run.sample + 1}] ${runThinkingText(run.trace, thinkEnd)}`).join("\n");
}

function costLine(judgment: Judgment): string {
  return `${judgment.waitsUsed} wait(s), ${judgment.usage.thinkingTokens} thinking tokens, ${judgment.usage.evaluatedTokens} evaluated`;
}

function failureText(judgment: Judgment): string {
  return `no verdict (${judgment.status}${judgment.error ? `: ${judgment.error}` : ""})`;
}

/**
 * Rating mode: j1's pointwise score on the template's scale (default 1–10), normalised to 0–1; a pass at
 * or above the threshold. No score (unreadable, engine error) is a fail with score 0 and says why.
 */
export async function rateResponse(options: IntegrationOptions, input: { question: string; response: string; context?: string }, call: GradeCall = {}): Promise<J1Grade> {
  const judge = await judgeFor(options, "pointwise", "rating");
  const { swap: _swap, allowTie: _tie, ...pointCall } = callOptions(options, input, call.signal);
  const judgment = await judge.judgePoint(input, pointCall);
  const thinking = thinkingOf(judgment, judge.template.thinkEnd);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const scale = judge.template.scale ?? { min: 1, max: 10 };
  if (judgment.score === null) return { pass: false, score: 0, reason: `j1 rating: ${failureText(judgment)}. Thinking: ${thinking}`, thinking, judgment };
  const score = (judgment.score - scale.min) / (scale.max - scale.min);
  const pass = score >= threshold;
  const mark = call.thresholdNote ? `${pass ? "pass" : "fail"} at j1's threshold ≥ ${threshold}; ${call.thresholdNote}` : `${pass ? "pass" : "fail"} at ≥ ${threshold}`;
  const reason = `j1 rating ${judgment.score} on ${scale.min}–${scale.max} = ${score.toFixed(3)} (${mark}); ${costLine(judgment)}. Thinking: ${thinking}`;
  return { pass, score, reason, thinking, judgment };
}

/**
 * Pairwise mode: the response (as A) against a reference (as B). Score 1 when the response wins, 0.5 on
 * a tie (with `tie`), 0 when the reference wins or there is no verdict (with `swap`, an order-dependent
 * verdict is no verdict). A pass at or above the threshold.
 */
export async function compareWithReference(options: IntegrationOptions, input: { question: string; response: string; reference: string; context?: string }, call: GradeCall = {}): Promise<J1Grade> {
  const judge = await judgeFor(options, "pairwise", "pairwise grading");
  const judgment = await judge.judgePair({ question: input.question, a: input.response, b: input.reference, context: input.context }, callOptions(options, input, call.signal));
  const thinking = thinkingOf(judgment, judge.template.thinkEnd);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const score = judgment.verdict === "A" ? 1 : judgment.verdict === "tie" ? 0.5 : 0;
  const pass = judgment.verdict !== null && score >= threshold;
  const said = judgment.verdict === null ? failureText(judgment) : judgment.verdict === "A" ? "the response is better than the reference" : judgment.verdict === "B" ? "the reference is better than the response" : "a tie with the reference";
  const confidence = judgment.confidence === undefined ? "" : ` (confidence ${judgment.confidence.toFixed(3)})`;
  const reason = `j1 pairwise: ${said}${confidence}; ${pass ? "pass" : "fail"} at ≥ ${threshold}; ${costLine(judgment)}. Thinking: ${thinking}`;
  return { pass, score, reason, thinking, judgment };
}

/** A select-best decision: the index of the best response, or null with the reason there is none. */
export interface J1Selection {
  index: number | null;
  reason: string;
  thinking: string;
  judgments: Judgment[];
}

/**
 * The best of N responses: two are a pair (`swap` judges both orders, a winner only when they agree);
 * more are a choice among N, lettered in the order given (with `swap`, judged again in reverse order, a
 * winner only when both name the same response).
 */
export async function selectBest(options: IntegrationOptions, input: { question: string; responses: string[]; context?: string }, grade: GradeCall = {}): Promise<J1Selection> {
  const count = input.responses.length;
  if (count < 2 || count > 26) throw badInput(`select-best needs 2 to 26 outputs, got ${count}`, { field: "outputs" });
  const call = callOptions(options, input, grade.signal);
  if (count === 2) {
    const judge = await judgeFor(options, "pairwise", "select-best between two outputs");
    const judgment = await judge.judgePair({ question: input.question, a: input.responses[0], b: input.responses[1], context: input.context }, call);
    const thinking = thinkingOf(judgment, judge.template.thinkEnd);
    const index = judgment.verdict === "A" ? 0 : judgment.verdict === "B" ? 1 : null;
    const said = index === null ? (judgment.verdict === "tie" ? "a tie, no best output" : failureText(judgment)) : `output ${index} is the best`;
    return { index, reason: `j1 select-best: ${said}; ${costLine(judgment)}. Thinking: ${thinking}`, thinking, judgments: [judgment] };
  }
  const judge = await judgeFor(options, "choice", `select-best among ${count} outputs`);
  const letters = choiceLetters(count);
  const { swap: _swap, allowTie: _tie, ...choiceCall } = call;
  const forward = await judge.judgeChoice({ question: input.question, responses: input.responses, context: input.context }, choiceCall);
  const picked = (judgment: Judgment, reversed: boolean): number | null => {
    if (judgment.verdict === null) return null;
    const position = letters.indexOf(judgment.verdict);
    return position < 0 ? null : reversed ? count - 1 - position : position;
  };
  const judgments = [forward];
  let index = picked(forward, false);
  let said = index === null ? failureText(forward) : `output ${index} is the best`;
  if (call.swap) {
    const backward = await judge.judgeChoice({ question: input.question, responses: [...input.responses].reverse(), context: input.context }, { ...choiceCall, itemKey: "reversed" });
    judgments.push(backward);
    const other = picked(backward, true);
    if (index !== other) {
      said = `orders disagree: in the given order ${index === null ? failureText(forward) : `output ${index}`}, in reverse ${other === null ? failureText(backward) : `output ${other}`}`;
      index = null;
    }
  }
  const thinking = judgments.map((judgment, position) => (judgments.length > 1 ? `[${position === 0 ? "given order" : "reverse order"}] ` : "") + thinkingOf(judgment, judge.template.thinkEnd)).join("\n");
  return { index, reason: `j1 select-best: ${said}; ${judgments.map(costLine).join("; ")}. Thinking: ${thinking}`, thinking, judgments };
}
