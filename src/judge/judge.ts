import { promptDisplayText } from "../core/chat-messages.js";
import { DEFAULT_SCALING, policyOf, validateScaling, type ScalingOptions } from "../core/budget.js";
import type { ScalingPolicy } from "../core/scaling/policy.js";
import { voteSettled, type SampleStop } from "../core/scaling/sample-stop.js";
import { stopRuleKind } from "../core/scaling/stop-rule.js";
import { type ChatFormatName } from "../core/chat-format.js";
import { J1Error, errorMessage } from "../core/errors.js";
import { flipVerdict, type Judgment, type JudgmentRun, type Order, type PairVerdict, type Verdict } from "../core/judgment.js";
import { deriveSeed } from "../core/seed.js";
import {
  DEFAULT_CHOICE_TEMPLATE,
  DEFAULT_PAIRWISE_TEMPLATE,
  DEFAULT_POINTWISE_TEMPLATE,
  defaultTemplate,
  renderChoice,
  renderPairwise,
  renderPointwise,
  verdictChoices,
  type ChoiceInput,
  type JudgeTemplate,
  type PairInput,
  type PointInput,
  type PromptSegment,
} from "../core/template.js";
import { addUsage, emptyUsage } from "../core/usage.js";
import { combineOrders, majorityVote, meanScore, type VoteOutcome } from "../core/vote.js";
import type { Engine, SamplingOptions } from "../engines/engine.js";
import { applyReasoning, namedPromptFormat, resolvePromptFormat, type ChatFormatChoice, type PromptFormat, type ResolveFormatOptions } from "./prompt-format.js";
import { runThinking, type RawRun, type ThinkingEvent } from "./thinking-run.js";

export interface JudgeOptions {
  engine: Engine;
  template?: JudgeTemplate;
  /** A named format (sync); for the model's own template use `Judge.create` or pass `promptFormat`. */
  chatFormat?: ChatFormatName;
  /** A resolved format (`resolvePromptFormat`); wins over `chatFormat`. */
  promptFormat?: PromptFormat;
  scaling?: Partial<ScalingOptions>;
}

export interface JudgeCallOptions {
  /** K samples per order, majority vote. */
  samples?: number;
  /** Judge both orders; a verdict only when they agree. */
  swap?: boolean;
  /** Allow "tie" as a pairwise verdict. */
  allowTie?: boolean;
  /** 0 = greedy. */
  temperature?: number;
  /** Truncation of the thinking's distribution (top-p, top-k, min-p); unset: none. */
  sampling?: SamplingOptions;
  /** Base seed; each (item, order, sample) gets its own seed derived from it. */
  seed?: number;
  /** Identifies the item in seed derivation, so two items never share a random stream. */
  itemKey?: string;
  /** One-pass sweep: also read the verdict at these wait counts (see `judgePairSweep`); results in `points`. */
  readAtWaits?: readonly number[];
  /**
   * One-pass sweep over named points, each its own scaling (e.g. an adaptive rule at several thresholds);
   * they must share the judge's cap and wait text. Results in `named`.
   */
  readAt?: readonly SweepPoint[];
  /** With samples > 1: stop drawing samples of an order once its vote is settled (core/scaling/sample-stop.ts). */
  earlyStop?: SampleStop;
  signal?: AbortSignal;
  /** Streaming view of the thinking, per run. */
  onEvent?: (event: ThinkingEvent & { order: Order; sample: number }) => void;
}

/** Options for a choice among N: no swap (the caller places the responses) and no tie. */
export type ChoiceCallOptions = Omit<JudgeCallOptions, "swap" | "allowTie">;

/** A point of a one-pass sweep: its name (a store point, "confidence=0.9") and what it changes in the judge's scaling. */
export interface SweepPoint {
  name: string;
  scaling: Partial<ScalingOptions>;
}

/** A judgment per sweep point, from one pass per run (see docs/architecture.md, "One-pass sweep"). */
export interface SweepJudgments {
  /** The judge's own scaling. */
  own: Judgment;
  /** By wait count: the judge's own (when it is fixed waits) and each of `readAtWaits`. */
  points: Map<number, Judgment>;
  /** By name: each of `readAt`. */
  named: Map<string, Judgment>;
  /** What the whole sweep cost the engine. */
  evaluatedTokens: number;
}

