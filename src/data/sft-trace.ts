import { segmentsText } from "../core/chat-format.js";
import type { PromptFormat } from "../judge/prompt-format.js";
import type { JudgmentRun, Order, Verdict } from "../core/judgment.js";
import { renderPairwise, type JudgeTemplate } from "../core/template.js";
import { thinkingEnd, type TraceSpan } from "../core/trace.js";
import { findReflection, type ReflectionFinding, type ReflectionRule } from "./reflection.js";
import type { PreferencePair } from "./rl-pairs.js";

/**
 * One candidate trace: one run (order x sample) of the teacher on one pair, with what rejection sampling
 * needs to decide about it. Only a run whose verdict matches the label carries a training example.
 */
export interface SftCandidate {
  /** `${pairId}:${order}:${sample}`. */
  id: string;
  pairId: string;
  /** The pair's position in the input: candidates are exported in input order, whatever finished first. */
  pairIndex: number;
  order: Order;
  sample: number;
  seed: number;
  category?: string;
  /** The pair's label, in the pair's own A/B terms. */
  label: "A" | "B";
  /** The run's verdict in the pair's A/B terms (a BA run's raw "A" is the pair's "B"); null: none read. */
  verdict: Verdict | null;
  status: JudgmentRun["status"];
  error?: string;
  forcedEnd: boolean;
  waitsUsed: number;
  /**
   * Its reflection turned a wrong verdict right: the verdict read at the first probe (before any wait)
   * was not the label, and the final one is. Undefined when the run has no probes (--trajectory off).
   */
  turnedRight?: boolean;
  /** Present when the verdict matches the label and the trace can be turned into training text. */
  example?: SftExample;
  /** Why a label-matching trace could not become an example (no end of thinking found, ...). */
  unusable?: string;
}

/**
 * A training example: the prompt as the model saw it and the completion it should learn to write.
 *
 * How the trace becomes training text:
 * - injected wait text is KEPT in the thinking as if the model had written it: that is how budget-forced
 *   reflection turns into learned behaviour (the student learns to say "Wait" and look again by itself);
 * - the end of thinking is written as the template's delimiter whether the model wrote it or j1 forced it
 *   at the cap; forced ends are flagged (`forcedEnd`) and dropped by the filters unless asked to keep them;
 * - the answer is rebuilt as answerPrefix + verdict + answerSuffix: the injected "[[" and the generated
 *   "A]]" become "[[A]]", with nothing the model may have added after the verdict;
 * - the prompt's thinking prefill ("<think>\n") moves from the prompt to the completion, so the student
 *   learns to open its thinking itself, and the chat-message exports (where the trainer's chat template
 *   ends the prompt at the assistant header) read the same as the text export.
 */
export interface SftExample {
  id: string;
  pairId: string;
  order: Order;
  sample: number;
  category?: string;
  system: string;
  user: string;
  /** The rendered prompt text up to and including the assistant header (without the thinking prefill). */
  promptText: string;
  /** The thinking as the student should learn it: generated text and injected waits, in order. */
  thinking: string;
  /** The verdict as written in the order the model saw ("A": the response shown first). */
  verdict: "A" | "B";
  answer: string;
  completion: string;
  reflection: ReflectionFinding;
  forcedEnd: boolean;
  waitsUsed: number;
  /** Thinking tokens as the engine counted them while generating (generated and injected wait spans). */
  thinkingTokens: number;
  /** Completion length in `lengthUnit` (tokens when the engine counts them, else characters). */
  completionLength: number;
}

export type LengthUnit = "tokens" | "chars";

export interface ThinkingSplit {
  /** Spans between the prompt and the end of thinking; a span cut at a delimiter holds only the part before. */
  thinking: TraceSpan[];
  endedBy: "generated" | "injected";
}

/**
 * The thinking part of a trace: from after the prompt up to the last end of thinking. A generated span
 * that carries the delimiter inside its text (an engine that could not stop on it) is cut there.
 */
