/**
 * The judge reward's rules, table by table: well-formed outputs, every adversarial shape we could think
 * of (two verdicts, a verdict only in the thinking, look-alike Unicode, text after the verdict, …),
 * pointwise scoring, weights, labels and the both-orders consistency term.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { bothOrdersReward } from "../src/reward/consistency.js";
import { judgeReward } from "../src/reward/judge-reward.js";
import { parseRewardLabel, type RewardLabel } from "../src/reward/reward-label.js";
import { resolveRewardOptions, type RewardOptionsInput } from "../src/reward/reward-options.js";

const A: RewardLabel = { kind: "pairwise", verdict: "A" };
const B: RewardLabel = { kind: "pairwise", verdict: "B" };
const TIE: RewardLabel = { kind: "pairwise", verdict: "tie" };
const point = (score: number): RewardLabel => ({ kind: "pointwise", score });

interface Case {
  name: string;
  output: string;
  label: RewardLabel;
  options?: RewardOptionsInput;
  status: "correct" | "partial" | "wrong" | "malformed";
  problem?: string;
  reward?: number;
}

const CASES: Case[] = [
  // Well formed.
  { name: "prefilled <think>: thinking, </think>, verdict", output: "Response A answers it.\n</think>\n[[A]]", label: A, status: "correct", reward: 1 },
  { name: "own <think> at the start", output: "<think>\nB is right.\n</think>\n\n[[B]]", label: B, status: "correct", reward: 1 },
  { name: "whitespace before <think>", output: "  \n<think>x</think>[[A]]", label: A, status: "correct" },
  { name: "text before the verdict", output: "<think>x</think>\nFinal verdict: [[A]]", label: A, status: "correct" },
  { name: "inner spaces and lower case", output: "<think>x</think>[[ a ]]", label: A, status: "correct" },
  { name: "a closing full stop", output: "<think>x</think>[[A]].\n", label: A, status: "correct" },
  { name: "a verdict inside the thinking is ignored", output: "<think>first I thought [[B]]</think>[[A]]", label: A, status: "correct" },
  { name: "look-alikes inside the thinking are ignored", output: "<think>【B】 or ［［B］］?</think>[[A]]", label: A, status: "correct" },
  { name: "wrong verdict", output: "<think>x</think>[[B]]", label: A, status: "wrong", reward: 0 },
  { name: "tie label, tie verdict", output: "<think>x</think>[[tie]]", label: TIE, status: "correct" },
  { name: "tie label, TIE verdict", output: "<think>x</think>[[TIE]]", label: TIE, status: "correct" },
  { name: "tie verdict on a decided pair", output: "<think>x</think>[[tie]]", label: A, status: "wrong" },
  { name: "decided verdict on a tie", output: "<think>x</think>[[A]]", label: TIE, status: "wrong" },

  // Malformed: the thinking block.
  { name: "empty output", output: "", label: A, status: "malformed", problem: "empty-output" },
  { name: "whitespace only", output: " \n\t", label: A, status: "malformed", problem: "empty-output" },
  { name: "missing </think> (cut off)", output: "<think>long thinking, leaning [[A]]", label: A, status: "malformed", problem: "no-think-end" },
  { name: "</think> twice", output: "<think>a</think>b</think>[[A]]", label: A, status: "malformed", problem: "repeated-think-end" },
  { name: "<think> twice", output: "<think>a <think> b</think>[[A]]", label: A, status: "malformed", problem: "repeated-think-start" },
  { name: "<think> inside prefilled thinking", output: "the tag <think> appears</think>[[A]]", label: A, status: "malformed", problem: "misplaced-think-start" },
  { name: "<think> after </think>", output: "x</think><think>[[A]]", label: A, status: "malformed", problem: "misplaced-think-start" },
  { name: "text before <think>", output: "Sure! <think>x</think>[[A]]", label: A, status: "malformed", problem: "misplaced-think-start" },
  { name: "empty thinking", output: "<think> \n</think>[[A]]", label: A, status: "malformed", problem: "empty-thinking" },
  { name: "empty thinking allowed", output: "<think></think>[[A]]", label: A, options: { requireThinking: false }, status: "correct" },
  { name: "required opening, absent", output: "x</think>[[A]]", label: A, options: { openingTag: "required" }, status: "malformed", problem: "missing-think-start" },
  { name: "required opening, present", output: "<think>x</think>[[A]]", label: A, options: { openingTag: "required" }, status: "correct" },
  { name: "prefilled, but <think> again", output: "<think>x</think>[[A]]", label: A, options: { openingTag: "prefilled" }, status: "malformed", problem: "unexpected-think-start" },
  { name: "prefilled, as expected", output: "x</think>[[A]]", label: A, options: { openingTag: "prefilled" }, status: "correct" },

  // Malformed: the verdict.
  { name: "verdict only inside the thinking", output: "<think>so [[A]]</think>The answer is A.", label: A, status: "malformed", problem: "no-verdict" },
  { name: "no verdict at all", output: "<think>x</think>A is better", label: A, status: "malformed", problem: "no-verdict" },
  { name: "two verdicts", output: "<think>x</think>[[A]] [[B]]", label: A, status: "malformed", problem: "several-verdicts" },
  { name: "the same verdict twice", output: "<think>x</think>[[A]]\n[[A]]", label: A, status: "malformed", problem: "several-verdicts" },
  { name: "text after the verdict", output: "<think>x</think>[[A]] because A is complete.", label: A, status: "malformed", problem: "text-after-verdict" },
  { name: "text after the verdict, allowed", output: "<think>x</think>[[A]] because A is complete.", label: A, options: { afterVerdict: "text" }, status: "correct" },
  { name: "text after the verdict with another verdict", output: "<think>x</think>[[A]] or maybe [[B]]", label: A, options: { afterVerdict: "text" }, status: "malformed", problem: "several-verdicts" },
  { name: "unknown verdict", output: "<think>x</think>[[C]]", label: A, status: "malformed", problem: "unknown-verdict" },
  { name: "a sentence in brackets", output: "<think>x</think>[[A or B]]", label: A, status: "malformed", problem: "unknown-verdict" },
  { name: "single brackets", output: "<think>x</think>[A]", label: A, status: "malformed", problem: "no-verdict" },
  { name: "triple brackets read as one", output: "<think>x</think>[[[A]]]", label: A, status: "malformed", problem: "text-after-verdict" },

  // Look-alikes: never a verdict unless deliberately normalised.
  { name: "full-width brackets ［［A］］", output: "<think>x</think>［［A］］", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "lenticular brackets 【A】", output: "<think>x</think>【A】", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "full-width letter [[Ａ]]", output: "<think>x</think>[[Ａ]]", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "Cyrillic letter [[А]]", output: "<think>x</think>[[\u0410]]", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "Greek letter [[Β]]", output: "<think>x</think>[[\u0392]]", label: B, status: "malformed", problem: "lookalike-verdict" },
  { name: "zero-width space inside", output: "<think>x</think>[[\u200bA]]", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "mathematical bold 𝐀", output: "<think>x</think>[[𝐀]]", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "real verdict next to a look-alike", output: "<think>x</think>[[A]] 【B】", label: A, options: { afterVerdict: "text" }, status: "malformed", problem: "lookalike-verdict" },
  { name: "look-alike before a real verdict", output: "<think>x</think>【B】 no: [[A]]", label: A, status: "malformed", problem: "lookalike-verdict" },
  { name: "NFKC: full-width brackets count", output: "<think>x</think>［［A］］", label: A, options: { normalisation: "nfkc" }, status: "correct" },
  { name: "NFKC: full-width letter counts", output: "<think>x</think>[[Ａ]]", label: A, options: { normalisation: "nfkc" }, status: "correct" },
  { name: "NFKC: lenticular brackets still do not", output: "<think>x</think>【A】", label: A, options: { normalisation: "nfkc" }, status: "malformed", problem: "lookalike-verdict" },
  { name: "NFKC: Cyrillic still does not", output: "<think>x</think>[[\u0410]]", label: A, options: { normalisation: "nfkc" }, status: "malformed", problem: "lookalike-verdict" },

  // Pointwise.
  { name: "pointwise exact", output: "<think>x</think>[[7]]", label: point(7), status: "correct", reward: 1 },
  { name: "pointwise 10 is not 1", output: "<think>x</think>[[10]]", label: point(10), status: "correct" },
  { name: "pointwise off by one", output: "<think>x</think>[[8]]", label: point(7), status: "wrong", reward: 0 },
  { name: "pointwise within tolerance", output: "<think>x</think>[[8]]", label: point(7), options: { pointwise: { tolerance: 1 } }, status: "correct" },
  { name: "pointwise distance credit", output: "<think>x</think>[[4]]", label: point(7), options: { pointwise: { shape: "distance" } }, status: "partial", reward: 1 - 3 / 9 },
  { name: "pointwise out of scale", output: "<think>x</think>[[11]]", label: point(7), status: "malformed", problem: "score-out-of-scale" },
  { name: "pointwise label, pairwise verdict", output: "<think>x</think>[[A]]", label: point(7), status: "malformed", problem: "unknown-verdict" },
  { name: "pairwise label, a score", output: "<think>x</think>[[7]]", label: A, status: "malformed", problem: "unknown-verdict" },

  // Weights.
  { name: "malformed weight", output: "<think>x", label: A, options: { weights: { malformed: -1 } }, status: "malformed", reward: -1 },
  { name: "correct weight", output: "<think>x</think>[[A]]", label: A, options: { weights: { correct: 2 } }, status: "correct", reward: 2 },
  { name: "wrong weight", output: "<think>x</think>[[B]]", label: A, options: { weights: { wrong: -0.5 } }, status: "wrong", reward: -0.5 },
];

for (const item of CASES) {
  test(`reward: ${item.name}`, () => {
    const options = resolveRewardOptions(item.options);
    const result = judgeReward(item.output, item.label, options);
    assert.equal(result.status, item.status, result.reason);
    if (item.problem) assert.equal(result.problem, item.problem, result.reason);
    if (item.reward !== undefined) assert.ok(Math.abs(result.reward - item.reward) < 1e-9, `reward ${result.reward}, expected ${item.reward}`);
    assert.ok(result.score >= 0 && result.score <= 1);
    assert.equal(result.parts.format, item.status === "malformed" ? 0 : 1);
    assert.ok(result.reason.length > 0);
    if (item.status === "malformed") assert.equal(result.verdict, null);
  });
}

test("reward: the reason says what happened", () => {
  const options = resolveRewardOptions();
  assert.match(judgeReward("<think>x</think>[[B]]", A, options).reason, /wrong: \[\[B\]\] but the label is A/);
  assert.match(judgeReward("<think>x", A, options).reason, /^malformed: thinking never ended/);
});

test("reward: thinking length is reported", () => {
  const result = judgeReward("<think>12345</think>[[A]]", A, resolveRewardOptions());
  assert.equal(result.thinkingChars, 5);
});

test("reward: a custom template's delimiters", () => {
  const options = resolveRewardOptions({ template: { thinkStart: "<reasoning>\n", thinkEnd: "</reasoning>", answerPrefix: "<verdict>", answerSuffix: "</verdict>" } });
  assert.equal(judgeReward("<reasoning>x</reasoning><verdict>B</verdict>", B, options).status, "correct");
  assert.equal(judgeReward("<reasoning>x</reasoning>[[B]]", B, options).problem, "no-verdict");
});

test("reward options: bad values are named", () => {
  assert.throws(() => resolveRewardOptions({ weights: { correct: Number.NaN } }), /weights\.correct/);
  assert.throws(() => resolveRewardOptions({ pointwise: { min: 5, max: 5 } }), /pointwise\.scale/);
  assert.throws(() => resolveRewardOptions({ openingTag: "sometimes" as never }), /openingTag/);
});

test("labels: the forms trainers send", () => {
  assert.deepEqual(parseRewardLabel("A"), { kind: "pairwise", verdict: "A" });
  assert.deepEqual(parseRewardLabel(" b "), { kind: "pairwise", verdict: "B" });
  assert.deepEqual(parseRewardLabel("Tie"), { kind: "pairwise", verdict: "tie" });
  assert.deepEqual(parseRewardLabel(7), { kind: "pointwise", score: 7 });
  assert.deepEqual(parseRewardLabel("7.5"), { kind: "pointwise", score: 7.5 });
  assert.deepEqual(parseRewardLabel({ verdict: "A", pair: "p1", order: "BA" }), { kind: "pairwise", verdict: "A", pair: "p1", order: "BA" });
  assert.deepEqual(parseRewardLabel('{"verdict": "B", "pair": 3, "order": "AB"}'), { kind: "pairwise", verdict: "B", pair: "3", order: "AB" });
  assert.deepEqual(parseRewardLabel({ score: "4" }), { kind: "pointwise", score: 4, pair: undefined });
});

test("labels: bad ones are refused with the field named", () => {
  assert.throws(() => parseRewardLabel("C", "labels[2]"), /field "labels\[2\]".*"C"/);
  assert.throws(() => parseRewardLabel(null, "labels[0]"), /labels\[0\].*null/);
  assert.throws(() => parseRewardLabel([], "labels[0]"), /an array/);
  assert.throws(() => parseRewardLabel({ verdict: "X" }, "labels[1]"), /labels\[1\]\.verdict/);
  assert.throws(() => parseRewardLabel({ verdict: "A", order: "XY" }, "labels[1]"), /labels\[1\]\.order/);
  assert.throws(() => parseRewardLabel(Number.NaN), /finite/);
  assert.throws(() => parseRewardLabel("{broken"), /does not parse/);
});

test("consistency: a judge right in both orders keeps its reward", () => {
  const options = resolveRewardOptions();
  // A is better. In the B/A order the better response is shown second, so the right verdict there is [[B]].
  const { AB, BA } = bothOrdersReward("<think>x</think>[[A]]", "<think>x</think>[[B]]", "A", options);
  assert.deepEqual([AB.reward, BA.reward], [1, 1]);
  assert.deepEqual([AB.parts.consistency, BA.parts.consistency], [1, 1]);
});

test("consistency: a position-biased judge gets nothing", () => {
  const options = resolveRewardOptions();
  const { AB, BA } = bothOrdersReward("<think>x</think>[[A]]", "<think>x</think>[[A]]", "A", options);
  assert.equal(AB.parts.correct, 1, "right in the A/B order on its own");
  assert.deepEqual([AB.reward, BA.reward], [0, 0]);
  assert.deepEqual([AB.parts.consistency, BA.parts.consistency], [0, 0]);
  assert.match(AB.reason, /inconsistent: the B\/A order gave \[\[A\]\]/);
});

test("consistency: a malformed partner takes the reward away; malformed keeps its own weight", () => {
  const options = resolveRewardOptions({ weights: { malformed: -1 } });
  const { AB, BA } = bothOrdersReward("<think>x</think>[[A]]", "<think>x", "A", options);
  assert.equal(AB.reward, 0);
  assert.equal(BA.reward, -1);
  assert.equal(BA.status, "malformed");
});

test("consistency: ties agree with ties", () => {
  const options = resolveRewardOptions();
  const { AB, BA } = bothOrdersReward("<think>x</think>[[tie]]", "<think>x</think>[[tie]]", "tie", options);
  assert.deepEqual([AB.reward, BA.reward], [1, 1]);
});

test("consistency: never raises a wrong verdict's reward", () => {
  const options = resolveRewardOptions({ weights: { wrong: -0.5, inconsistent: 0 } });
  const { AB, BA } = bothOrdersReward("<think>x</think>[[A]]", "<think>x</think>[[A]]", "A", options);
  assert.equal(AB.reward, 0);
  assert.equal(BA.reward, -0.5);
});
