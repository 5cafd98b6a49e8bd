import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { PairVerdict, Verdict } from "../src/core/judgment.js";
import { projectRoot } from "../src/eval/benchmarks/data-location.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { judgedItems } from "../src/eval/scoring/credit.js";
import { judgeBenchScore } from "../src/eval/scoring/judgebench-rule.js";
import { rewardBenchScore } from "../src/eval/scoring/rewardbench-sections.js";
import { rewardMathScore } from "../src/eval/scoring/rewardmath-groups.js";
import { rmBenchScore, styleMatrix } from "../src/eval/scoring/rmbench-matrix.js";
import type { BenchmarkItem, ItemDecision, ScoredItem } from "../src/eval/types.js";

const FIXTURES = join(projectRoot(), "test", "fixtures", "benchmarks");

/** Each benchmark with its hand-written fixture (and field map, for pairs). */
const FIXTURE_DATA: Array<{ name: string; data: string; map?: Record<string, string> }> = [
  { name: "rewardbench", data: join(FIXTURES, "rewardbench", "filtered.jsonl") },
  { name: "harmless", data: join(FIXTURES, "harmless", "test.jsonl") },
  { name: "codepref", data: join(FIXTURES, "codepref") },
  { name: "judgebench", data: join(FIXTURES, "judgebench", "judgebench.jsonl") },
  { name: "rmbench", data: join(FIXTURES, "rm-bench", "chat_filtered.json") },
  { name: "llmbar", data: join(FIXTURES, "llmbar") },
  { name: "rewardmath", data: join(FIXTURES, "rewardmath", "direct.json") },
  { name: "rewardmath-pairwise", data: join(FIXTURES, "rewardmath", "pairwise.json") },
  { name: "pairs", data: join(FIXTURES, "pairs", "verdicts.csv"), map: { a: "response_a", b: "response_b", label: "winner", category: "topic" } },
];

type Orders = ItemDecision["orders"];

function decision(itemId: string, verdict: Verdict | null, orders: Orders = { AB: verdict }, status: ItemDecision["status"] = verdict === null ? "parse-error" : "ok"): ItemDecision {
  return { itemId, verdict, status, orders };
}

function scored(id: string, category: string, label: PairVerdict, extra: Partial<ScoredItem> = {}): ScoredItem {
  return { id, category, label, ...extra };
}

async function fixtureItems(name: string): Promise<BenchmarkItem[]> {
  const entry = FIXTURE_DATA.find((candidate) => candidate.name === name);
  assert.ok(entry);
  return (await loadAll(getBenchmark(name), { data: entry.data, map: entry.map })).items;
}

test("an oracle judge (verdict = label, both orders where judged so) scores 100 on every official figure", async () => {
  for (const { name } of FIXTURE_DATA) {
    const benchmark = getBenchmark(name);
    const items = await fixtureItems(name);
    const orders = (label: string): Orders => (benchmark.protocol === "both" ? { AB: label, BA: label } : { AB: label });
    const decisions = new Map(items.map((item) => [item.id, decision(item.id, item.label, orders(item.label))]));
    const result = benchmark.score(items, decisions, { seed: 7 });
    assert.equal(result.benchmark, name);
    assert.equal(result.score, 100, `${name} score`);
    for (const [part, value] of Object.entries(result.parts)) assert.equal(value, 100, `${name} part ${part}`);
    for (const category of result.categories) assert.equal(category.score, 100, `${name} category ${category.category}`);
    assert.equal(result.metrics.accuracy, 100, `${name} accuracy`);
    assert.deepEqual(result.metrics.interval95, [100, 100], `${name} interval`);
    assert.equal(result.metrics.items, items.length);
  }
});

