import { DEFAULT_SCALING, type ScalingOptions } from "../core/budget.js";
import { J1Error } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, type JudgeTemplate } from "../core/template.js";
import type { Engine, SamplingOptions } from "../engines/engine.js";
import { isFlipped, presentedPair, toItemLabels } from "../eval/positions.js";
import type { SampleStop } from "../core/scaling/sample-stop.js";
import { stopRuleKind } from "../core/scaling/stop-rule.js";
import { requireCapabilities } from "../engines/engine-registry.js";
import { adaptiveMaxWaits, FINAL_POINT, ONE_PASS_SETTINGS, pointName, sweepList, type Sweep } from "../eval/sweep.js";
import { itemKind, type BenchmarkItem, type ItemKind, type JudgeableItem, type OrderProtocol } from "../eval/types.js";
import { Judge, type JudgeCallOptions, type SweepJudgments } from "../judge/judge.js";
import type { PromptFormat } from "../judge/prompt-format.js";
import { placement, presentedChoice, toItemLetters } from "./choice-placement.js";
import type { JobPlan } from "./judging-job.js";
import { keyOf } from "./judgment-key.js";

/** An item as the job judges it: the item, where its responses go, and the benchmark's own prompt for it. */
export interface PlannedItem<I extends JudgeableItem = BenchmarkItem> {
  item: I;
  /** The benchmark's order protocol, or the run's `--order` where the benchmark lets the user choose. */
  protocol: OrderProtocol;
  /** The benchmark's official prompt for the item (used unless the user gave a template). */
  officialTemplate?: JudgeTemplate;
}

/** Everything about judging that a run fixes (the rest of its settings say where items come from). */
export interface JudgingOptions {
  /** The user's template (--template); its kind must match the items it is used for. */
  template?: JudgeTemplate;
  /** Unset fields take j1's defaults (core/budget.ts). */
  scaling: Partial<ScalingOptions>;
  /** One sweep, or several read in one pass (waits with the adaptive rules' sweeps). */
  sweep?: Sweep | Sweep[];
  samples: number;
  /** With samples > 1: stop drawing samples once the vote is settled. */
  earlyStop?: SampleStop;
  /** Judge both orders of every pair (benchmarks with protocol "both" always do). */
  swap: boolean;
  allowTie: boolean;
  temperature: number;
  sampling?: SamplingOptions;
  seed: number;
  /** The point of an unswept judgment: "final" (eval, judge) or "sft" (data sft). */
  finalPoint?: string;
}

const TEMPLATE_KIND: Record<ItemKind, JudgeTemplate["kind"]> = { pair: "pairwise", rating: "pointwise", choice: "choice" };
const DEFAULT_TEMPLATE: Record<ItemKind, JudgeTemplate> = { pair: DEFAULT_PAIRWISE_TEMPLATE, rating: DEFAULT_POINTWISE_TEMPLATE, choice: DEFAULT_CHOICE_TEMPLATE };

/**
 * The template an item is judged with: the user's when given (refused if it is of another kind than the
 * item, before any model loads), else the benchmark's official one, else j1's default for the kind.
 */
export function templateFor(planned: PlannedItem<JudgeableItem>, userTemplate?: JudgeTemplate): JudgeTemplate {
  const kind = itemKind(planned.item);
  if (userTemplate !== undefined) {
    if (userTemplate.kind !== TEMPLATE_KIND[kind]) {
      throw new J1Error("bad-template", `template "${userTemplate.name}" is ${userTemplate.kind}, but item "${planned.item.id}" is a ${kind}, which needs a ${TEMPLATE_KIND[kind]} template`, {
        context: { field: "--template", item: planned.item.id },
      });
    }
    return userTemplate;
  }
  return planned.officialTemplate ?? DEFAULT_TEMPLATE[kind];
}

/** Whether a pair is judged in both orders. */
export function judgesBothOrders(planned: PlannedItem<JudgeableItem>, options: Pick<JudgingOptions, "swap">): boolean {
  return itemKind(planned.item) === "pair" && (options.swap || planned.protocol === "both");
}

