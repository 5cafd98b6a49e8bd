import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { J1Error } from "../src/core/errors.js";
import { DEFAULT_POINTWISE_TEMPLATE } from "../src/core/template.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import type { Judgment } from "../src/core/judgment.js";
import type { BenchmarkItem } from "../src/eval/types.js";
import { placement, toItemLetters } from "../src/jobs/choice-placement.js";
import { buildItemPlan, passesFor, templateFor, type JudgingOptions, type PlannedItem } from "../src/jobs/item-plan.js";
import { runJudgingJob, type JobOptions } from "../src/jobs/judging-job.js";
import { evalSettingsOf, sftSettingsOf } from "../src/jobs/run-settings.js";
import { SessionBudget } from "../src/jobs/session-budget.js";
import { namedPromptFormat } from "../src/judge/prompt-format.js";
import { openRunStore } from "../src/store/run-store.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../src/store/schema.js";
import type { RunStore } from "../src/store/types.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { startFaultServer } from "./helpers/fault-server.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const work = mkdtempSync(path.join(os.tmpdir(), "j1-job-"));

/** Two pairs, two ratings and a four-way choice: one run of every kind. */
const ITEMS: BenchmarkItem[] = [
  { id: "p1", benchmark: "mix", category: "pairs", question: "2+2?", a: "4", b: "5", label: "A" },
  { id: "p2", benchmark: "mix", category: "pairs", question: "Capital of France?", a: "Lyon", b: "Paris", label: "B" },
  { kind: "rating", id: "r1", benchmark: "mix", category: "ratings", question: "2+2?", response: "4", label: "correct", group: "q1" },
  { kind: "rating", id: "r2", benchmark: "mix", category: "ratings", question: "2+2?", response: "5", label: "incorrect", group: "q1" },
  { kind: "choice", id: "c1", benchmark: "mix", category: "choices", question: "Best colour word?", responses: ["red", "blue", "green", "grey"], label: "A" },
];

const JUDGING: JudgingOptions = { scaling: { waits: 1 }, samples: 1, swap: false, allowTie: false, temperature: 0, seed: 7 };

function jobOptions(store: RunStore, engine: LlamaCppEngine, extra: Partial<JobOptions<PlannedItem>> = {}): JobOptions<PlannedItem> {
  return {
    store,
    run: { kind: "eval", benchmark: "mix", label: "mix", settings: { test: true } },
    items: async function* () {
      for (const item of ITEMS) yield { item, protocol: item.kind === "choice" ? "shuffle" : "as-is" };
    },
    scored: (planned) => ({ id: planned.item.id, category: planned.item.category, label: planned.item.label, kind: planned.item.kind }),
    plan: async () => buildItemPlan({ engine, format: namedPromptFormat("chatml"), options: JUDGING }),
    ...extra,
  };
}