export function splitThinking(trace: readonly TraceSpan[], thinkEnd: string): ThinkingSplit | undefined {
  const end = thinkingEnd(trace, thinkEnd);
  if (end === undefined) return undefined;
  const before = trace.slice(0, end.index).filter((span) => span.source !== "prompt");
  if (end.offset === undefined) return { thinking: before, endedBy: trace[end.index].source === "injected" ? "injected" : "generated" };
  const cut = trace[end.index];
  return { thinking: [...before, { ...cut, text: cut.text.slice(0, end.offset) }], endedBy: "generated" };
}

export interface CandidateContext {
  pair: PreferencePair;
  pairIndex: number;
  template: JudgeTemplate;
  /** The judge's resolved prompt format (the same rendering the judge used). */
  format: PromptFormat;
  reflection: ReflectionRule;
  /** Measures a completion: the engine's token count where it has one, else characters. */
  measure: (text: string) => Promise<number>;
}

/** The system and user messages and the rendered text of the prompt the model saw in `order`. */
export function renderSftPrompt(pair: PreferencePair, order: Order, template: JudgeTemplate, format: PromptFormat) {
  const shown = order === "AB" ? pair : { ...pair, a: pair.b, b: pair.a };
  const chat = renderPairwise(template, shown);
  const rendered = segmentsText(format.render(chat));
  return {
    system: segmentsText(chat.system),
    user: segmentsText(chat.user),
    /** Exactly what the model saw. */
    rendered,
    // The same rendering the judge used, minus the thinking prefill (which opens the completion instead).
    promptText: rendered.endsWith(template.thinkStart) ? rendered.slice(0, rendered.length - template.thinkStart.length) : rendered,
  };
}

/** Turns one run of the teacher into a candidate, with its example when the verdict matches the label. */
export async function toCandidate(run: JudgmentRun, context: CandidateContext): Promise<SftCandidate> {
  const { pair, template } = context;
  const candidate: SftCandidate = {
    id: `${pair.id}:${run.order}:${run.sample}`,
    pairId: pair.id,
    pairIndex: context.pairIndex,
    order: run.order,
    sample: run.sample,
    seed: run.seed,
    category: pair.category,
    label: pair.label,
    verdict: run.verdict,
    status: run.status,
    error: run.error,
    forcedEnd: run.forcedEnd,
    waitsUsed: run.waitsUsed,
  };
  const first = run.probes?.[0];
  if (first !== undefined) {
    // Probe verdicts are as the model saw the pair; a BA run's raw "A" is the pair's "B".
    const firstVerdict = first.verdict === null || run.order === "AB" ? first.verdict : first.verdict === "A" ? "B" : first.verdict === "B" ? "A" : first.verdict;
    candidate.turnedRight = firstVerdict !== pair.label && run.verdict === pair.label;
  }
  if (run.verdict !== pair.label) return candidate;
  const raw = run.rawVerdict;
  const split = splitThinking(run.trace, template.thinkEnd);
  if (split === undefined || (raw !== "A" && raw !== "B")) {
    candidate.unusable = split === undefined ? "no end of thinking in the trace" : `verdict "${raw}" is not A or B`;
    return candidate;
  }
  const prompt = renderSftPrompt(pair, run.order, template, context.format);
  // The example must teach on the prompt the model really saw: the trace's prompt span is that text.
  const seen = run.trace.find((span) => span.source === "prompt");
  if (seen !== undefined && seen.text !== prompt.rendered) {
    candidate.unusable = "the trace's prompt differs from the rendered prompt (template or chat format changed?)";
    return candidate;
  }
  const thinking = split.thinking.map((span) => span.text).join("");
  const answer = `${template.answerPrefix}${raw}${template.answerSuffix}`;
  const completion = `${template.thinkStart}${thinking}${template.thinkEnd}${answer}`;
  candidate.example = {
    id: candidate.id,
    pairId: pair.id,
    order: run.order,
    sample: run.sample,
    category: pair.category,
    ...prompt,
    thinking,
    verdict: raw,
    answer,
    completion,
    reflection: findReflection(split.thinking, context.reflection),
    // Only the cap forces an end: j1 also writes the delimiter when the model ended its generation without
    // one (end of sequence), and that end was the model's own decision.
    forcedEnd: run.forcedEnd,
    waitsUsed: run.waitsUsed,
    thinkingTokens: split.thinking.reduce((sum, span) => sum + span.tokens, 0),
    completionLength: await context.measure(completion),
  };
  return candidate;
}
