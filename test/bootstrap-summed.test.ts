import assert from "node:assert/strict";
import { test } from "node:test";
import type { Verdict } from "../src/core/judgment.js";
import { accuracyRule } from "../src/eval/scoring/accuracy-rule.js";
import { bootstrapInterval, bootstrapScores, bootstrapWork, seededRandom, type SummedRule } from "../src/eval/scoring/bootstrap.js";
import { judgeBenchScore } from "../src/eval/scoring/judgebench-rule.js";
import { llmBarScore } from "../src/eval/scoring/llmbar-rule.js";
import { judgedItems, type JudgedItem } from "../src/eval/scoring/credit.js";
import type { OfficialRule } from "../src/eval/scoring/official-rule.js";
import { REWARDBENCH_SECTIONS, rewardBenchScore } from "../src/eval/scoring/rewardbench-sections.js";
import { rewardBench2Score, rewardBench2Summed, TIES_SUBSET } from "../src/eval/scoring/rewardbench2-score.js";
import { rewardMathScore } from "../src/eval/scoring/rewardmath-groups.js";
import { rmBenchScore } from "../src/eval/scoring/rmbench-matrix.js";
import type { ItemDecision, ScoredItem } from "../src/eval/types.js";

type Decisions = Map<string, ItemDecision>;

/**
 * The summed bootstrap of every rule against the rule itself scoring each of the 1,000 resamples: the
 * intervals must be the same numbers, bit for bit, and the summed path must really be the one taken (no
 * item scored by the rule). The data is random but seeded, with the shapes that make summing delicate:
 * groups of several items, credits of 1/3 and tanh margins, category names that are array indices.
 */
function check(name: string, items: JudgedItem[], score: (sample: readonly JudgedItem[]) => number, summed: SummedRule | undefined, seed = 3): void {
  assert.ok(summed, `${name}: the rule has a summed form`);
  const byRule = bootstrapScores(items, score, { seed });
  const before = bootstrapWork.itemsScoredByRule;
  const bySums = bootstrapScores(items, () => Number.NaN, { seed, summed });
  assert.equal(bootstrapWork.itemsScoredByRule, before, `${name}: no resample scored by the rule`);
  // Every resample's score, not only the two quantiles: a last-bit difference anywhere fails.
  const differ = byRule.findIndex((value, index) => !Object.is(value, bySums[index]));
  assert.equal(differ, -1, `${name}: resample ${differ}: ${bySums[differ]} by sums, ${byRule[differ]} by the rule`);
  assert.equal(bySums.length, 1000);
  assert.ok(new Set(byRule).size > 20, `${name}: the resamples differ`);
  assert.deepEqual(bootstrapInterval(items, () => Number.NaN, { seed, summed }), bootstrapInterval(items, score, { seed }));
}

function ruleCheck(name: string, rule: OfficialRule, items: ScoredItem[], decisions: Decisions): void {
  check(name, judgedItems(items, decisions), (sample) => rule(sample).score, rule.summed);
}

const VERDICTS: Array<Verdict | null> = ["A", "B", "tie", null];

function pairs(count: number, categories: readonly string[], random: () => number, grouped = 0): { items: ScoredItem[]; decisions: Decisions } {
  const items: ScoredItem[] = [];
  const decisions: Decisions = new Map();
  for (let index = 0; index < count; index++) {
    const category = categories[Math.floor(random() * categories.length)];
    // Every `grouped`-th run of three items of one category shares a group (a unit of three).
    const group = grouped > 0 && index % grouped < 3 ? `g${Math.floor(index / grouped)}-${category}` : undefined;
    const item: ScoredItem = { id: `x:${index}`, category: group ? (items.at(-1)?.group === group ? (items.at(-1) as ScoredItem).category : category) : category, label: random() < 0.5 ? "A" : "B", ...(group ? { group } : {}) };
    items.push(item);
    const pick = () => VERDICTS[Math.floor(random() * (random() < 0.7 ? 2 : 4))];
    const orders = random() < 0.5 ? { AB: pick(), BA: pick() } : { AB: pick() };
    decisions.set(item.id, { itemId: item.id, verdict: pick(), status: "ok", orders });
  }
  return { items, decisions };
}