describe("the judging job (real engine, real SQLite)", () => {
  let engine: LlamaCppEngine;
  before(async () => {
    engine = await tinyEngine({ sequences: 2 });
  });
  after(async () => {
    await engine.dispose();
  });

  it("judges pairs, ratings and a choice in one run, each kind its own way, and a rerun reuses every judgment by key", async () => {
    const store = openRunStore(path.join(work, "mix.sqlite"));
    try {
      const events: Array<{ id: string; outcome: string }> = [];
      const first = await runJudgingJob(jobOptions(store, engine, { onItem: ({ item, outcome }) => void events.push({ id: item.item.id, outcome }) }));
      assert.deepEqual([first.items, first.judged, first.reused, first.alreadyDone, first.interrupted], [5, 5, 0, 0, false]);
      assert.deepEqual(events.map((event) => event.id).sort(), ["c1", "p1", "p2", "r1", "r2"]);
      const decisions = store.decisions(first.runId, "final");
      assert.equal(store.judgment(first.runId, "p1", "final")?.kind, "pairwise");
      for (const id of ["r1", "r2"]) {
        const rating = store.judgment(first.runId, id, "final");
        assert.equal(rating?.kind, "pointwise");
        assert.ok(Number.isInteger(rating?.score) && (rating?.score as number) >= 1 && (rating?.score as number) <= 10, `rating ${rating?.score}`);
        assert.equal(decisions.get(id)?.score, rating?.score);
      }
      const choice = store.judgment(first.runId, "c1", "final");
      assert.equal(choice?.kind, "choice");
      assert.match(choice?.verdict ?? "", /^[A-D]$/);
      // The item's letter is the model's letter mapped through the seeded placement.
      const permutation = placement("shuffle", ITEMS[4] as Extract<BenchmarkItem, { kind: "choice" }>, JUDGING.seed);
      const modelLetter = choice?.runs[0].rawVerdict as string;
      assert.equal(choice?.verdict, String.fromCharCode(65 + permutation[modelLetter.charCodeAt(0) - 65]));
      assert.deepEqual(store.runItems(first.runId).map((item) => item.kind ?? "pair"), ["pair", "pair", "rating", "rating", "choice"]);

      const second = await runJudgingJob(jobOptions(store, engine));
      assert.notEqual(second.runId, first.runId);
      assert.deepEqual([second.judged, second.reused], [0, 5]);
      for (const id of ["p1", "r1", "c1"]) assert.deepEqual(store.judgment(second.runId, id, "final"), store.judgment(first.runId, id, "final"));
    } finally {
      store.close();
    }
  });

  it("a cancelled job resumes where it stopped: nothing judged twice, nothing lost", async () => {
    const store = openRunStore(path.join(work, "resume.sqlite"));
    try {
      const controller = new AbortController();
      let seen = 0;
      const stopped = await runJudgingJob(
        jobOptions(store, engine, {
          signal: controller.signal,
          onItem: () => {
            if (++seen === 2) controller.abort();
          },
        }),
      );
      assert.equal(stopped.interrupted, true);
      assert.equal(store.getRun(stopped.runId).status, "interrupted");
      const saved = store.doneItemPoints(stopped.runId).size;
      assert.ok(saved >= 2 && saved < 5, `saved ${saved}`);
      const doneBefore = ITEMS.filter((item) => store.judgment(stopped.runId, item.id, "final") !== undefined);
      const correct = (planned: PlannedItem, final: Judgment) => final.verdict === planned.item.label;
      const ticks: Array<{ correct?: boolean; cached?: boolean }> = [];
      const progress = { setTotal: () => {}, tick: (update: { correct?: boolean; cached?: boolean }) => void ticks.push(update) };
      const resumed = await runJudgingJob(
        jobOptions(store, engine, { progress, correct, run: { kind: "eval", benchmark: "mix", label: "mix", settings: {}, resumeRunId: stopped.runId } }),
      );
      // The items done before tick as cached and count toward the running accuracy with their stored verdicts.
      const cached = ticks.filter((tick) => tick.cached);
      assert.equal(resumed.reused, 0);
      assert.equal(cached.length, saved);
      assert.deepEqual(
        cached.map((tick) => tick.correct).sort(),
        doneBefore.map((item) => correct({ item, protocol: "as-is" }, store.judgment(stopped.runId, item.id, "final") as Judgment)).sort(),
      );
      assert.ok(cached.every((tick) => typeof tick.correct === "boolean"));
      assert.equal(resumed.runId, stopped.runId);
      assert.equal(resumed.alreadyDone, saved);
      assert.equal(resumed.judged + resumed.reused, 5 - saved);
      assert.equal(store.doneItemPoints(stopped.runId).size, 5);
    } finally {
      store.close();
    }
  });

  it("a run of another kind is refused on resume, naming the command that continues it", async () => {
    const store = openRunStore(path.join(work, "kinds.sqlite"));
    try {
      const sft = store.createRun({ kind: "data-sft", benchmark: "data-sft", label: "sft", settings: {} });
      await assert.rejects(
        runJudgingJob(jobOptions(store, engine, { run: { kind: "eval", benchmark: "mix", label: "x", settings: {}, resumeRunId: sft.id } })),
        (error: unknown) => error instanceof J1Error && error.code === "bad-input" && /data-sft run, not a eval run: continue it with j1 data sft --resume/.test(error.message),
      );
      assert.throws(() => evalSettingsOf(store.getRun(sft.id)), /data-sft run/);
      const evalRun = store.createRun({ kind: "eval", benchmark: "harmless", label: "e", settings: { benchmarks: ["harmless"], samples: "three" } });
      assert.throws(() => evalSettingsOf(store.getRun(evalRun.id)), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && /field "(engine|samples)"/.test(error.message));
      assert.throws(() => sftSettingsOf(store.getRun(evalRun.id)), /eval run, not a data-sft run: continue it with j1 eval --resume/);
    } finally {
      store.close();
    }
  });

  it("bad items stop the job before the plan is made (no model work, no run recorded)", async () => {
    const store = openRunStore(path.join(work, "bad.sqlite"));
    try {
      let planned = false;
      await assert.rejects(
        runJudgingJob(
          jobOptions(store, engine, {
            scored: (item) => {
              templateFor(item, DEFAULT_POINTWISE_TEMPLATE);
              return { id: item.item.id, category: item.item.category, label: item.item.label };
            },
            plan: async () => {
              planned = true;
              throw new Error("unreachable");
            },
          }),
        ),
        /template "j1-pointwise" is pointwise, but item "p1" is a pair/,
      );
      assert.equal(planned, false);
      assert.equal(store.listRuns().length, 0);
    } finally {
      store.close();
    }
  });
});