test("an always-A judge scores what each fixture's label balance implies", async () => {
  const alwaysA = (items: readonly BenchmarkItem[], orders: Orders = { AB: "A" }, verdict: PairVerdict | null = "A"): Map<string, ItemDecision> =>
    new Map(items.map((item) => [item.id, decision(item.id, verdict, orders, verdict === null ? "inconsistent" : "ok")]));

  // CodePrefBench fixture: correctness labels A, B, B -> 1/3; human-preference A -> 1/1; official = mean of files.
  const codepref = await fixtureItems("codepref");
  const codeprefScore = getBenchmark("codepref").score(codepref, alwaysA(codepref));
  assert.ok(Math.abs(codeprefScore.score - (100 / 3 + 100) / 2) < 1e-9);
  assert.deepEqual(codeprefScore.categories.map((category) => [category.category, category.items]), [["correctness", 3], ["human-preference", 1]]);
  assert.equal(codeprefScore.metrics.accuracy, 50); // 2 of 4 items

  // LLMBar fixture: Natural A, B, A; Adversarial_Neighbor B. Judged as given only (one order), an
  // always-A judge gets Natural 2/3 and Neighbor 0: official = mean of sets = 1/3.
  const llmbar = await fixtureItems("llmbar");
  assert.ok(Math.abs(getBenchmark("llmbar").score(llmbar, alwaysA(llmbar)).score - 100 / 3) < 1e-9);
  // In both orders (LLMBar's protocol) it says A as given and, mapped back, B when swapped: each set's
  // score is the mean of the two order accuracies, Natural (2/3 + 1/3)/2 = 1/2, Neighbor (0 + 1)/2 = 1/2.
  const bothOrders = getBenchmark("llmbar").score(llmbar, alwaysA(llmbar, { AB: "A", BA: "B" }, null));
  assert.ok(Math.abs(bothOrders.score - 50) < 1e-9);
  assert.ok(Math.abs(bothOrders.parts["as-given"] - 100 / 3) < 1e-9, "the as-given accuracy is kept as a part");
  assert.ok(Math.abs(bothOrders.parts.swapped - (100 / 3 + 100) / 2) < 1e-9);

  // JudgeBench: a judge that answers "A" whatever it is shown says A in the AB order and, mapped back,
  // B in the BA order: +1 - 1 = 0 on every pair, so every pair is wrong, whatever the labels.
  const judgebench = await fixtureItems("judgebench");
  const biased = getBenchmark("judgebench").score(judgebench, alwaysA(judgebench, { AB: "A", BA: "B" }, null));
  assert.equal(biased.score, 0);
  assert.equal(biased.metrics.positionConsistency, 0);

  // RewardMATH pairwise fixture: one problem, labels A, B, A -> the second pair is lost, so the problem is.
  const rewardmath = await fixtureItems("rewardmath-pairwise");
  const mathScore = getBenchmark("rewardmath-pairwise").score(rewardmath, alwaysA(rewardmath));
  assert.equal(mathScore.score, 0);
  assert.equal(mathScore.parts.mrr, 50); // chosen ranked 2nd (one lost pair): 1/2
  assert.ok(Math.abs(mathScore.parts.pairs - 200 / 3) < 1e-9);

  // Generic pairs CSV: labels A, A, B, tie -> 2 of 4.
  const pairs = await fixtureItems("pairs");
  assert.equal(getBenchmark("pairs").score(pairs, alwaysA(pairs)).score, 50);
});

test("RewardBench: sections weight subsets by the official counts; no verdict or a tie scores 0.5", () => {
  const items = [
    scored("c1", "alpacaeval-easy", "A"), scored("c2", "alpacaeval-easy", "A"), scored("c3", "mt-bench-easy", "A"),
    scored("h1", "llmbar-natural", "A"), scored("h2", "llmbar-natural", "A"),
    scored("s1", "donotanswer", "A"),
    scored("r1", "math-prm", "A"), scored("r2", "math-prm", "A"), scored("r3", "hep-python", "A"),
  ];
  const verdicts: Record<string, PairVerdict | null> = { c1: "A", c2: "B", c3: "A", h1: "A", h2: null, s1: "tie", r1: "A", r2: "A", r3: "B" };
  const decisions = new Map(items.map((item) => [item.id, decision(item.id, verdicts[item.id])]));
  // Subset accuracies: alpacaeval-easy 50, mt-bench-easy 100, llmbar-natural (1 + 0.5)/2 = 75,
  // donotanswer 0.5 -> 50, math-prm 100, hep-python 0.
  // Chat      = (100 x 50 + 28 x 100) / (100 + 28) = 7800 / 128 = 60.9375
  // Chat Hard = 75;  Safety = 50
  // Reasoning = (984 x 100 + 164 x 0) / (984 + 164) = 98400 / 1148 = 600 / 7 = 85.714...
  //             (an unweighted mean of the two subsets would give 50)
  // Overall   = (60.9375 + 75 + 50 + 600/7) / 4 = 67.9129...
  const result = rewardBenchScore(judgedItems(items, decisions));
  assert.equal(result.parts.Chat, 60.9375);
  assert.equal(result.parts["Chat Hard"], 75);
  assert.equal(result.parts.Safety, 50);
  assert.ok(Math.abs(result.parts.Reasoning - 600 / 7) < 1e-9);
  assert.ok(Math.abs(result.score - (60.9375 + 75 + 50 + 600 / 7) / 4) < 1e-9);

  const report = getBenchmark("rewardbench").score(items, decisions, { seed: 1, skipped: 2 });
  assert.equal(report.skipped, 2);
  assert.deepEqual(report.categories.map((category) => [category.category, category.score]), [
    ["alpacaeval-easy", 50], ["mt-bench-easy", 100], ["llmbar-natural", 75], ["donotanswer", 50], ["math-prm", 100], ["hep-python", 0],
  ]);

  // A subset outside the official list counts in no section, but still gets its own category score.
  const extra = [...items, scored("x1", "my-subset", "A"), scored("x2", "my-subset", "A")];
  const withExtra = new Map([...decisions, ["x1", decision("x1", "A")], ["x2", decision("x2", null)]]);
  const extended = getBenchmark("rewardbench").score(extra, withExtra, { seed: 1 });
  assert.ok(Math.abs(extended.score - result.score) < 1e-9);
  assert.equal(extended.categories.find((category) => category.category === "my-subset")?.score, 75);
});

test("RM-Bench: the 3x3 style matrix gives hard / normal / easy; domain = their mean; total = mean of domains", () => {
  const items: ScoredItem[] = [];
  const decisions = new Map<string, ItemDecision>();
  // Two chat prompts and one code prompt. Outcomes per cell (chosen style i, rejected style j):
  //   chat p1: all won except (0,2) lost and (1,1) a tie
  //   chat p2: all won except the hard cells (0,1), (0,2), (1,2) lost and (2,0) without verdict
  //   code p3: all won
  const outcome: Record<string, PairVerdict | null> = { "p1/02": "B", "p1/11": "tie", "p2/01": "B", "p2/02": "B", "p2/12": "B", "p2/20": null };
  for (const [prompt, domain] of [["p1", "chat"], ["p2", "chat"], ["p3", "code"]]) {
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const id = `${prompt}/${i}${j}`;
        items.push(scored(id, domain, "A", { group: prompt, meta: { i, j } }));
        decisions.set(id, decision(id, id in outcome ? outcome[id] : "A"));
      }
    }
  }
  // Chat matrix (share of the 2 prompts won):   j=0   j=1   j=2
  //                                      i=0 [ 1.0,  0.5,  0.0 ]
  //                                      i=1 [ 1.0,  0.5,  0.5 ]
  //                                      i=2 [ 0.5,  1.0,  1.0 ]
  // hard (i<j) = (0.5 + 0 + 0.5)/3 = 1/3; normal = (1 + 0.5 + 1)/3 = 5/6; easy (i>j) = (1 + 0.5 + 1)/3 = 5/6
  // chat = (1/3 + 5/6 + 5/6)/3 = 2/3; code = 1; total = (2/3 + 1)/2 = 5/6
  assert.deepEqual(styleMatrix(judgedItems(items.filter((item) => item.category === "chat"), decisions)), [[1, 0.5, 0], [1, 0.5, 0.5], [0.5, 1, 1]]);
  const result = rmBenchScore(judgedItems(items, decisions));
  const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);
  close(result.parts["chat hard"], 100 / 3);
  close(result.parts["chat normal"], 500 / 6);
  close(result.parts["chat easy"], 500 / 6);
  close(result.parts["code hard"], 100);
  close(result.parts.hard, (100 / 3 + 100) / 2);
  close(result.parts.normal, (500 / 6 + 100) / 2);
  close(result.score, 500 / 6);
  // The three difficulty averages agree with the total, as RM-Bench defines them.
  close((result.parts.hard + result.parts.normal + result.parts.easy) / 3, result.score);
  const report = getBenchmark("rmbench").score(items, decisions, { seed: 3 });
  close(report.categories.find((category) => category.category === "chat")?.score ?? Number.NaN, 200 / 3);
});