/**
 * A Judge is a template, an engine and a scaling policy. It renders the prompt (both orders when asked),
 * runs K budget-forced passes per order on the engine, and folds them into one Judgment by the vote and
 * consistency rules of core/vote.ts.
 */
export class Judge {
  readonly engine: Engine;
  readonly template: JudgeTemplate;
  readonly format: PromptFormat;
  readonly scaling: ScalingOptions;
  /** The engine's start-up check of this judge's end of thinking (the detected format's), run once. */
  private thinkEndChecked: Promise<void> | undefined;

  /** A judge on the engine's own chat template (`chatFormat` "auto", the default) or a named format. */
  static async create(options: Omit<JudgeOptions, "chatFormat" | "promptFormat"> & { chatFormat?: ChatFormatChoice } & ResolveFormatOptions): Promise<Judge> {
    const promptFormat = await resolvePromptFormat(options.chatFormat ?? "auto", options.engine, options);
    return new Judge({ ...options, chatFormat: undefined, promptFormat });
  }

  constructor(options: JudgeOptions) {
    this.engine = options.engine;
    this.format = options.promptFormat ?? namedPromptFormat(options.chatFormat ?? "chatml");
    const template = options.template ?? DEFAULT_PAIRWISE_TEMPLATE;
    this.template = applyReasoning(template, this.format.reasoning, defaultTemplate(template.kind));
    this.scaling = { ...DEFAULT_SCALING, ...options.scaling };
    const problems = validateScaling(this.scaling);
    if (problems.length > 0) throw new J1Error("bad-input", `invalid scaling options: ${problems.join("; ")}`);
    requireThinkingControl(this.engine, this.scaling);
  }

  /** The prompt the model sees for a pair in an order. */
  renderPair(input: PairInput, order: Order = "AB"): PromptSegment[] {
    const shown = order === "AB" ? input : { ...input, a: input.b, b: input.a };
    return this.format.render(renderPairwise(this.template, shown));
  }

  renderPoint(input: PointInput): PromptSegment[] {
    return this.format.render(renderPointwise(this.template, input));
  }

  /** The prompt the model sees for a choice among N, the responses lettered in the order given. */
  renderChoice(input: ChoiceInput): PromptSegment[] {
    return this.format.render(renderChoice(this.template, input));
  }

  async judgePair(input: PairInput, options: JudgeCallOptions = {}): Promise<Judgment> {
    return (await this.judgePairSweep(input, options)).own;
  }

  /**
   * Pairwise judgment at several wait counts in one pass per run: the trace with k waits is a prefix of
   * the trace with k+1, so each point is read on the way and the curve costs about its largest point.
   * Points above the judge's `waits` are not reachable; the judge's own `waits` is always included.
   */
  async judgePairSweep(input: PairInput, options: JudgeCallOptions = {}): Promise<SweepJudgments> {
    this.expectKind("pairwise");
    const orders: Order[] = options.swap ? ["AB", "BA"] : ["AB"];
    const choices = verdictChoices(this.template, options.allowTie ?? false);
    const prompts = new Map(orders.map((order) => [order, this.renderPair(input, order)]));
    return this.runAll(orders, choices, (order) => prompts.get(order) as PromptSegment[], options, (runs) => foldVerdicts(runs, orders, "pairwise"));
  }

  async judgePoint(input: PointInput, options: Omit<JudgeCallOptions, "swap" | "allowTie"> = {}): Promise<Judgment> {
    this.expectKind("pointwise");
    const prompt = this.renderPoint(input);
    const choices = verdictChoices(this.template, false);
    return (await this.runAll(["AB"], choices, () => prompt, options, foldPointwise)).own;
  }

  /**
   * The best of N responses (2 to 26), lettered A, B, C, ... in the order given: the caller places them
   * (there is no swap), and the verdict is the letter as the model saw it. K samples vote by plurality;
   * confidence is the mean P(final letter), normalised over the N letters.
   */
  async judgeChoice(input: ChoiceInput, options: ChoiceCallOptions = {}): Promise<Judgment> {
    return (await this.judgeChoiceSweep(input, options)).own;
  }