describe("--retry-errors finds a pair whose one order failed in the engine (a server outage, scripted)", () => {
  it("the pair is inconsistent with one engine-error run; a retry judges it again and replaces it", async () => {
    const server = await startFaultServer();
    const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, concurrency: 1, maxRetries: 0, retryDelayMs: 10 });
    const store = openRunStore(path.join(work, "retry.sqlite"));
    try {
      const pair: PlannedItem = { item: ITEMS[0], protocol: "as-is" };
      const options = (resumeRunId?: string): JobOptions<PlannedItem> => ({
        store,
        run: { kind: "eval", benchmark: "mix", label: "retry", settings: {}, resumeRunId },
        items: async function* () {
          yield pair;
        },
        scored: (planned) => ({ id: planned.item.id, category: planned.item.category, label: planned.item.label }),
        plan: async () => buildItemPlan({ engine, format: namedPromptFormat("chatml"), options: { ...JUDGING, scaling: { waits: 0 }, swap: true } }),
        retryErrors: resumeRunId !== undefined,
      });
      // One request at a time, in order: AB thinks, BA thinks (500: an outage, no retries), AB answers
      // (llama-server's verdict read: one token with the verdict position's candidates).
      const says = (letter: "A" | "B") => ({ kind: "ok" as const, text: letter, stopType: "limit" as const, firstTokenLogprobs: { [letter]: Math.log(0.9), [letter === "A" ? "B" : "A"]: Math.log(0.1) } });
      server.script({ kind: "ok", text: "Thinking.", stopType: "word" }, { kind: "status", status: 500, body: "outage" }, says("A"));
      const first = await runJudgingJob(options());
      const failed = store.judgment(first.runId, "p1", "final");
      assert.equal(failed?.status, "inconsistent");
      assert.deepEqual(failed?.runs.map((run) => run.status).sort(), ["engine-error", "ok"]);
      assert.equal(store.decisions(first.runId, "final").get("p1")?.engineErrors, 1);
      // Without --retry-errors a resume leaves it; with it, the pair is judged again (both orders answer).
      const plain = await runJudgingJob({ ...options(first.runId), retryErrors: false });
      assert.deepEqual([plain.alreadyDone, plain.judged], [1, 0]);
      server.script({ kind: "ok", text: "Thinking.", stopType: "word" }, { kind: "ok", text: "Thinking.", stopType: "word" }, says("A"), says("B"));
      const retried = await runJudgingJob(options(first.runId));
      assert.deepEqual([retried.judged, retried.reused, retried.alreadyDone], [1, 0, 0]);
      const fixed = store.judgment(first.runId, "p1", "final");
      assert.deepEqual([fixed?.status, fixed?.verdict], ["ok", "A"]);
      assert.equal(store.decisions(first.runId, "final").get("p1")?.engineErrors, undefined);
    } finally {
      store.close();
      await engine.dispose();
      await server.close();
    }
  });
});