test("the summed bootstrap gives exactly the rule's interval: accuracy rules, JudgeBench, LLMBar, RewardBench", () => {
  const random = seededRandom(41);
  const { items, decisions } = pairs(600, ["easy", "3", "hard", "1", "code"], random, 20);
  for (const undecided of [0, 0.5]) for (const average of ["items", "categories"] as const) ruleCheck(`accuracy ${undecided} ${average}`, accuracyRule({ undecided, average }), items, decisions);
  ruleCheck("judgebench", judgeBenchScore, items, decisions);
  ruleCheck("llmbar", llmBarScore, items, decisions);
  const subsets = [...Object.values(REWARDBENCH_SECTIONS).flatMap((weights) => Object.keys(weights).slice(0, 3)), "not-official"];
  const official = pairs(800, subsets, random, 15);
  ruleCheck("rewardbench", rewardBenchScore, official.items, official.decisions);
  const custom = pairs(300, ["mine", "yours"], random);
  ruleCheck("rewardbench, no official subset", rewardBenchScore, custom.items, custom.decisions);
  // A first category where every item is right: its draws change no sum, and the generator must still
  // step past them for the categories after it.
  const settled = pairs(400, ["solved", "open"], random);
  for (const item of settled.items) if (item.category === "solved") (settled.decisions.get(item.id) as ItemDecision).verdict = item.label as Verdict;
  settled.items.sort((x, y) => (x.category === "solved" ? 0 : 1) - (y.category === "solved" ? 0 : 1));
  ruleCheck("accuracy with a category of equal credits", accuracyRule({ undecided: 0, average: "categories" }), settled.items, settled.decisions);
});

test("the summed bootstrap gives exactly the rule's interval: RewardMATH problems and RM-Bench matrices", () => {
  const random = seededRandom(42);
  const items: ScoredItem[] = [];
  const decisions: Decisions = new Map();
  for (let problem = 0; problem < 150; problem++) {
    const category = ["Algebra", "Geometry", "7"][problem % 3];
    const size = 1 + Math.floor(random() * 9);
    for (let pair = 0; pair < size; pair++) {
      const id = `p${problem}/${pair}`;
      items.push({ id, category, label: "A", group: `p${problem}` });
      decisions.set(id, { itemId: id, verdict: random() < 0.9 ? "A" : random() < 0.5 ? "B" : null, status: "ok", orders: {} });
    }
  }
  ruleCheck("rewardmath", rewardMathScore, items, decisions);
  // Pairs without a problem: each its own problem, and two draws of one are one problem to the rule.
  const alone = items.map((item, index) => (index % 4 === 0 ? { ...item, group: undefined, id: `${item.id}` } : item));
  ruleCheck("rewardmath with ungrouped pairs", rewardMathScore, alone, decisions);

  const matrices: ScoredItem[] = [];
  for (let prompt = 0; prompt < 120; prompt++) {
    const domain = ["chat", "code", "math", "safety"][prompt % 4];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (random() < 0.1) continue; // a cell left out now and then
        const id = `${domain}/${prompt}/${i}${j}`;
        matrices.push({ id, category: domain, label: "A", group: `${domain}/${prompt}`, meta: { i, j } });
        decisions.set(id, { itemId: id, verdict: random() < 0.55 + 0.1 * (i - j) ? "A" : "B", status: "ok", orders: {} });
      }
    }
  }
  ruleCheck("rmbench", rmBenchScore, matrices, decisions);
});

