import { DEFAULT_SCALING, validateScaling, type ScalingOptions } from "../core/budget.js";
import { segmentsText, type ChatFormatName } from "../core/chat-format.js";
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
  /** One-pass sweep: also read the verdict at these wait counts (see `judgeSweep`). */
  readAtWaits?: readonly number[];
  signal?: AbortSignal;
  /** Streaming view of the thinking, per run. */
  onEvent?: (event: ThinkingEvent & { order: Order; sample: number }) => void;
}

/** Options for a choice among N: no swap (the caller places the responses) and no tie. */
export type ChoiceCallOptions = Omit<JudgeCallOptions, "swap" | "allowTie">;

/** A judgment per sweep point, from one pass per run (see docs/architecture.md, "One-pass sweep"). */
export interface SweepJudgments {
  points: Map<number, Judgment>;
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
    const sweep = await this.judgePairSweep(input, options);
    return sweep.points.get(this.scaling.waits) as Judgment;
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
    const sweep = await this.runAll(["AB"], choices, () => prompt, options, foldPointwise);
    return sweep.points.get(this.scaling.waits) as Judgment;
  }

  /**
   * The best of N responses (2 to 26), lettered A, B, C, ... in the order given: the caller places them
   * (there is no swap), and the verdict is the letter as the model saw it. K samples vote by plurality;
   * confidence is the mean P(final letter), normalised over the N letters.
   */
  async judgeChoice(input: ChoiceInput, options: ChoiceCallOptions = {}): Promise<Judgment> {
    const sweep = await this.judgeChoiceSweep(input, options);
    return sweep.points.get(this.scaling.waits) as Judgment;
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

  private async runAll(
    orders: Order[],
    choices: string[],
    promptFor: (order: Order) => PromptSegment[],
    options: JudgeCallOptions,
    fold: (runs: JudgmentRun[]) => Omit<Judgment, "wallMs">,
  ): Promise<SweepJudgments> {
    const samples = Math.max(1, options.samples ?? 1);
    const baseSeed = options.seed ?? 0;
    const points = [...new Set([...(options.readAtWaits ?? []).filter((k) => k <= this.scaling.waits), this.scaling.waits])].sort((x, y) => x - y);
    const started = performance.now();
    const tasks: Array<Promise<{ order: Order; sample: number; seed: number; runs: Map<number, JudgmentRun>; evaluated: number }>> = [];
    for (const order of orders) {
      for (let sample = 0; sample < samples; sample++) {
        const seed = deriveSeed(baseSeed, options.itemKey ?? "", order, sample);
        tasks.push(this.runOne(order, sample, seed, choices, promptFor(order), points, options));
      }
    }
    const results = await Promise.all(tasks);
    const wallMs = performance.now() - started;
    const judgments = new Map<number, Judgment>();
    for (const point of points) {
      const runs = results.map((result) => result.runs.get(point) as JudgmentRun);
      judgments.set(point, { ...fold(runs), wallMs });
    }
    return { points: judgments, evaluatedTokens: results.reduce((sum, result) => sum + result.evaluated, 0) };
  }

  private async runOne(order: Order, sample: number, seed: number, choices: string[], prompt: PromptSegment[], points: number[], options: JudgeCallOptions) {
    const started = performance.now();
    const temperature = options.temperature ?? 0;
    // Greedy thinking needs no truncation; sampled thinking gets the caller's, else the family's recommended.
    const sampling = temperature > 0 ? options.sampling ?? this.format.recommendedSampling : undefined;
    const toRun = (raw: RawRun): JudgmentRun => {
      const verdict = toVerdict(raw.rawVerdict, order, this.template.kind);
      return {
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
        waitsUsed: raw.waitsUsed,
        forcedEnd: raw.forcedEnd,
        thinkingEnd: raw.thinkingEnd,
        sampling,
        trace: raw.trace,
        usage: raw.usage,
        wallMs: performance.now() - started,
      };
    };
    let session;
    try {
      session = await this.engine.open(prompt, { signal: options.signal });
      const result = await runThinking(session, {
        template: this.template,
        scaling: this.scaling,
        choices,
        temperature,
        sampling,
        seed,
        readAtWaits: points,
        promptText: segmentsText(prompt),
        signal: options.signal,
        onEvent: options.onEvent ? (event) => options.onEvent?.({ ...event, order, sample }) : undefined,
      });
      const runs = new Map<number, JudgmentRun>();
      for (const point of points) runs.set(point, toRun(point === this.scaling.waits ? result.final : (result.readouts.get(point) as RawRun)));
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
      return { order, sample, seed, runs: new Map(points.map((point) => [point, failed])), evaluated: failed.usage.evaluatedTokens };
    } finally {
      await session?.close();
    }
  }
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
    trace: chosen.trace,
    usage: totalUsage(runs),
    runs,
  };
}

export { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE };
