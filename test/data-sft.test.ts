/**
 * `j1 data sft` as a library, on the real engine (node-llama-cpp) with the tiny model, whose behaviour is
 * known: greedy thinking "Let me compare both." (+ ", check again." after each injected "Wait"), and the
 * verdict "A" in the order it sees (P(A | A or B) = 0.73 at temperature 1). So with both orders and a
 * label we know exactly which traces match: label A -> the AB runs (raw A = A) are accepted and the BA
 * runs (raw A = the pair's B) rejected; label B -> the other way round.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_SCALING } from "../src/core/budget.js";
import type { TraceSpan } from "../src/core/trace.js";
import { DEFAULT_PAIRWISE_TEMPLATE } from "../src/core/template.js";
import { DEFAULT_REFLECTION_RULE, findReflection, markerPattern, parseMarkers } from "../src/data/reflection.js";
import type { PreferencePair } from "../src/data/rl-pairs.js";
import { sharegptRow, trlRow, openRlhfSftRow, writeDatasetInfo } from "../src/data/sft-export.js";
import { balanceAnswers, selectExamples } from "../src/data/sft-filters.js";
import { planOutputs, writeOutputs } from "../src/data/sft-outputs.js";
import { buildSftData, type SftBuildResult, type SftSettings } from "../src/data/sft-run.js";
import { lengthHistogram, renderSftStats } from "../src/data/sft-stats.js";
import type { SftExample } from "../src/data/sft-trace.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import { openRunStore } from "../src/store/run-store.js";
import type { RunStore } from "../src/store/types.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const work = mkdtempSync(path.join(os.tmpdir(), "j1-data-sft-"));
const START = TINY_TRAJECTORY.start.join("");
const AFTER_WAIT = TINY_TRAJECTORY.afterWait.join("");

const PAIRS: PreferencePair[] = [
  { id: "p1", question: "What is 2+2?", a: "4", b: "5", label: "A" },
  { id: "p2", question: "Capital of France?", a: "Lyon", b: "Paris", label: "B", category: "geography" },
  { id: "p3", question: "Say hello.", a: "Hello!", b: "Go away.", label: "A" },
];

type SettingsChange = Partial<Omit<SftSettings, "filters" | "scaling">> & { filters?: Partial<SftSettings["filters"]>; scaling?: Partial<SftSettings["scaling"]> };

function settings(change: SettingsChange = {}): SftSettings {
  const base: SftSettings = {
    kind: "data-sft",
    source: { test: true },
    engine: { engine: "llamacpp", model: "tiny" },
    template: DEFAULT_PAIRWISE_TEMPLATE,
    chatFormat: "chatml",
    scaling: { ...DEFAULT_SCALING, waits: 0 },
    samples: 2,
    temperature: 0,
    seed: 0,
    reflection: DEFAULT_REFLECTION_RULE,
    filters: { requireReflection: false, keepForced: false, dedup: false, balance: false },
    output: {},
  };
  return { ...base, ...change, scaling: { ...base.scaling, ...change.scaling }, filters: { ...base.filters, ...change.filters } };
}

let engine: LlamaCppEngine;
let storeCount = 0;
const stores: RunStore[] = [];

function freshStore(): RunStore {
  const store = openRunStore(path.join(work, `runs-${storeCount++}.sqlite`));
  stores.push(store);
  return store;
}

async function build(change: SettingsChange = {}, options: { pairs?: PreferencePair[]; store?: RunStore; resumeRunId?: string; signal?: AbortSignal; onTick?: () => void } = {}): Promise<SftBuildResult> {
  const pairs = options.pairs ?? PAIRS;
  return buildSftData({
    settings: settings(change),
    store: options.store ?? freshStore(),
    engine,
    pairs: async function* () {
      yield* pairs;
    },
    resumeRunId: options.resumeRunId,
    label: "test",
    signal: options.signal,
    progress: { setTotal: () => undefined, tick: () => options.onTick?.() },
  });
}

before(async () => {
  engine = await tinyEngine({ sequences: 4 });
});

after(async () => {
  for (const store of stores) store.close();
  await engine.dispose();
});

describe("data sft: rejection sampling on the tiny model", () => {
  it("accepts exactly the traces whose verdict matches the label, in both orders", async () => {
    const result = await build();
    assert.equal(result.interrupted, false);
    const selection = result.selection!;
    // 3 pairs x 2 orders x 2 samples; greedy says raw A everywhere, so only the order showing the better
    // response first matches.
    assert.equal(result.stats!.candidates, 12);
    assert.equal(result.stats!.verdicts.matched, 6);
    assert.equal(result.stats!.verdicts.mismatched, 6);
    assert.equal(result.stats!.acceptanceRate, 0.5);
    assert.deepEqual(
      selection.examples.map((example) => example.id),
      ["p1:AB:0", "p1:AB:1", "p2:BA:0", "p2:BA:1", "p3:AB:0", "p3:AB:1"],
    );
    for (const example of selection.examples) {
      assert.equal(example.verdict, "A", "the completion's verdict is in the order the model saw");
      assert.equal(example.completion, `<think>\n${START}</think>[[A]]`);
      assert.ok(example.promptText.endsWith("<|im_start|>assistant\n"), "the <think> prefill moved to the completion");
      assert.ok(example.promptText.includes(example.user) && example.promptText.includes(example.system));
    }
    // p2 (label B) was accepted in the BA order: Paris is shown first.
    const p2 = selection.examples.find((example) => example.pairId === "p2")!;
    assert.match(p2.user, /\[Response A\]\nParis\n/);
    assert.equal(p2.category, "geography");
  });

  it("reflection: waits 0 has none; waits 1 reflects through the continued wait, kept as if the model wrote it", async () => {
    const none = await build({ filters: { requireReflection: true } });
    assert.equal(none.stats!.reflectionRate, 0);
    assert.equal(none.stats!.examples, 0);
    assert.deepEqual(none.stats!.stages.find((stage) => stage.stage === "reflection"), { stage: "reflection", kept: 0 });

    const waited = await build({ scaling: { waits: 1 }, filters: { requireReflection: true } });
    assert.equal(waited.stats!.reflectionRate, 1);
    assert.equal(waited.stats!.examples, 6);
    for (const example of waited.selection!.examples) {
      assert.equal(example.thinking, `${START}Wait${AFTER_WAIT}`);
      assert.equal(example.completion, `<think>\n${START}Wait${AFTER_WAIT}</think>[[A]]`);
      assert.deepEqual(example.reflection, { reflective: true, markers: [], continuedWaits: 1 });
    }

    // Injected waits not counted: the default markers are not in the generated text ("Wait" was injected).
    const strict = await build({ scaling: { waits: 1 }, filters: { requireReflection: true }, reflection: { markers: ["Wait"], countInjectedWaits: false } });
    assert.equal(strict.stats!.reflectionRate, 0);
    assert.equal(strict.stats!.examples, 0);

    // A marker the model generated itself counts either way.
    const marked = await build({ scaling: { waits: 1 }, filters: { requireReflection: true }, reflection: { markers: ["check again"], countInjectedWaits: false } });
    assert.equal(marked.stats!.examples, 6);
    assert.deepEqual(marked.selection!.examples[0].reflection.markers, ["check again"]);
  });

  it("dedup removes identical traces (greedy samples are identical)", async () => {
    const result = await build({ samples: 3, filters: { dedup: true } });
    assert.equal(result.stats!.verdicts.matched, 9);
    assert.deepEqual(
      result.selection!.examples.map((example) => example.id),
      ["p1:AB:0", "p2:BA:0", "p3:AB:0"],
    );
    assert.deepEqual(result.stats!.stages.find((stage) => stage.stage === "dedup"), { stage: "dedup", kept: 3 });
  });

  it("balance gives equal [[A]] and [[B]] answers, dropping the surplus by seed", async () => {
    // Greedy, every answer is [[A]]: balance leaves nothing, and says so.
    const greedy = await build({ filters: { balance: true } });
    assert.deepEqual(greedy.stats!.balance, { before: { A: 6, B: 0 }, after: { A: 0, B: 0 } });

    // Sampling at 0.7 the tiny model sometimes says B: accepted when B is the right position.
    const pairs = Array.from({ length: 6 }, (_, index) => ({ ...PAIRS[index % 3], id: `s${index}` }));
    const sampled = await build({ samples: 4, temperature: 0.7, seed: 7, filters: { balance: true } }, { pairs });
    const { before: counts, after: balanced } = sampled.stats!.balance;
    assert.ok(counts.A > counts.B && counts.B > 0, JSON.stringify(counts));
    assert.deepEqual(balanced, { A: counts.B, B: counts.B });
    const examples = sampled.selection!.examples;
    assert.equal(examples.filter((example) => example.verdict === "A").length, examples.filter((example) => example.verdict === "B").length);
    // A [[B]] answer is right only where the better response was shown second.
    for (const example of examples) {
      const pair = pairs.find((candidate) => candidate.id === example.pairId)!;
      const shownFirst = example.order === "AB" ? "A" : "B";
      assert.equal(example.verdict === "A" ? shownFirst : shownFirst === "A" ? "B" : "A", pair.label);
    }
    // The same seed drops the same ones.
    const again = await build({ samples: 4, temperature: 0.7, seed: 7, filters: { balance: true } }, { pairs });
    assert.deepEqual(again.selection!.examples.map((example) => example.id), examples.map((example) => example.id));
  });

  it("length limits: completion tokens, thinking characters, minimum thinking tokens", async () => {
    const all = await build({ scaling: { waits: 1 } });
    const example = all.selection!.examples[0];
    assert.equal(all.stats!.completionLength.unit, "tokens");
    assert.equal(example.completionLength, await engine.countTokens(example.completion));
    assert.equal(example.thinkingTokens, TINY_TRAJECTORY.start.length + 1 + TINY_TRAJECTORY.afterWait.length);

    const count = async (filters: SettingsChange["filters"]) => (await build({ scaling: { waits: 1 }, filters })).stats!.examples;
    assert.equal(await count({ maxTokens: example.completionLength }), 6);
    assert.equal(await count({ maxTokens: example.completionLength - 1 }), 0);
    assert.equal(await count({ maxThinkingChars: example.thinking.length }), 6);
    assert.equal(await count({ maxThinkingChars: example.thinking.length - 1 }), 0);
    assert.equal(await count({ minThinkingTokens: example.thinkingTokens }), 6);
    assert.equal(await count({ minThinkingTokens: example.thinkingTokens + 1 }), 0);
  });

  it("a forced end (the cap) drops the trace unless kept; kept, the forced </think> reads as the model's", async () => {
    const capped = await build({ scaling: { maxThinkingTokens: 3 } });
    assert.equal(capped.stats!.forcedEnds, 6);
    assert.equal(capped.stats!.examples, 0);
    const kept = await build({ scaling: { maxThinkingTokens: 3 }, filters: { keepForced: true } });
    assert.equal(kept.stats!.examples, 6);
    assert.equal(kept.selection!.examples[0].completion, "<think>\nLet me compare</think>[[A]]");
    assert.equal(kept.selection!.examples[0].forcedEnd, true);
  });
});

describe("data sft: resumable through the run store", () => {
  async function exportAll(result: SftBuildResult, dir: string): Promise<Record<string, string>> {
    const plan = planOutputs({ outDir: dir, datasetName: "j1_sft", openRlhfInput: "text", force: false });
    const files = await writeOutputs(plan, result.selection!.examples, result.stats!);
    return Object.fromEntries(files.map((file) => [path.basename(file), readFileSync(file, "utf8")]));
  }

  it("an interrupted run, resumed, writes the same files as an uninterrupted one; nothing is judged twice", async () => {
    const change: SettingsChange = { samples: 3, temperature: 0.7, seed: 11, scaling: { waits: 1 }, filters: { dedup: true, balance: true } };
    const whole = await build(change);
    const expected = await exportAll(whole, path.join(work, "whole"));

    const store = freshStore();
    const controller = new AbortController();
    const partial = await build(change, { store, signal: controller.signal, onTick: () => controller.abort() });
    assert.equal(partial.interrupted, true);
    assert.equal(partial.judged, 1, "the worker stops after its first pair");
    assert.equal(store.getRun(partial.runId).status, "interrupted");

    const resumed = await build(change, { store, resumeRunId: partial.runId });
    assert.equal(resumed.interrupted, false);
    assert.deepEqual([resumed.alreadyDone, resumed.judged, resumed.reused], [1, 2, 0]);
    assert.deepEqual(await exportAll(resumed, path.join(work, "resumed")), expected);
    assert.equal(store.getRun(partial.runId).status, "done");

    // Another run in the same store with the same settings reuses every judgment by key.
    const reused = await build(change, { store });
    assert.deepEqual([reused.judged, reused.reused], [0, 3]);
    assert.deepEqual(await exportAll(reused, path.join(work, "reused")), expected);
  });
});

describe("data sft: exports read back as each trainer reads them", () => {
  let examples: SftExample[];
  before(async () => {
    examples = (await build({ scaling: { waits: 1 } })).selection!.examples;
  });

  const readJsonl = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, any>);

  it("OpenRLHF: input text + output completion, or messages for --apply_chat_template", async () => {
    const dir = path.join(work, "openrlhf");
    for (const input of ["text", "messages"] as const) {
      const file = path.join(dir, `${input}.jsonl`);
      await writeOutputs(planOutputs({ out: file, format: "openrlhf", datasetName: "x", openRlhfInput: input, force: false }), examples, (await build()).stats!);
      const rows = readJsonl(file);
      assert.equal(rows.length, examples.length);
      rows.forEach((row, index) => {
        const example = examples[index];
        if (input === "text") {
          assert.equal(typeof row.input, "string");
          // What OpenRLHF trains on: prompt + response, one text, the prompt exactly as j1 renders it.
          assert.equal(row.input + row.output, `${example.promptText}<think>\n${START}Wait${AFTER_WAIT}</think>[[A]]`);
        } else {
          assert.deepEqual(row.input.map((message: { role: string }) => message.role), ["system", "user"]);
          assert.deepEqual(row.output, [{ role: "assistant", content: example.completion }]);
        }
        assert.deepEqual([row.id, row.pair, row.order, row.verdict, row.reflective, row.waits], [example.id, example.pairId, example.order, "A", true, 1]);
      });
    }
  });

  it("LLaMA-Factory sharegpt: system turn first, then human/gpt alternating; dataset_info.json entry merged", async () => {
    const dir = path.join(work, "sharegpt");
    const infoFile = path.join(dir, "dataset_info.json");
    await writeOutputs(planOutputs({ outDir: dir, format: "sharegpt", datasetName: "mine", openRlhfInput: "text", force: false }), examples, (await build()).stats!);
    for (const row of readJsonl(path.join(dir, "sft-sharegpt.jsonl"))) {
      assert.deepEqual(Object.keys(row), ["conversations"]);
      const turns = row.conversations as Array<{ from: string; value: string }>;
      // LLaMA-Factory's sharegpt rule: an optional leading system turn, then human at odd, gpt at even
      // positions, an even number of turns, the last one the response.
      const [first, ...rest] = turns;
      assert.equal(first.from, "system");
      assert.equal(rest.length % 2, 0);
      rest.forEach((turn, index) => assert.equal(turn.from, index % 2 === 0 ? "human" : "gpt"));
      for (const turn of turns) assert.equal(typeof turn.value, "string");
      assert.match(rest[rest.length - 1].value, /^<think>\n[\s\S]*<\/think>\[\[[AB]\]\]$/);
    }
    const info = JSON.parse(readFileSync(infoFile, "utf8"));
    assert.deepEqual(info.mine, { file_name: "sft-sharegpt.jsonl", formatting: "sharegpt", columns: { messages: "conversations" }, tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt", system_tag: "system" } });
    // An existing dataset_info.json keeps its other datasets.
    writeFileSync(infoFile, JSON.stringify({ alpaca_en: { file_name: "alpaca.json" } }));
    await writeDatasetInfo(infoFile, "mine", "sft-sharegpt.jsonl");
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(infoFile, "utf8"))), ["alpaca_en", "mine"]);
  });

  it("TRL: messages with system, user, assistant", async () => {
    const file = path.join(work, "trl.jsonl");
    await writeOutputs(planOutputs({ out: file, format: "trl", datasetName: "x", openRlhfInput: "text", force: false }), examples, (await build()).stats!);
    const rows = readJsonl(file);
    assert.equal(rows.length, examples.length);
    rows.forEach((row, index) => {
      assert.deepEqual(Object.keys(row), ["messages"]);
      assert.deepEqual(row.messages.map((message: { role: string }) => message.role), ["system", "user", "assistant"]);
      for (const message of row.messages) assert.equal(typeof message.content, "string");
      assert.equal(row.messages[2].content, examples[index].completion);
    });
    assert.deepEqual(trlRow(examples[0]).messages.map((message) => message.content), sharegptRow(examples[0]).conversations.map((turn) => turn.value));
    assert.equal(openRlhfSftRow(examples[0], "text").output, examples[0].completion);
  });

  it("refuses to overwrite unless forced, before writing anything", async () => {
    const file = path.join(work, "exists.jsonl");
    writeFileSync(file, "keep me\n");
    const plan = planOutputs({ out: file, format: "trl", datasetName: "x", openRlhfInput: "text", force: false });
    await assert.rejects(writeOutputs(plan, examples, (await build()).stats!), /exists already \(use --force/);
    assert.equal(readFileSync(file, "utf8"), "keep me\n");
    assert.throws(() => planOutputs({ out: file, format: "all", datasetName: "x", openRlhfInput: "text", force: false }), /--output writes one format/);
  });
});

describe("data sft: pure parts", () => {
  const span = (source: TraceSpan["source"], text: string, role?: TraceSpan["role"]): TraceSpan => ({ source, text, tokens: 1, role });

  it("markers match whole words in any case, only in generated text", () => {
    assert.ok(markerPattern("Wait").test("Hmm. wait, no."));
    assert.ok(!markerPattern("Wait").test("I await the answer"));
    assert.ok(!markerPattern("Wait").test("waiting"));
    assert.ok(markerPattern("let me re-check").test("Let Me Re-Check that."));
    assert.deepEqual(parseMarkers(" Wait, let me re-check ,,on second thought"), ["Wait", "let me re-check", "on second thought"]);

    const rule = { markers: ["Wait", "double-check"], countInjectedWaits: false };
    assert.deepEqual(findReflection([span("generated", "A is right."), span("injected", "Wait", "wait"), span("generated", "...")], rule), { reflective: false, markers: [], continuedWaits: 0 });
    assert.deepEqual(findReflection([span("generated", "Hmm, wait. Let me double-check.")], rule), { reflective: true, markers: ["Wait", "double-check"], continuedWaits: 0 });
    // A wait answered by stopping at once (or by punctuation alone) is no reflection.
    const withWaits = { ...rule, countInjectedWaits: true };
    assert.equal(findReflection([span("generated", "A."), span("injected", "Wait", "wait"), span("generated", " ...")], withWaits).reflective, false);
    assert.equal(findReflection([span("generated", "A."), span("injected", "Wait", "wait"), span("generated", ", B is shorter.")], withWaits).continuedWaits, 1);
  });

  it("balance keeps input order and drops by seeded rank", () => {
    const make = (id: string, verdict: "A" | "B") => ({ id, verdict }) as SftExample;
    const examples = [make("a1", "A"), make("b1", "B"), make("a2", "A"), make("a3", "A"), make("b2", "B"), make("a4", "A")];
    const kept = balanceAnswers(examples, 3);
    assert.equal(kept.filter((example) => example.verdict === "A").length, 2);
    assert.deepEqual(kept.filter((example) => example.verdict === "B").map((example) => example.id), ["b1", "b2"]);
    assert.deepEqual(kept.map((example) => example.id), examples.map((example) => example.id).filter((id) => kept.some((example) => example.id === id)));
    assert.deepEqual(balanceAnswers(examples, 3), kept);
    assert.notDeepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => balanceAnswers(examples, seed).map((example) => example.id).join()),
      Array(8).fill(kept.map((example) => example.id).join()),
      "different seeds drop different examples",
    );
    assert.equal(selectExamples([], { requireReflection: false, keepForced: false, dedup: true, balance: true, seed: 0 }).examples.length, 0);
  });

  it("histogram bins cover every length once; the terminal report draws bars", () => {
    const bins = lengthHistogram([10, 11, 12, 19, 40, 40, 41]);
    assert.equal(bins.reduce((sum, bin) => sum + bin.count, 0), 7);
    assert.equal(bins[0].from, 10);
    assert.ok(bins[bins.length - 1].to > 41);
    assert.deepEqual(lengthHistogram([]), []);
    assert.deepEqual(lengthHistogram([5, 5]), [{ from: 5, to: 6, count: 2 }]);
  });

  it("the stats render as text with a bar per bin", async () => {
    const result = await build({ scaling: { waits: 1 }, filters: { dedup: true } });
    const text = renderSftStats(result.stats!);
    assert.match(text, /acceptance \(verdict = label\) 50\.0%/);
    assert.match(text, /reflection among accepted 100\.0%/);
    assert.match(text, /after dedup\s+3/);
    assert.match(text, /│█+ 3/);
  });
});