  /** A choice at several wait counts in one pass per run, as `judgePairSweep`. */
  async judgeChoiceSweep(input: ChoiceInput, options: ChoiceCallOptions = {}): Promise<SweepJudgments> {
    this.expectKind("choice");
    const prompt = this.renderChoice(input);
    const choices = verdictChoices(this.template, false, input.responses.length);
    return this.runAll(["AB"], choices, () => prompt, { ...options, swap: false, allowTie: false }, (runs) => foldVerdicts(runs, ["AB"], "choice"));
  }

  private expectKind(kind: JudgeTemplate["kind"]): void {
    if (this.template.kind === kind) return;
    const method = this.template.kind === "pairwise" ? "judgePair" : this.template.kind === "pointwise" ? "judgePoint" : "judgeChoice";
    throw new J1Error("bad-template", `template "${this.template.name}" is ${this.template.kind}, not ${kind}: use ${method}`);
  }

  /**
   * The policies one pass reads: the judge's own first, then each `readAt` point, then each of
   * `readAtWaits` up to the judge's waits (the judge's own when it is the same fixed policy).
   */
  private passPolicies(options: JudgeCallOptions): { policies: ScalingPolicy[]; named: Map<string, number>; waits: Map<number, number> } {
    const own = policyOf(this.scaling, "own");
    const policies: ScalingPolicy[] = [own];
    const named = new Map<string, number>();
    const waits = new Map<number, number>();
    const fixedOwn = this.scaling.stopWhen === undefined && !this.scaling.probeEveryEnd;
    if (fixedOwn) waits.set(this.scaling.waits, 0);
    for (const point of options.readAt ?? []) {
      const scaling = { ...this.scaling, ...point.scaling };
      const problems = validateScaling(scaling);
      if (problems.length > 0) throw new J1Error("bad-input", `sweep point ${point.name}: ${problems.join("; ")}`);
      requireThinkingControl(this.engine, scaling);
      if (scaling.maxThinkingTokens !== this.scaling.maxThinkingTokens || scaling.waitText !== this.scaling.waitText) {
        throw new J1Error("bad-input", `sweep point ${point.name}: points read in one pass share the judge's cap and wait text (judge each cap separately)`);
      }
      named.set(point.name, policies.push(policyOf(scaling, point.name)) - 1);
    }
    for (const k of options.readAtWaits ?? []) {
      if (k > this.scaling.waits || waits.has(k)) continue;
      waits.set(k, policies.push(policyOf({ ...this.scaling, waits: k, stopWhen: undefined, probeEveryEnd: undefined }, `waits=${k}`)) - 1);
    }
    return { policies, named, waits };
  }

