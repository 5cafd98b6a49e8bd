import type { PolicyDecision, ScalingPolicy, StopReason, ThinkingMoment, VerdictProbe } from "../core/scaling/policy.js";
import { tokensLeft } from "../core/scaling/policy.js";
import { deriveSeed } from "../core/seed.js";
import { answerRegion, TraceBuilder, type TraceSpan } from "../core/trace.js";
import type { JudgeTemplate } from "../core/template.js";
import { emptyUsage, type Usage } from "../core/usage.js";
import { parseVerdict } from "../core/verdict.js";
import type { AnswerResult, EngineSession, SamplingOptions } from "../engines/engine.js";

/** What one pass produced for one policy, before it is mapped to an order and a verdict label. */
export interface RawRun {
  rawVerdict: string | null;
  parseError?: string;
  /** P(rawVerdict) among the choices, where the engine reports probabilities. */
  confidence?: number;
  choiceProbabilities?: Record<string, number>;
  /** Why a verdict has no confidence (the engine's probabilityNote). */
  confidenceNote?: string;
  waitsUsed: number;
  forcedEnd: boolean;
  /** Why thinking ended: see `StopReason`. */
  thinkingEnd: ThinkingEndReason;
  /** The verdict read at each probe before thinking ended (the trajectory), oldest first. */
  probes: VerdictProbe[];
  trace: TraceSpan[];
  usage: Usage;
}

export type ThinkingEndReason = StopReason;

export type ThinkingEvent =
  | { type: "thinking"; text: string }
  | { type: "injected"; text: string; role: "wait" | "think-end" | "answer-prefix" }
  | { type: "answer"; text: string }
  /** The verdict was read as if thinking ended here, then rolled back (its text is not in the trace). */
  | { type: "probe"; probe: VerdictProbe };

export interface ThinkingRunOptions {
  template: JudgeTemplate;
  /**
   * The policies read in this one pass (at least one): the pass continues while any of them waits, and
   * each gets the run as it would have been alone. Their traces are prefixes of one another because they
   * share everything but when to stop: they must share the cap and the wait text.
   */
  policies: readonly ScalingPolicy[];
  choices: readonly string[];
  answerTokens: number;
  temperature: number;
  /** Truncation for the thinking (top-p, top-k, min-p); unset: none. The verdict is always read untruncated. */
  sampling?: SamplingOptions;
  seed: number;
  /** The rendered prompt, for the trace's prompt span. */
  promptText?: string;
  onEvent?: (event: ThinkingEvent) => void;
  signal?: AbortSignal;
}

export interface ThinkingRunResult {
  /** One per policy, in the order given. */
  runs: RawRun[];
  /** Every probe of the pass. */
  probes: VerdictProbe[];
  /** What the whole pass cost the engine, every probe included. */
  evaluatedTokens: number;
}

/** Where a policy's run ended: its run, the probe that was its answer (if any), and how many probes came before. */
interface Ending {
  run: RawRun;
  answerProbe?: number;
  probesBefore: number;
}

interface ProbeRecord {
  probe: VerdictProbe;
  /** The policies that asked for it (and so pay for it). */
  askedBy: Set<number>;
}

/**
 * One pass of test-time scaling over one session: think, and each time the model tries to stop, ask the
 * policies whether to inject the wait text, let thinking end, or first probe the verdict (end thinking,
 * answer, record, roll back); at the cap, force the end; then inject the answer prefix and generate the
 * verdict. The trace records every span with its provenance.
 *
 * Cost (invariant 2): a probe a policy asked for is counted in that policy's evaluated tokens and in
 * `usage.probeTokens`; a probe taken only to read another policy's point (a sweep) is left out, as a
 * separate run would not have paid it; a probe after which thinking ends for real is the answer itself,
 * kept without rollback, so nothing is evaluated twice.
 */