test("the summed bootstrap gives exactly the rule's interval: RewardBench 2 (four-way, ratings with shared top ratings, Ties margins)", () => {
  const random = seededRandom(43);
  const items: ScoredItem[] = [];
  const decisions: Decisions = new Map();
  const rating = () => (random() < 0.1 ? null : 1 + Math.floor(random() * 4) * 3);
  for (let prompt = 0; prompt < 160; prompt++) {
    const group = `rb2:${prompt}`;
    const subset = ["Factuality", "Precise IF", "Math", "Safety", "Focus"][prompt % 5];
    if (prompt % 3 === 0) {
      // Rated answers: ratings drawn from four values, so top ratings are often shared (credits of 1/k).
      for (let answer = 0; answer < 4; answer++) {
        const id = `${group}/${answer}`;
        items.push({ id, category: subset, label: answer === 0 ? "correct" : "incorrect", kind: "rating", group });
        decisions.set(id, { itemId: id, verdict: null, status: "ok", orders: {}, score: rating() } as ItemDecision);
      }
    } else {
      // Four-way picks: one per prompt without a group (the official protocol: a resample that draws it
      // twice counts it once, as the rule's prompts do), or four rotations grouped by the prompt.
      const rotations = prompt % 3 === 1 ? 1 : 4;
      for (let slot = 0; slot < rotations; slot++) {
        const id = `${group}@${slot}`;
        const label = "ABCD"[slot];
        items.push({ id, category: subset, label, kind: "choice", ...(rotations === 4 ? { group } : {}) });
        decisions.set(id, { itemId: id, verdict: random() < 0.1 ? null : (["A", "B", "C", "D"][Math.floor(random() * 4)] as Verdict), status: "ok", orders: {} });
      }
    }
  }
  for (let prompt = 0; prompt < 90; prompt++) {
    const group = `${TIES_SUBSET}/${prompt}`;
    for (const sample of ["ref", "tied"] as const) {
      if (prompt % 7 === 0 && sample === "ref") continue; // a prompt with its tied sample only
      const correct = sample === "ref" ? 1 : 2 + (prompt % 2);
      for (let answer = 0; answer < correct + 2; answer++) {
        const id = `${group}/${sample}/${answer}`;
        items.push({ id, category: TIES_SUBSET, label: answer < correct ? "correct" : "incorrect", kind: "rating", group, meta: { sample } });
        const score = answer < correct ? (prompt % 5 === 0 ? 8 : 5 + Math.floor(random() * 5)) : rating();
        decisions.set(id, { itemId: id, verdict: null, status: "ok", orders: {}, score } as ItemDecision);
      }
    }
  }
  check("rewardbench2", judgedItems(items, decisions), (sample) => rewardBench2Score(sample).score, rewardBench2Summed());
});

test("the summed bootstrap leaves to the rule what it cannot sum exactly: a group across categories, a group named like a copy", () => {
  const items: ScoredItem[] = Array.from({ length: 40 }, (_, index) => ({ id: `u${index}`, category: index % 2 ? "x" : "y", label: "A", ...(index < 4 ? { group: "spans" } : {}) }));
  const decisions: Decisions = new Map(items.map((item, index) => [item.id, { itemId: item.id, verdict: index % 3 ? "A" : "B", status: "ok", orders: {} } as ItemDecision]));
  const hashed = items.slice(4).map((item, index) => ({ ...item, category: "x", group: `p#${index % 9}` }));
  for (const [name, rule, sample] of [
    ["accuracy, a group across categories", accuracyRule({ undecided: 0, average: "categories" }), items],
    ["rewardmath, groups named like a bootstrap copy", rewardMathScore, hashed],
  ] as const) {
    const start = bootstrapWork.itemsScoredByRule;
    const judged = judgedItems(sample, decisions);
    const byRule = bootstrapInterval(judged, (resample) => rule(resample).score, { seed: 1, resamples: 50 });
    const middle = bootstrapWork.itemsScoredByRule;
    const fallback = bootstrapInterval(judged, (resample) => rule(resample).score, { seed: 1, resamples: 50, summed: rule.summed });
    assert.deepEqual(fallback, byRule, name);
    assert.ok(middle - start >= 50 * (sample.length - 3), `${name}: resamples scored by the rule`);
    assert.equal(bootstrapWork.itemsScoredByRule - middle, middle - start, `${name}: the same resamples scored by the rule again`);
  }
});