  private async runAll(
    orders: Order[],
    choices: string[],
    promptFor: (order: Order) => PromptSegment[],
    options: JudgeCallOptions,
    fold: (runs: JudgmentRun[]) => Omit<Judgment, "wallMs">,
  ): Promise<SweepJudgments> {
    // Before any judgment: a server that would hide this end of thinking (`[/THINK]` without --special) is
    // refused with the fix, never run with every thinking "ended" by j1's injected delimiter.
    this.thinkEndChecked ??= this.engine.checkThinkEnd?.(this.template.thinkEnd) ?? Promise.resolve();
    await this.thinkEndChecked;
    const samples = Math.max(1, options.samples ?? 1);
    const baseSeed = options.seed ?? 0;
    const pass = this.passPolicies(options);
    this.requireProbabilities([this.scaling, ...(options.readAt ?? []).map((point) => ({ ...this.scaling, ...point.scaling }))]);
    const started = performance.now();
    type Drawn = { order: Order; sample: number; seed: number; runs: JudgmentRun[]; evaluated: number };
    const draw = (order: Order, sample: number): Promise<Drawn> => {
      const seed = deriveSeed(baseSeed, options.itemKey ?? "", order, sample);
      return this.runOne(order, sample, seed, choices, promptFor(order), pass.policies, options);
    };
    const results: Drawn[] = [];
    const early = samples > 1 ? options.earlyStop : undefined;
    // Samples of one order share its prompt; where the engine shares a prompt only between sessions that
    // follow each other, they run one after another (orders, and other items, still run side by side).
    const sequential = this.engine.capabilities.promptSharing === "sequential";
    if (early === undefined && sequential) {
      const chains = orders.map(async (order) => {
        const mine: Drawn[] = [];
        for (let sample = 0; sample < samples; sample++) mine.push(await draw(order, sample));
        return mine;
      });
      for (const mine of await Promise.all(chains)) results.push(...mine);
    } else if (early === undefined) {
      const tasks: Array<Promise<Drawn>> = [];
      for (const order of orders) for (let sample = 0; sample < samples; sample++) tasks.push(draw(order, sample));
      results.push(...(await Promise.all(tasks)));
    } else {
      // Each order draws in waves of the engine's parallel sessions (one at a time where samples share the
      // prompt sequentially), and stops once every point's vote is settled: samples are drawn in seed
      // order, so the first k are those a full run would draw.
      const wave = sequential ? 1 : Math.max(1, this.engine.capabilities.parallelSessions);
      await Promise.all(
        orders.map(async (order) => {
          const mine: Drawn[] = [];
          while (mine.length < samples) {
            const size = Math.min(wave, samples - mine.length);
            mine.push(...(await Promise.all(Array.from({ length: size }, (_, offset) => draw(order, mine.length + offset)))));
            const settled = pass.policies.every((_, index) => voteSettled(mine.map((drawn) => drawn.runs[index].verdict ?? (drawn.runs[index].score !== null ? String(drawn.runs[index].score) : null)), samples, early));
            if (settled) break;
          }
          results.push(...mine);
        }),
      );
      results.sort((x, y) => orders.indexOf(x.order) - orders.indexOf(y.order) || x.sample - y.sample);
    }
    const wallMs = performance.now() - started;
    const judgmentAt = (index: number): Judgment => {
      const judgment: Judgment = { ...fold(results.map((result) => result.runs[index])), wallMs };
      if (early) judgment.samples = { planned: samples * orders.length, used: results.length, stop: early.rule };
      return judgment;
    };
    const own = judgmentAt(0);
    const points = new Map<number, Judgment>([...pass.waits].sort((x, y) => x[0] - y[0]).map(([k, index]) => [k, index === 0 ? own : judgmentAt(index)]));
    const named = new Map<string, Judgment>([...pass.named].map(([name, index]) => [name, judgmentAt(index)]));
    return { own, points, named, evaluatedTokens: results.reduce((sum, result) => sum + result.evaluated, 0) };
  }

  /** An adaptive rule that reads P(verdict) needs an engine that reports it (refused before any model call). */
  private requireProbabilities(scalings: ScalingOptions[]): void {
    for (const scaling of scalings) {
      if (scaling.stopWhen && stopRuleKind(scaling.stopWhen.rule).needsProbabilities && !this.engine.capabilities.probabilities) {
        throw new J1Error("unsupported", `stopping rule ${scaling.stopWhen.rule}:${scaling.stopWhen.value} reads P(verdict), which engine ${this.engine.describe().engine} does not report; use stable:M instead`);
      }
    }
  }