export async function runThinking(session: EngineSession, options: ThinkingRunOptions): Promise<ThinkingRunResult> {
  const { template, policies } = options;
  if (policies.length === 0) throw new Error("runThinking needs at least one policy");
  const cap = policies[0].maxThinkingTokens;
  for (const policy of policies) {
    if (policy.maxThinkingTokens !== cap || policy.waitText !== policies[0].waitText) {
      throw new Error(`policies read in one pass must share the cap and the wait text (${policies[0].name} and ${policy.name} differ)`);
    }
  }
  const trace = new TraceBuilder();
  const usage = emptyUsage();
  usage.promptTokens = session.promptTokens;
  trace.add({ source: "prompt", text: options.promptText ?? "", tokens: session.promptTokens });
  let waitsUsed = 0;
  let thinkingTokens = 0;
  let phase = 0;
  const records: ProbeRecord[] = [];
  const endings: Array<Ending | undefined> = policies.map(() => undefined);
  // While a probe runs, its events wait here: shown if it becomes the answer, dropped if rolled back.
  let heldEvents: ThinkingEvent[] | undefined;
  const emit = (event: ThinkingEvent) => {
    if (heldEvents) heldEvents.push(event);
    else options.onEvent?.(event);
  };

  const append = async (text: string, role: "wait" | "think-end" | "answer-prefix", source: "injected" | "generated" = "injected") => {
    // The wait text is the user's: tokenized by the judged-text rule, so "<|eot_id|>" there stays text.
    const tokens = await session.append(text, { signal: options.signal, trusted: role !== "wait" });
    trace.add({ source, text, tokens, role });
    if (source === "generated") usage.thinkingTokens += tokens;
    else usage.injectedTokens += tokens;
    emit(source === "injected" ? { type: "injected", text, role } : { type: "thinking", text });
  };

  const endThinking = async (stop: "delimiter" | "end" | "length") => {
    // A delimiter the model produced is generated text; an end we force (cap, or end of generation) is ours.
    if (stop === "delimiter") await append(template.thinkEnd, "think-end", "generated");
    else await append(template.thinkEnd, "think-end");
  };

  const buildRun = (answer: AnswerResult, reason: ThinkingEndReason, forcedEnd: boolean): RawRun => {
    // An engine that evaluates the prompt with its first call (a chat API) knows its size only now.
    usage.promptTokens = session.promptTokens;
    const spans = trace.snapshot();
    if (spans[0]?.source === "prompt") spans[0].tokens = session.promptTokens;
    const region = answerRegion(spans, template.thinkEnd);
    const parsed = region ? parseVerdict(region.text, options.choices, { open: template.answerPrefix, close: template.answerSuffix }) : ({ ok: false, reason: "thinking never ended" } as const);
    const rawVerdict = parsed.ok ? parsed.verdict : null;
    const engineUsage = session.usage();
    const confidence = rawVerdict !== null ? answer.choiceProbabilities?.[rawVerdict] : undefined;
    return {
      rawVerdict,
      parseError: parsed.ok ? undefined : parsed.reason,
      confidence,
      choiceProbabilities: answer.choiceProbabilities,
      // A verdict without a confidence says why (before, the engine's reason was dropped here).
      ...(rawVerdict !== null && confidence === undefined && answer.probabilityNote ? { confidenceNote: answer.probabilityNote } : {}),
      waitsUsed,
      forcedEnd,
      thinkingEnd: reason,
      probes: [],
      trace: spans,
      // evaluatedTokens is the engine's running total here; settled per policy once the pass is over.
      usage: { ...usage, evaluatedTokens: engineUsage.evaluatedTokens, cachedTokens: engineUsage.cachedTokens },
    };
  };

  const answer = async (reason: ThinkingEndReason, forcedEnd: boolean): Promise<RawRun> => {
    await append(template.answerPrefix, "answer-prefix");
    const result = await session.answer({
      choices: options.choices,
      suffix: template.answerSuffix,
      maxTokens: options.answerTokens,
      temperature: options.temperature,
      seed: deriveSeed(options.seed, "answer"),
      signal: options.signal,
    });
    trace.add({ source: "generated", text: result.text, tokens: result.tokens, role: "answer" });
    emit({ type: "answer", text: result.text });
    usage.answerTokens += result.tokens;
    return buildRun(result, reason, forcedEnd);
  };

  // Reads the verdict as if thinking ended here; `rollback` then puts session, trace and counts back.
  const probe = async (stop: "delimiter" | "end") => {
    const mark = session.mark();
    const traceLength = trace.length;
    const saved = { ...usage };
    const evaluatedBefore = session.usage().evaluatedTokens;
    heldEvents = [];
    await endThinking(stop);
    const run = await answer(waitsUsed > 0 ? "waits-used" : "model", false);
    const events = heldEvents;
    heldEvents = undefined;
    const result: VerdictProbe = {
      waits: waitsUsed,
      thinkingTokens,
      verdict: run.rawVerdict,
      probabilities: run.choiceProbabilities,
      confidence: run.confidence,
      evaluatedTokens: session.usage().evaluatedTokens - evaluatedBefore,
    };
    return {
      run,
      result,
      /** It became the answer: show what it wrote. */
      keep: () => {
        for (const event of events) options.onEvent?.(event);
      },
      rollback: async () => {
        await session.rollback(mark);
        trace.truncate(traceLength);
        Object.assign(usage, saved);
        options.onEvent?.({ type: "probe", probe: result });
      },
    };
  };

  const active = () => policies.map((_, index) => index).filter((index) => endings[index] === undefined);
  const endAs = (run: RawRun, reason: ThinkingEndReason): RawRun => ({ ...run, thinkingEnd: reason });

  for (;;) {
    const step = await session.generate({
      stopAt: template.thinkEnd,
      maxTokens: tokensLeft({ maxThinkingTokens: cap }, thinkingTokens),
      temperature: options.temperature,
      sampling: options.sampling,
      seed: deriveSeed(options.seed, "think", phase++),
      onText: options.onEvent ? (text) => emit({ type: "thinking", text }) : undefined,
      signal: options.signal,
    });
    trace.add({ source: "generated", text: step.text, tokens: step.tokens, role: "thinking" });
    thinkingTokens += step.tokens;
    usage.thinkingTokens += step.tokens;
    if (step.stop === "length" || step.stop === "context") {
      // The cap (or the end of the context): force the end of thinking, for every policy still going.
      await endThinking("length");
      const run = await answer(step.stop === "context" ? "context" : "cap", true);
      for (const index of active()) endings[index] = { run, probesBefore: records.length };
      break;
    }
    // An attempted end: ask every policy still going, probing first if one of them wants it.
    let taken: Awaited<ReturnType<typeof probe>> | undefined;
    const asked = new Set<number>();
    const moment = (): ThinkingMoment => ({ waitsUsed, thinkingTokens, probes: records.map((record) => record.probe), probedHere: taken !== undefined });
    let decisions: Array<{ index: number; decision: PolicyDecision }>;
    for (;;) {
      const now = moment();
      decisions = active().map((index) => ({ index, decision: policies[index].decide(now) }));
      const wanting = decisions.filter(({ decision }) => decision.action === "probe");
      if (wanting.length === 0) break;
      if (taken) throw new Error(`policy ${policies[wanting[0].index].name} asked for a second probe at one attempted end`);
      for (const { index } of wanting) asked.add(index);
      taken = await probe(step.stop);
      records.push({ probe: taken.result, askedBy: asked });
    }
    const enders = decisions.filter(({ decision }) => decision.action === "end");
    const waiters = decisions.filter(({ decision }) => decision.action === "wait");
    if (waiters.length === 0) {
      // Thinking ends for real: a probe taken here is the answer; otherwise answer now.
      let run: RawRun;
      let answerProbe: number | undefined;
      if (taken) {
        taken.keep();
        run = taken.run;
        answerProbe = records.length - 1;
      } else {
        await endThinking(step.stop);
        run = await answer("model", false);
      }
      for (const { index, decision } of enders) endings[index] = { run: endAs(run, (decision as { reason: StopReason }).reason), answerProbe, probesBefore: records.length };
      break;
    }
    if (enders.length > 0) {
      // Some policies stop here while others go on: read their answer, then continue for the rest.
      if (!taken) {
        taken = await probe(step.stop);
        records.push({ probe: taken.result, askedBy: new Set() });
      }
      for (const { index, decision } of enders) endings[index] = { run: endAs(taken.run, (decision as { reason: StopReason }).reason), answerProbe: records.length - 1, probesBefore: records.length };
    }
    if (taken) await taken.rollback();
    const texts = new Set(waiters.map(({ decision }) => (decision as { text: string }).text));
    if (texts.size > 1) throw new Error(`policies read in one pass asked for different wait texts: ${[...texts].join(", ")}`);
    await append([...texts][0], "wait");
    waitsUsed++;
  }

  const runs = endings.map((ending, index) => settle(ending as Ending, index, records));
  return { runs, probes: records.map((record) => record.probe), evaluatedTokens: session.usage().evaluatedTokens };
}

/**
 * A policy's run with its own cost: the engine's total at its end, less every probe before it that it
 * did not ask for (it would not have paid them alone), its own probes counted as probe tokens, and its
 * trajectory (the probes before its end, its answer probe included).
 */
function settle(ending: Ending, index: number, records: readonly ProbeRecord[]): RawRun {
  let notMine = 0;
  let mine = 0;
  for (let j = 0; j < ending.probesBefore; j++) {
    if (j === ending.answerProbe) continue;
    if (records[j].askedBy.has(index)) mine += records[j].probe.evaluatedTokens;
    else notMine += records[j].probe.evaluatedTokens;
  }
  const probes = records.slice(0, ending.probesBefore).map((record) => record.probe);
  return { ...ending.run, probes, usage: { ...ending.run.usage, evaluatedTokens: ending.run.usage.evaluatedTokens - notMine, probeTokens: mine } };
}