describe("job parts", () => {
  it("the session budget runs items as sequences free up, in order, and an oversized item alone", async () => {
    const budget = new SessionBudget(4);
    const order: string[] = [];
    await budget.acquire(2);
    await budget.acquire(2);
    const big = budget.acquire(8).then(() => order.push("big"));
    const small = budget.acquire(1).then(() => order.push("small"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, []);
    budget.release(2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], "the big item waits for all four; the small one queues behind it");
    budget.release(2);
    await big;
    assert.deepEqual(order, ["big"]);
    budget.release(8);
    await small;
    assert.deepEqual(order, ["big", "small"]);
  });

  it("a choice's seeded placement is a stable permutation; letters map back to the item's own", () => {
    const item = { id: "c", responses: ["w", "x", "y", "z"] };
    const first = placement("shuffle", item, 1);
    assert.deepEqual([...first].sort(), [0, 1, 2, 3]);
    assert.deepEqual(placement("shuffle", item, 1), first);
    const seeds = new Set(Array.from({ length: 20 }, (_, seed) => placement("shuffle", item, seed).join("")));
    assert.ok(seeds.size > 5, `only ${seeds.size} placements over 20 seeds`);
    assert.deepEqual(placement("as-is", item, 1), [0, 1, 2, 3]);
    const judgment = { verdict: "A", votes: { A: 2, B: 1, tie: 0, invalid: 0 }, runs: [{ verdict: "A" }, { verdict: "B" }] } as never;
    const mapped = toItemLetters(judgment, [2, 0, 1, 3]);
    assert.equal(mapped.verdict, "C");
    assert.deepEqual(mapped.runs.map((run) => run.verdict), ["C", "A"]);
    assert.deepEqual({ C: mapped.votes?.C, A: mapped.votes?.A }, { C: 2, A: 1 });
  });

  it("passes per item: orders × samples × separately judged points", () => {
    const pair = { item: ITEMS[0], protocol: "both" as const };
    const rating = { item: ITEMS[2], protocol: "as-is" as const };
    assert.equal(passesFor(pair, { swap: false, samples: 3 }), 6);
    assert.equal(passesFor(rating, { swap: true, samples: 3 }), 3);
    assert.equal(passesFor(pair, { swap: false, samples: 1, sweep: { setting: "waits", values: [0, 1, 2] } }), 2);
    assert.equal(passesFor(rating, { swap: false, samples: 1, sweep: { setting: "waits", values: [0, 1, 2] } }), 3);
  });

  it("a store made before run kinds is upgraded in place: data-sft runs get their kind", () => {
    const file = path.join(work, "v1.sqlite");
    const db = new Database(file);
    db.exec(MIGRATIONS[0]);
    db.pragma("user_version = 1");
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO runs (id, benchmark, label, settings, status, created_at, updated_at) VALUES (?, ?, 'x', '{}', 'done', ?, ?)`).run("r1", "data-sft", now, now);
    db.prepare(`INSERT INTO runs (id, benchmark, label, settings, status, created_at, updated_at) VALUES (?, ?, 'x', '{}', 'done', ?, ?)`).run("r2", "harmless", now, now);
    db.close();
    const store = openRunStore(file);
    try {
      assert.equal(store.getRun("r1").kind, "data-sft");
      assert.equal(store.getRun("r2").kind, "eval");
    } finally {
      store.close();
    }
    const reopened = new Database(file);
    assert.equal(reopened.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    reopened.close();
  });
});