  private async runOne(order: Order, sample: number, seed: number, choices: string[], prompt: PromptSegment[], policies: ScalingPolicy[], options: JudgeCallOptions) {
    const started = performance.now();
    const temperature = options.temperature ?? 0;
    // Greedy thinking needs no truncation; sampled thinking gets the caller's, else the family's recommended.
    const sampling = temperature > 0 ? options.sampling ?? this.format.recommendedSampling : undefined;
    const toRun = (raw: RawRun): JudgmentRun => {
      const verdict = toVerdict(raw.rawVerdict, order, this.template.kind);
      const run: JudgmentRun = {
        order,
        sample,
        seed,
        verdict,
        rawVerdict: raw.rawVerdict,
        score: this.template.kind === "pointwise" && raw.rawVerdict !== null ? Number(raw.rawVerdict) : null,
        status: raw.rawVerdict === null ? "parse-error" : "ok",
        error: raw.parseError,
        confidence: raw.confidence,
        choiceProbabilities: raw.choiceProbabilities,
        ...(raw.confidenceNote === undefined ? {} : { confidenceNote: raw.confidenceNote }),
        waitsUsed: raw.waitsUsed,
        forcedEnd: raw.forcedEnd,
        thinkingEnd: raw.thinkingEnd,
        sampling,
        trace: raw.trace,
        usage: raw.usage,
        wallMs: performance.now() - started,
      };
      if (raw.probes.length > 0) run.probes = raw.probes;
      return run;
    };
    let session;
    try {
      // Every session of one item's judgment carries its key, so an engine with several servers keeps them on one.
      session = await this.engine.open(prompt, { signal: options.signal, affinityKey: options.itemKey });
      const result = await runThinking(session, {
        template: this.template,
        policies,
        choices,
        answerTokens: this.scaling.answerTokens,
        temperature,
        sampling,
        seed,
        promptText: promptDisplayText(prompt),
        signal: options.signal,
        onEvent: options.onEvent ? (event) => options.onEvent?.({ ...event, order, sample }) : undefined,
      });
      const route = session.route?.();
      const runs = result.runs.map(toRun);
      if (route) for (const run of runs) Object.assign(run, { server: route.server }, route.failovers.length > 0 ? { failovers: route.failovers } : {});
      return { order, sample, seed, runs, evaluated: result.evaluatedTokens };
    } catch (error) {
      if (error instanceof J1Error && error.code === "cancelled") throw error;
      if (options.signal?.aborted) throw error;
      const failed: JudgmentRun = {
        order,
        sample,
        seed,
        verdict: null,
        rawVerdict: null,
        score: null,
        status: "engine-error",
        error: errorMessage(error),
        waitsUsed: 0,
        forcedEnd: false,
        trace: [],
        usage: { ...emptyUsage(), evaluatedTokens: session?.usage().evaluatedTokens ?? 0 },
        wallMs: performance.now() - started,
      };
      const route = session?.route?.();
      if (route) Object.assign(failed, { server: route.server }, route.failovers.length > 0 ? { failovers: route.failovers } : {});
      return { order, sample, seed, runs: policies.map(() => failed), evaluated: failed.usage.evaluatedTokens };
    } finally {
      await session?.close();
    }
  }
}

/**
 * Refuses scaling that needs j1 to run thinking token by token (waits, a minimum, adaptive rules,
 * trajectories) on an engine that thinks and answers in one call (a chat API), naming what was asked.
 */
export function requireThinkingControl(engine: Engine, scaling: ScalingOptions): void {
  if (engine.capabilities.thinkingControl !== "none") return;
  const asked = [
    scaling.waits > 0 ? `--waits ${scaling.waits}` : undefined,
    scaling.minThinkingTokens > 0 ? `--min-thinking ${scaling.minThinkingTokens}` : undefined,
    scaling.stopWhen ? `--stop-when ${scaling.stopWhen.rule}:${scaling.stopWhen.value}` : undefined,
    scaling.probeEveryEnd ? "--trajectory" : undefined,
  ].filter((entry): entry is string => entry !== undefined);
  if (asked.length === 0) return;
  const kind = engine.describe().engine;
  throw new J1Error(
    "bad-input",
    `engine ${kind} thinks and answers in one call: it cannot suppress the end of thinking or read the verdict on the way, so ${asked.join(", ")} cannot run on it; use --engine llamacpp, or --engine openai on a completions server, for test-time scaling (--max-thinking maps to the provider's thinking budget where it has one)`,
    { context: { engine: kind, field: asked[0].split(" ")[0] } },
  );
}

/** A run's verdict in the caller's labelling: a pair's BA verdict mapped back, a choice's letter as is. */
function toVerdict(raw: string | null, order: Order, kind: Judgment["kind"]): Verdict | null {
  if (raw === null || kind === "pointwise") return null;
  if (kind === "choice") return raw;
  const verdict = raw as PairVerdict;
  return order === "AB" ? verdict : flipVerdict(verdict);
}

function representative(runs: JudgmentRun[], verdict: Verdict | null): JudgmentRun {
  return runs.find((run) => verdict !== null && run.verdict === verdict) ?? runs[0];
}

function totalUsage(runs: JudgmentRun[]) {
  return runs.reduce((total, run) => addUsage(total, run.usage), emptyUsage());
}

/**
 * P(final verdict), averaged over the runs: each run's probability of the letter that means the final
 * verdict in the order it saw. Undefined unless every run reported probabilities.
 */
function meanConfidence(runs: JudgmentRun[], verdict: Verdict | null): number | undefined {
  if (verdict === null) return undefined;
  let sum = 0;
  for (const run of runs) {
    const letter = run.order === "AB" ? verdict : flipVerdict(verdict);
    const probability = run.choiceProbabilities?.[letter];
    if (probability === undefined) return undefined;
    sum += probability;
  }
  return sum / runs.length;
}