/** Judgments one item costs: orders × samples × the points a sweep judges separately. */
export function passesFor(planned: PlannedItem<JudgeableItem>, options: Pick<JudgingOptions, "swap" | "samples" | "sweep">): number {
  const sweeps = sweepList(options.sweep);
  const points = sweeps.reduce((sum, sweep) => sum + sweep.values.length, 0);
  const separatePoints = sweeps.length === 0 || (onePass(sweeps) && itemKind(planned.item) !== "rating") ? 1 : points;
  return (judgesBothOrders(planned, options) ? 2 : 1) * options.samples * separatePoints;
}

interface PointScaling {
  point: string;
  scaling: ScalingOptions;
}

/** The points of a run and the scaling that defines each (what a separate run at that point would use). */
export function pointScalings(options: JudgingOptions): PointScaling[] {
  const sweeps = sweepList(options.sweep);
  const base: ScalingOptions = { ...DEFAULT_SCALING, ...options.scaling };
  if (sweeps.length === 0) return [{ point: options.finalPoint ?? FINAL_POINT, scaling: base }];
  const maxWaits = adaptiveMaxWaits(sweeps, base.waits);
  return sweeps.flatMap((sweep) =>
    sweep.values.map((value): PointScaling => {
      const point = pointName(sweep.setting, value);
      if (sweep.setting === "waits") return { point, scaling: { ...base, waits: value } };
      if (sweep.setting === "max-thinking") return { point, scaling: { ...base, maxThinkingTokens: value } };
      const rule = sweep.setting === "confidence" ? "confident" : "stable";
      return { point, scaling: { ...base, waits: maxWaits, stopWhen: { rule, value } } };
    }),
  );
}

/** Sweeps whose points one pass per run reads (they share the cap: everything but max-thinking). */
function onePass(sweeps: readonly Sweep[]): boolean {
  return sweeps.length > 0 && sweeps.every((sweep) => ONE_PASS_SETTINGS.includes(sweep.setting));
}

export interface ItemPlanOptions {
  engine: Engine;
  format: PromptFormat;
  options: JudgingOptions;
  /** Released with the plan (the engine, when the command loaded it for the job). */
  dispose?: () => Promise<void>;
}

/**
 * How the job judges an item of any kind at a run's points. A pair is placed by its protocol (one seeded
 * coin flip, or both orders) and its verdicts mapped back to the item's A/B; a choice is shown in its
 * placement's order and its letter mapped back; a rating is judged as it is. A waits sweep reads every
 * point in one pass where the judge can (pairs, choices); other sweeps judge each point on its own.
 */