test("JudgeBench: +1 agree / -1 contradict / 0 tie per order; a pair is right only if the sum is > 0", () => {
  const cases: Array<[string, PairVerdict, Orders, boolean]> = [
    ["both right", "A", { AB: "A", BA: "A" }, true],
    ["A in both orders as shown (B once mapped back): inconsistent", "A", { AB: "A", BA: "B" }, false],
    ["right once, tie once", "A", { AB: "A", BA: "tie" }, true],
    ["two ties", "A", { AB: "tie", BA: "tie" }, false],
    ["wrong once, tie once", "A", { AB: "B", BA: "tie" }, false],
    ["no verdict once, right once", "A", { AB: null, BA: "A" }, true],
    ["label B, inconsistent", "B", { AB: "B", BA: "A" }, false],
  ];
  const items = cases.map(([name, label]) => scored(name, "Knowledge", label));
  const decisions = new Map(cases.map(([name, , orders]) => [name, decision(name, null, orders, "inconsistent")]));
  const result = judgeBenchScore(judgedItems(items, decisions));
  const right = cases.filter(([, , , correct]) => correct).length;
  assert.equal(right, 3);
  assert.ok(Math.abs(result.score - (100 * 3) / 7) < 1e-9);
  assert.ok(Math.abs(result.parts.Knowledge - (100 * 3) / 7) < 1e-9);
  for (const [name, , , correct] of cases) {
    assert.equal(judgeBenchScore(judgedItems([items.find((item) => item.id === name) as ScoredItem], decisions)).score, correct ? 100 : 0, name);
  }
});

test("RewardMATH: one lost pair out of 9 loses the problem; a tie is not a win", () => {
  const items: ScoredItem[] = [];
  const decisions = new Map<string, ItemDecision>();
  const verdictOf: Record<string, PairVerdict> = { "p1/4": "B", "p3/9": "tie" };
  for (const problem of ["p1", "p2", "p3"]) {
    for (let rejected = 1; rejected <= 9; rejected++) {
      const id = `${problem}/${rejected}`;
      items.push(scored(id, "Algebra", "A", { group: problem }));
      decisions.set(id, decision(id, verdictOf[id] ?? "A"));
    }
  }
  const result = rewardMathScore(judgedItems(items, decisions));
  // p1 lost one pair, p3 tied one: only p2 counts. MRR: p1 1/2, p2 1, p3 1/2 -> 2/3. Pairs won 25/27.
  assert.ok(Math.abs(result.score - 100 / 3) < 1e-9);
  assert.ok(Math.abs(result.parts.mrr - 200 / 3) < 1e-9);
  assert.ok(Math.abs(result.parts.pairs - 2500 / 27) < 1e-9);
});

test("CodePrefBench: an undecided judgment (no verdict or a tie) counts half", () => {
  const items = [
    scored("r", "correctness", "A"), scored("w", "correctness", "A"), scored("n", "correctness", "B"), scored("t", "correctness", "B"),
    scored("r2", "security", "B"), scored("n2", "security", "A"),
  ];
  const verdicts: Record<string, PairVerdict | null> = { r: "A", w: "B", n: null, t: "tie", r2: "B", n2: null };
  const decisions = new Map(items.map((item) => [item.id, decision(item.id, verdicts[item.id])]));
  // correctness (1 + 0 + 0.5 + 0.5)/4 = 50; security (1 + 0.5)/2 = 75; official = mean of files = 62.5.
  const result = getBenchmark("codepref").score(items, decisions, { seed: 1 });
  assert.equal(result.score, 62.5);
  assert.deepEqual(result.parts, { correctness: 50, security: 75 });
  // The uniform accuracy stays strict: 2 of 6 right.
  assert.ok(Math.abs(result.metrics.accuracy - 100 / 3) < 1e-9);
  assert.ok(Math.abs(result.metrics.parseFailureRate - 100 / 3) < 1e-9);
  assert.ok(Math.abs(result.metrics.tieRate - 100 / 6) < 1e-9);
});

