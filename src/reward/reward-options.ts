import { badInput } from "../core/errors.js";
import { DEFAULT_PAIRWISE_TEMPLATE, type JudgeTemplate } from "../core/template.js";

/**
 * What each outcome is worth. The default is the binary reward of J1's RL stage: 1 when the verdict is
 * well formed and right, 0 otherwise. Malformed output is 0, not -1, on purpose: the commonest malformed
 * output in RL is a long thinking cut off by the token cap (no `</think>`), and a negative reward there
 * teaches the judge to think less, which works against test-time scaling. Set `malformed` below `wrong`
 * to make the format a priority (for example, early in training from a base model).
 */
export interface RewardWeights {
  /** Well formed and right. */
  correct: number;
  /** Well formed and wrong. Pointwise partial credit moves between `wrong` and `correct`. */
  wrong: number;
  /** Not well formed (see judge-output.ts for the rules). */
  malformed: number;
  /** Well formed, but the verdict disagrees with the other order's verdict (consistency term only). */
  inconsistent: number;
}

export const DEFAULT_WEIGHTS: RewardWeights = { correct: 1, wrong: 0, malformed: 0, inconsistent: 0 };

/**
 * Whether the output must open its thinking with `<think>`. "prefilled": the prompt ends with `<think>`
 * (j1's templates prefill it), so the output must not contain another one. "required": the output itself
 * must start with `<think>`. "auto" (default): either, so a missing opening tag is accepted only when no
 * `<think>` appears anywhere in the output.
 */
export type OpeningTagRule = "auto" | "required" | "prefilled";

/**
 * What may follow the verdict. "nothing" (default): only whitespace and a closing "." or "!", so the judge
 * learns to stop at its verdict. "text": any text, as long as it holds no second verdict (look-alikes
 * included).
 */
export type AfterVerdictRule = "nothing" | "text";

/**
 * "none" (default): a verdict must be written in ASCII exactly: `[[A]]` (inner spaces and letter case are
 * tolerated, as in core/verdict.ts). Look-alikes (`［［A］］`, `[[Ａ]]`, `【A】`, a Cyrillic `А`) are never
 * verdicts; an answer that contains one is malformed, because another reader might take it for a verdict.
 * "nfkc": the answer is NFKC-normalised first, so full-width forms (`［［Ａ］］`) count as `[[A]]`;
 * bracket look-alikes that NFKC keeps (`【A】`) and other scripts' letters are still rejected.
 */
export type VerdictNormalisation = "none" | "nfkc";

/**
 * Pointwise correctness. "tolerance": right (1) when |score - label| <= tolerance, else wrong (0).
 * "distance": partial credit 1 - |score - label| / (max - min), so a near miss earns more than a far one.
 */
export interface PointwiseRule {
  shape: "tolerance" | "distance";
  tolerance: number;
  min: number;
  max: number;
}

export interface JudgeRewardOptions {
  /** Delimiters come from the judge template (`<think>`, `</think>`, `[[`, `]]`). */
  template: Pick<JudgeTemplate, "thinkStart" | "thinkEnd" | "answerPrefix" | "answerSuffix">;
  openingTag: OpeningTagRule;
  afterVerdict: AfterVerdictRule;
  normalisation: VerdictNormalisation;
  /** An empty thinking block (`<think></think>[[A]]`) is malformed unless this is false. */
  requireThinking: boolean;
  pointwise: PointwiseRule;
  weights: RewardWeights;
}

export const DEFAULT_REWARD_OPTIONS: JudgeRewardOptions = {
  template: DEFAULT_PAIRWISE_TEMPLATE,
  openingTag: "auto",
  afterVerdict: "nothing",
  normalisation: "none",
  requireThinking: true,
  pointwise: { shape: "tolerance", tolerance: 0, min: 1, max: 10 },
  weights: DEFAULT_WEIGHTS,
};

export interface RewardOptionsInput extends Partial<Omit<JudgeRewardOptions, "weights" | "pointwise">> {
  weights?: Partial<RewardWeights>;
  pointwise?: Partial<PointwiseRule>;
}

/** Fills in the defaults and checks the values; errors name the option. */
export function resolveRewardOptions(input: RewardOptionsInput = {}): JudgeRewardOptions {
  const options: JudgeRewardOptions = {
    ...DEFAULT_REWARD_OPTIONS,
    ...input,
    weights: { ...DEFAULT_WEIGHTS, ...input.weights },
    pointwise: { ...DEFAULT_REWARD_OPTIONS.pointwise, ...input.pointwise },
  };
  for (const [name, value] of Object.entries(options.weights)) {
    if (!Number.isFinite(value)) throw badInput(`must be a finite number, got ${value}`, { field: `weights.${name}` });
  }
  const { pointwise } = options;
  if (!(pointwise.tolerance >= 0)) throw badInput(`must be a number >= 0, got ${pointwise.tolerance}`, { field: "pointwise.tolerance" });
  if (!(Number.isFinite(pointwise.min) && Number.isFinite(pointwise.max) && pointwise.min < pointwise.max)) {
    throw badInput(`needs min < max, got ${pointwise.min}..${pointwise.max}`, { field: "pointwise.scale" });
  }
  if (!["auto", "required", "prefilled"].includes(options.openingTag)) throw badInput(`must be auto, required or prefilled, got ${options.openingTag}`, { field: "openingTag" });
  if (!["nothing", "text"].includes(options.afterVerdict)) throw badInput(`must be nothing or text, got ${options.afterVerdict}`, { field: "afterVerdict" });
  if (!["none", "nfkc"].includes(options.normalisation)) throw badInput(`must be none or nfkc, got ${options.normalisation}`, { field: "normalisation" });
  if (options.template.thinkEnd.trim().length === 0) throw badInput("must not be empty", { field: "template.thinkEnd" });
  if (options.template.answerPrefix.length === 0) throw badInput("must not be empty: the reward finds the verdict by it", { field: "template.answerPrefix" });
  return options;
}