export function buildItemPlan(plan: ItemPlanOptions): JobPlan<PlannedItem<JudgeableItem>> {
  const { engine, format, options } = plan;
  const points = pointScalings(options);
  // An adaptive rule that reads P(verdict) on an engine that reports none is refused before any item.
  for (const { point, scaling } of points) {
    if (scaling.stopWhen && stopRuleKind(scaling.stopWhen.rule).needsProbabilities) requireCapabilities(engine, ["probabilities"], `the stopping rule at ${point} (${scaling.stopWhen.rule}:${scaling.stopWhen.value})`);
  }
  const judges = new Map<string, Judge>();
  const judgeWith = (template: JudgeTemplate, scaling: ScalingOptions): Judge => {
    const id = JSON.stringify([template, scaling]);
    let judge = judges.get(id);
    if (judge === undefined) {
      judge = new Judge({ engine, template, promptFormat: format, scaling });
      judges.set(id, judge);
    }
    return judge;
  };
  const callFor = (planned: PlannedItem<JudgeableItem>, signal?: AbortSignal): JudgeCallOptions => ({
    samples: options.samples,
    swap: judgesBothOrders(planned, options),
    allowTie: options.allowTie,
    temperature: options.temperature,
    sampling: options.sampling,
    seed: options.seed,
    earlyStop: options.earlyStop,
    itemKey: planned.item.id,
    signal,
  });
  const placementOf = (planned: PlannedItem<JudgeableItem>): boolean | readonly number[] => {
    const item = planned.item;
    if (item.kind === "choice") return placement(planned.protocol, item, options.seed);
    if (item.kind === "rating") return false;
    return isFlipped(planned.protocol, item, options.seed);
  };
  const oneSweep = onePass(sweepList(options.sweep));

  /**
   * Every point of one pass-able judgment (a pair or a choice as shown): one judge at the largest wait
   * count reads the smaller points on the way in a waits sweep; otherwise one judgment per point.
   */
  const atPoints = async <S>(
    template: JudgeTemplate,
    shown: S,
    call: JudgeCallOptions,
    one: (judge: Judge, shown: S, call: JudgeCallOptions) => Promise<Judgment>,
    sweep: (judge: Judge, shown: S, call: JudgeCallOptions) => Promise<SweepJudgments>,
  ): Promise<Judgment[]> => {
    if (oneSweep) {
      // One judge at the first point reads every other point on the way (a policy each, one pass per run).
      const [first, ...rest] = points;
      const read = await sweep(judgeWith(template, first.scaling), shown, { ...call, readAt: rest.map(({ point, scaling }) => ({ name: point, scaling })) });
      return [read.own, ...rest.map(({ point }) => read.named.get(point) as Judgment)];
    }
    const judgments: Judgment[] = [];
    for (const { scaling } of points) judgments.push(await one(judgeWith(template, scaling), shown, call));
    return judgments;
  };

  const judgePair = async (planned: PlannedItem<JudgeableItem>, template: JudgeTemplate, signal?: AbortSignal): Promise<Judgment[]> => {
    const item = planned.item;
    if (item.kind === "rating" || item.kind === "choice") throw new Error("judgePair on a non-pair");
    const flipped = isFlipped(planned.protocol, item, options.seed);
    const judgments = await atPoints(template, presentedPair(item, flipped), callFor(planned, signal), (judge, shown, call) => judge.judgePair(shown, call), (judge, shown, call) => judge.judgePairSweep(shown, call));
    return judgments.map((judgment) => toItemLabels(judgment, flipped));
  };

  const judgeChoice = async (planned: PlannedItem<JudgeableItem>, template: JudgeTemplate, signal?: AbortSignal): Promise<Judgment[]> => {
    const item = planned.item;
    if (item.kind !== "choice") throw new Error("judgeChoice on a non-choice");
    const permutation = placement(planned.protocol, item, options.seed);
    const judgments = await atPoints(template, presentedChoice(item, permutation), callFor(planned, signal), (judge, shown, call) => judge.judgeChoice(shown, call), (judge, shown, call) => judge.judgeChoiceSweep(shown, call));
    return judgments.map((judgment) => toItemLetters(judgment, permutation));
  };

  const judgeRating = async (planned: PlannedItem<JudgeableItem>, template: JudgeTemplate, signal?: AbortSignal): Promise<Judgment[]> => {
    const item = planned.item;
    if (item.kind !== "rating") throw new Error("judgeRating on a non-rating");
    const { swap: _swap, allowTie: _allowTie, ...call } = callFor(planned, signal);
    const judgments: Judgment[] = [];
    for (const { scaling } of points) judgments.push(await judgeWith(template, scaling).judgePoint({ question: item.question, context: item.context, response: item.response }, call));
    return judgments;
  };

  return {
    points: points.map((point) => point.point),
    parallelSessions: engine.capabilities.parallelSessions,
    sessionsPerItem: (planned) => (judgesBothOrders(planned, options) ? 2 : 1) * options.samples,
    keys: (planned) => {
      const template = templateFor(planned, options.template);
      const common = {
        engine,
        template,
        chatFormat: format.id,
        samples: options.samples,
        earlyStop: options.earlyStop,
        swap: judgesBothOrders(planned, options),
        allowTie: itemKind(planned.item) === "pair" ? options.allowTie : false,
        temperature: options.temperature,
        sampling: options.sampling,
        seed: options.seed,
        item: planned.item,
        placement: placementOf(planned),
      };
      return points.map(({ scaling }) => keyOf({ ...common, scaling: { ...scaling } }));
    },
    judge: async (planned, signal) => {
      const template = templateFor(planned, options.template);
      const kind = itemKind(planned.item);
      if (kind === "choice") return judgeChoice(planned, template, signal);
      if (kind === "rating") return judgeRating(planned, template, signal);
      return judgePair(planned, template, signal);
    },
    dispose: plan.dispose,
  };
}