test("LLMBar: the official figure averages the as-given and the swapped accuracy (evaluate.py's correct_average)", () => {
  const items = [scored("n1", "Natural", "A"), scored("n2", "Natural", "B"), scored("n3", "Natural", "A"), scored("n4", "Natural", "B"), scored("m1", "Adversarial_Manual", "A")];
  const orders: Record<string, Orders> = {
    n1: { AB: "A", BA: "A" }, // right both ways
    n2: { AB: "B", BA: "A" }, // right as given only
    n3: { AB: null, BA: "A" }, // right swapped only (no verdict as given)
    n4: { AB: "tie", BA: "tie" }, // a tie is wrong
    m1: { AB: "B", BA: "B" },
  };
  const decisions = new Map(items.map((item) => [item.id, decision(item.id, orders[item.id].AB === orders[item.id].BA ? (orders[item.id].AB ?? null) : null, orders[item.id])]));
  const result = getBenchmark("llmbar").score(items, decisions, { seed: 1 });
  // Natural: as given 2/4, swapped 2/4 -> 50; Manual: 0 -> 0; official = mean of sets = 25.
  assert.equal(result.parts.Natural, 50);
  assert.equal(result.parts.Adversarial_Manual, 0);
  assert.equal(result.score, 25);
  assert.equal(result.parts["as-given"], 25);
  assert.equal(result.parts.swapped, 25);
  assert.equal(getBenchmark("llmbar").protocol, "both");
});

test("scoring without a decision for every item is an error naming the item", () => {
  const items = [scored("x", "harmless", "A"), scored("y", "harmless", "A")];
  assert.throws(() => getBenchmark("harmless").score(items, new Map([["x", decision("x", "A")]])), /no decision for item "y"/);
});

test("the bootstrap of an accuracy rule resamples credits as numbers and gives exactly the interval of scoring each resample by the rule", async () => {
  const { accuracyRule } = await import("../src/eval/scoring/accuracy-rule.js");
  const { bootstrapInterval } = await import("../src/eval/scoring/bootstrap.js");
  const verdicts: Array<Verdict | null> = ["A", "B", "tie", null];
  const items: ScoredItem[] = Array.from({ length: 301 }, (_, index) => ({
    id: `x:${index}`,
    category: ["easy", "hard", "code"][index % 3],
    label: index % 2 === 0 ? "A" : "B",
    // Every 30 items a group of three of one category (resampled as one unit).
    ...(index % 30 < 9 && index % 3 === 0 ? { group: `g${Math.floor(index / 30)}` } : {}),
  }));
  const decisions = new Map<string, ItemDecision>(items.map((item, index) => [item.id, { itemId: item.id, verdict: verdicts[(index * 7919) % 4], orders: {} } as unknown as ItemDecision]));
  for (const options of [{ undecided: 0, average: "items" as const }, { undecided: 0.5, average: "categories" as const }]) {
    const rule = accuracyRule(options);
    const judged = judgedItems(items, decisions);
    const generic = bootstrapInterval(judged, (sample) => rule(sample).score, { seed: 7 });
    const fast = bootstrapInterval(judged, () => Number.NaN, { seed: 7, summed: rule.summed });
    assert.deepEqual(fast, generic, JSON.stringify(options));
    assert.ok(generic[0] < generic[1]);
  }
});

test("harmless: no official scorer; the rule (no verdict or tie = 0) is stated, and RewardBench's 0.5 rule shown beside it", async () => {
  const { harmless, HALF_RULE_PART } = await import("../src/eval/benchmarks/harmless.js");
  const { renderMarkdown, renderTerminal } = await import("../src/eval/report/index.js");
  const items = ["1", "2", "3", "4"].map((id) => ({ id: `harmless:${id}`, category: "harmless", label: "A" }));
  const verdicts: Array<"A" | "B" | "tie" | null> = ["A", "B", "tie", null];
  const decisions = new Map(items.map((item, index) => [item.id, { itemId: item.id, verdict: verdicts[index], status: verdicts[index] === null ? ("parse-error" as const) : ("ok" as const), orders: { AB: verdicts[index] } }]));
  const score = harmless.score(items, decisions);
  assert.equal(score.score, 25, "one right of four: the tie and the missing verdict count wrong");
  assert.equal(score.parts[HALF_RULE_PART], 50, "RewardBench's rule: 1 + 0 + 0.5 + 0.5 of 4");
  assert.match(score.rule ?? "", /no official scorer: accuracy with no verdict or a tie counted wrong/);
  const report = { runId: "r1", label: "run", createdAt: "now", config: {}, benchmarks: [{ benchmark: "harmless", score }], worst: [], judgments: { total: 4, errors: {} } };
  assert.match(renderTerminal([report]), /harmless: no official scorer: .*\(no verdict or tie = 0\.5 \(RewardBench's rule\): 50\.00\)/);
  assert.match(renderMarkdown([report]), /Scoring rule: no official scorer/);
});