type OrderFailure = { status: "vote-tie" | "engine-error" | "parse-error"; error: string | undefined };

/** Why one order's runs gave no verdict: an even split, every run failed in the engine, else unreadable answers. */
function orderFailure(outcome: VoteOutcome, runs: JudgmentRun[]): OrderFailure {
  if (outcome.verdict === null && outcome.reason === "vote-tie") return { status: "vote-tie", error: `samples split evenly: ${JSON.stringify(outcome.votes)}` };
  if (runs.every((run) => run.status === "engine-error")) return { status: "engine-error", error: runs.find((run) => run.error)?.error };
  return { status: "parse-error", error: runs.find((run) => run.status === "parse-error" && run.error)?.error ?? runs.find((run) => run.error)?.error };
}

/**
 * A pair (one order or both) or a choice: each order's samples vote; with both orders, a verdict only
 * when they agree. "inconsistent" only when at least one order gave a verdict and they differ; when
 * neither did, the status is the failure: engine-error if every run failed in the engine, else
 * parse-error when some order's answers were unreadable, else vote-tie.
 */
function foldVerdicts(runs: JudgmentRun[], orders: Order[], kind: "pairwise" | "choice"): Omit<Judgment, "wallMs"> {
  const runsOf = (order: Order) => runs.filter((run) => run.order === order);
  const perOrder = orders.map((order) => majorityVote(runsOf(order).map((run) => run.verdict)));
  const allVotes = majorityVote(runs.map((run) => run.verdict)).votes;
  let verdict: Verdict | null;
  let status: Judgment["status"];
  let error: string | undefined;
  if (orders.length === 2 && (perOrder[0].verdict !== null || perOrder[1].verdict !== null)) {
    const combined = combineOrders(perOrder[0].verdict, perOrder[1].verdict);
    verdict = combined.verdict;
    status = combined.consistent ? "ok" : "inconsistent";
    if (!combined.consistent) error = `orders disagree: AB gave ${perOrder[0].verdict ?? "no verdict"}, BA gave ${perOrder[1].verdict ?? "no verdict"}`;
  } else if (orders.length === 2) {
    verdict = null;
    const failures = orders.map((order, index) => orderFailure(perOrder[index], runsOf(order)));
    status = runs.every((run) => run.status === "engine-error") ? "engine-error" : failures.some((failure) => failure.status === "parse-error") ? "parse-error" : "vote-tie";
    error = `neither order gave a verdict: ${orders.map((order, index) => `${order}: ${failures[index].status}${failures[index].error ? ` (${failures[index].error})` : ""}`).join("; ")}`;
  } else {
    verdict = perOrder[0].verdict;
    status = "ok";
    if (verdict === null) ({ status, error } = orderFailure(perOrder[0], runs));
  }
  const chosen = representative(runs, verdict);
  return {
    kind,
    verdict,
    score: null,
    status,
    error,
    confidence: meanConfidence(runs, verdict),
    waitsUsed: chosen.waitsUsed,
    forcedEnd: chosen.forcedEnd,
    thinkingEnd: chosen.thinkingEnd,
    probes: chosen.probes,
    trace: chosen.trace,
    usage: totalUsage(runs),
    votes: runs.length > 1 ? allVotes : undefined,
    runs,
  };
}

function foldPointwise(runs: JudgmentRun[]): Omit<Judgment, "wallMs"> {
  const score = meanScore(runs.map((run) => run.score));
  const chosen = runs.find((run) => run.score !== null) ?? runs[0];
  const status: Judgment["status"] = score !== null ? "ok" : runs.every((run) => run.status === "engine-error") ? "engine-error" : "parse-error";
  return {
    kind: "pointwise",
    verdict: null,
    score,
    status,
    error: score === null ? runs.find((run) => run.error)?.error : undefined,
    confidence: runs.length === 1 ? runs[0].confidence : undefined,
    waitsUsed: chosen.waitsUsed,
    forcedEnd: chosen.forcedEnd,
    thinkingEnd: chosen.thinkingEnd,
    probes: chosen.probes,
    trace: chosen.trace,
    usage: totalUsage(runs),
    runs,
  };
}

export { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE };
