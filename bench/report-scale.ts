/**
 * Benchmark: building a run's report from the store (buildRunReport) as runs grow, for each shape of
 * official rule: plain accuracy (Anthropic Harmless), RewardBench's weighted sections, JudgeBench and
 * LLMBar (both orders), RM-Bench's 3x3 matrices (groups of 9 with style indices), RewardMATH's problems
 * (groups of 10) and RewardBench 2 (four-way picks, rated answers, Ties). Each shape and size gets its own
 * real SQLite store: items saved as a run saves them, judgments saved through the store for a dozen
 * templates and copied in SQL to the other items (a report reads columns, and bodies only for failed
 * orders), about 1 in 50 of them with a failed order.
 *
 *   node dist/bench/report-scale.js [--sizes 10000,100000] [--shapes harmless,rewardbench,...] [--rounds 3]
 *                                   [--baseline DIR]
 *
 * Printed first, machine-independent counts per report: rows read from the store, judgment bodies
 * decoded, bootstrap resamples, units drawn, and items scored by a rule inside the bootstrap (what grows
 * with resamples x items when a rule has no summed form). Then CPU and wall seconds, the median of
 * --rounds builds, and what `j1 serve` takes to answer /report again for the same run state (its report
 * cache). With --baseline DIR (the dist/ folder of an earlier j1 build, e.g. made with
 * `git worktree add /tmp/j1-base <commit> && cd /tmp/j1-base && ln -s <repo>/node_modules && npx tsc`), the
 * baseline's buildRunReport runs on the same store file with the baseline's own store code (its reads are
 * part of what it took), in the same process, alternating with this one: its rows read and times are
 * printed beside these, and the two report JSONs must be byte-identical.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Judgment, Verdict } from "../src/core/judgment.js";
import { emptyUsage } from "../src/core/usage.js";
import type { RunReport } from "../src/eval/report-types.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { bootstrapWork } from "../src/eval/scoring/bootstrap.js";
import { REWARDBENCH_SECTIONS } from "../src/eval/scoring/rewardbench-sections.js";
import type { ItemDecision, ScoredItem } from "../src/eval/types.js";
import { ReportCache } from "../src/server/report-cache.js";
import { judgmentKey, openRunStore, type RunStore } from "../src/store/run-store.js";

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const sizes = (option("--sizes") ?? "10000,100000").split(",").map(Number);
const rounds = Number(option("--rounds") ?? 3);
const baselineDir = option("--baseline");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-report-"));

/** One judgment template: what the judge said, and what it cost (the same for every item given it). */
interface Template {
  kind: Judgment["kind"];
  verdict: Verdict | null;
  confidence?: number;
  score?: number | null;
  orders?: ItemDecision["orders"];
}

/** A benchmark shape: its items (ids namespaced as a run stores them) and the template each item gets. */
interface Shape {
  benchmark: string;
  items(count: number): ScoredItem[];
  template(item: ScoredItem, index: number): Template;
}

const pick = <T>(values: readonly T[], index: number): T => values[(index * 2654435761) % 4294967296 % values.length];
/** About 1 in 50 judgments without a verdict (a parse error), the rest a mix of right and wrong answers. */
const pairVerdict = (label: string, index: number): Verdict | null => (index % 50 === 7 ? null : pick(["A", "B", "A", label === "A" ? "A" : "B", "tie"] as const, index));

const SHAPES: Record<string, Shape> = {
  harmless: {
    benchmark: "harmless",
    items: (count) => Array.from({ length: count }, (_, index) => ({ id: `harmless:${index}`, category: "harmless", label: index % 2 ? "A" : "B" })),
    template: (item, index) => ({ kind: "pairwise", verdict: pairVerdict(item.label, index), confidence: pick([0.9, 0.6, 0.55], index) }),
  },
  rewardbench: {
    benchmark: "rewardbench",
    items: (count) => {
      const subsets = Object.values(REWARDBENCH_SECTIONS).flatMap((weights) => Object.keys(weights));
      return Array.from({ length: count }, (_, index) => ({ id: `rewardbench:${index}`, category: subsets[index % subsets.length], label: "A" }));
    },
    template: (item, index) => ({ kind: "pairwise", verdict: pairVerdict(item.label, index), confidence: pick([0.9, 0.7], index) }),
  },
  judgebench: {
    benchmark: "judgebench",
    items: (count) => Array.from({ length: count }, (_, index) => ({ id: `judgebench:${index}`, category: ["knowledge", "reasoning", "math", "coding"][index % 4], label: index % 3 ? "A" : "B" })),
    template: (item, index) => bothOrders(item, index),
  },
  llmbar: {
    benchmark: "llmbar",
    items: (count) => Array.from({ length: count }, (_, index) => ({ id: `llmbar:${index}`, category: ["Natural", "Neighbor", "GPTInst", "GPTOut", "Manual"][index % 5], label: index % 2 ? "A" : "B" })),
    template: (item, index) => bothOrders(item, index),
  },
  rmbench: {
    benchmark: "rmbench",
    items: (count) =>
      Array.from({ length: count }, (_, index) => {
        const prompt = Math.floor(index / 9);
        const domain = ["chat", "code", "math", "safety"][prompt % 4];
        return { id: `rmbench:${domain}/${prompt}/${index % 9}`, category: domain, label: "A", group: `rmbench:${domain}/${prompt}`, meta: { i: Math.floor((index % 9) / 3), j: index % 3 } };
      }),
    template: (item, index) => ({ kind: "pairwise", verdict: pairVerdict(item.label, index), confidence: 0.8 }),
  },
  rewardmath: {
    benchmark: "rewardmath",
    items: (count) =>
      Array.from({ length: count }, (_, index) => {
        const problem = Math.floor(index / 10);
        return { id: `rewardmath:${problem}/${index % 10}`, category: ["Algebra", "Geometry", "Number Theory"][problem % 3], label: "A", group: `rewardmath:${problem}` };
      }),
    template: (item, index) => ({ kind: "pairwise", verdict: index % 13 === 0 ? "B" : pairVerdict(item.label, index) === null ? null : "A" }),
  },
  rewardbench2: {
    benchmark: "rewardbench2",
    // Per 10 items: 4 official four-way picks (no group), a rated prompt of 4 answers, a Ties prompt's 2.
    items: (count) =>
      Array.from({ length: count }, (_, index) => {
        const block = Math.floor(index / 10);
        const at = index % 10;
        if (at < 4) return { id: `rewardbench2:${block}-${at}`, category: ["Factuality", "Precise IF", "Math", "Safety"][at], label: pick(["A", "B", "C", "D"], index), kind: "choice" as const };
        if (at < 8) return { id: `rewardbench2:focus-${block}#${at - 4}`, category: "Focus", label: at === 4 ? "correct" : "incorrect", kind: "rating" as const, group: `rewardbench2:focus-${block}` };
        return { id: `rewardbench2:ties-${block}#${at}`, category: "Ties", label: at === 8 ? "correct" : "incorrect", kind: "rating" as const, group: `rewardbench2:Ties/${block}`, meta: { sample: "ref" } };
      }),
    template: (item, index) =>
      item.kind === "choice"
        ? { kind: "choice", verdict: index % 50 === 7 ? null : pick(["A", "B", "C", "D", item.label as Verdict], index) }
        : { kind: "pointwise", verdict: null, score: index % 50 === 7 ? null : pick([3, 5, 7, 8, 9], index) },
  },
};

function bothOrders(item: ScoredItem, index: number): Template {
  const ab = pairVerdict(item.label, index);
  const ba = pairVerdict(item.label, index + 1);
  return { kind: "pairwise", verdict: ab === ba ? ab : null, orders: { AB: ab, BA: ba }, confidence: 0.7 };
}

function judgmentOf(template: Template): Judgment {
  const usage = { ...emptyUsage(), promptTokens: 300, thinkingTokens: 40, answerTokens: 2, evaluatedTokens: 342 };
  const trace = [{ kind: "generated" as const, text: `<think>short</think>[[${template.verdict}]]`, tokens: 42 }];
  const status = template.verdict === null && template.score == null ? "parse-error" : "ok";
  const orders = template.orders ? (Object.keys(template.orders) as Array<"AB" | "BA">) : ["AB" as const];
  const runs = orders.map((order) => {
    const verdict = template.orders?.[order] ?? template.verdict;
    return { order, sample: 0, seed: 1, verdict, rawVerdict: verdict, score: template.score ?? null, status: verdict === null && template.score == null ? "parse-error" : "ok", confidence: template.confidence, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1 };
  });
  return { kind: template.kind, verdict: template.verdict, score: template.score ?? null, status, confidence: template.confidence, waitsUsed: 0, forcedEnd: false, trace, usage, wallMs: 1, runs } as unknown as Judgment;
}

/** A done run of `count` items of the shape, in its own store file. */
function buildStore(name: string, shape: Shape, count: number): { file: string; runId: string; seconds: number } {
  const started = performance.now();
  const file = path.join(work, `${name}-${count}.sqlite`);
  const store = openRunStore(file);
  const run = store.createRun({ benchmark: shape.benchmark, label: `${name} ${count}`, settings: { benchmarks: [shape.benchmark], seed: 0 } });
  const items = shape.items(count);
  store.setRunItems(run.id, items, 0);
  // Each distinct template saved once through the store; every other item gets a SQL copy of its row.
  const first = new Map<string, string>();
  const copies: Array<[string, string]> = [];
  items.forEach((item, index) => {
    const template = shape.template(item, index);
    const text = JSON.stringify(template);
    const source = first.get(text);
    if (source !== undefined) return copies.push([item.id, source]);
    first.set(text, item.id);
    store.saveJudgment({ runId: run.id, itemId: item.id, point: "final", key: judgmentKey({ item: item.id }), judgment: judgmentOf(template), orders: template.orders });
  });
  store.setRunStatus(run.id, "done");
  store.close();
  const db = new Database(file);
  const columns = (db.prepare("PRAGMA table_info(judgments)").all() as Array<{ name: string }>).map((column) => column.name).filter((column) => !["seq", "item_id", "key"].includes(column));
  const copy = db.prepare(`INSERT INTO judgments (item_id, key, ${columns.join(", ")}) SELECT ?, key || ?, ${columns.join(", ")} FROM judgments WHERE run_id = ? AND item_id = ? AND point = 'final'`);
  db.transaction(() => copies.forEach(([itemId, source]) => copy.run(itemId, `/${itemId}`, run.id, source)))();
  db.close();
  return { file, runId: run.id, seconds: (performance.now() - started) / 1000 };
}

/** The store's reads, counted: rows of items and decisions, and judgment bodies decoded. */
function counted(store: RunStore): { store: RunStore; counts: { rows: number; bodies: number } } {
  const counts = { rows: 0, bodies: 0 };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === "runItems") return (id: string) => { const rows = target.runItems(id); counts.rows += rows.length; return rows; };
      if (property === "decisions") return (...call: Parameters<RunStore["decisions"]>) => { const rows = target.decisions(...call); counts.rows += rows.size; return rows; };
      if (property === "itemDecisions") return (...call: Parameters<RunStore["itemDecisions"]>) => { const rows = target.itemDecisions(...call); counts.rows += rows.filter((row) => row !== undefined).length; return rows; };
      if (property === "judgment") return (id: string, item: string, point: string) => { counts.bodies++; return target.judgment(id, item, point); };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: proxy, counts };
}

type Build = (store: RunStore, runId: string) => RunReport;
type Open = (file: string) => RunStore;

interface Measured {
  report: string;
  rows: number;
  bodies: number;
  cpu: number[];
  wall: number[];
}

function measureOnce(build: Build, open: Open, file: string, runId: string, into: Measured): void {
  const store = open(file);
  try {
    const probe = counted(store);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const report = build(probe.store, runId);
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    into.cpu.push((used.user + used.system) / 1e6);
    into.wall.push(wall);
    into.rows = probe.counts.rows;
    into.bodies = probe.counts.bodies;
    into.report = JSON.stringify(report);
  } finally {
    store.close();
  }
}

/**
 * What `j1 serve` pays for a run's /report on the requests after the first (server/report-cache.ts: built
 * once per run state): milliseconds of the second request, and whether it was the first one's report.
 */
function servedAgain(file: string, runId: string): { ms: number; same: boolean } {
  const store = openRunStore(file);
  try {
    const cache = new ReportCache(store);
    const first = cache.report(store.getRun(runId));
    const started = performance.now();
    const again = cache.report(store.getRun(runId));
    return { ms: performance.now() - started, same: again === first };
  } finally {
    store.close();
  }
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const baselineModule = (file: string) => import(pathToFileURL(path.resolve(baselineDir as string, file)).href);
const baseline: Build | undefined = baselineDir ? ((await baselineModule("src/eval/run-report.js")) as { buildRunReport: Build }).buildRunReport : undefined;
const baselineOpen: Open | undefined = baselineDir ? ((await baselineModule("src/store/run-store.js")) as { openRunStore: Open }).openRunStore : undefined;
const shapes = (option("--shapes") ?? Object.keys(SHAPES).join(",")).split(",");
let mismatches = 0;

try {
  console.log(`# A run's report from the store (node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, load ${os.loadavg()[0].toFixed(1)})\n`);
  console.log(`Counts per report, then the median of ${rounds} builds${baseline ? ` (baseline: ${baselineDir}, alternating in this process)` : ""}.\n`);
  console.log(
    baseline
      ? "| shape | judgments | rows read (base / new) | bodies decoded (base / new) | resamples | units drawn | items scored by a rule | CPU s base | CPU s new | new / base (CPU) | wall s base | wall s new | served again ms | JSON identical |"
      : "| shape | judgments | rows read | bodies decoded | resamples | units drawn | items scored by a rule | CPU s | wall s | CPU ms per 1k | served again ms |",
  );
  console.log(baseline ? "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" : "|---|---|---|---|---|---|---|---|---|---|---|");
  for (const name of shapes) {
    const shape = SHAPES[name];
    if (!shape) throw new Error(`unknown shape "${name}" (known: ${Object.keys(SHAPES).join(", ")})`);
    for (const size of sizes) {
      const { file, runId } = buildStore(name, shape, size);
      const mine: Measured = { report: "", rows: 0, bodies: 0, cpu: [], wall: [] };
      const base: Measured = { report: "", rows: 0, bodies: 0, cpu: [], wall: [] };
      let spent = { resamples: 0, draws: 0, itemsScoredByRule: 0 };
      for (let round = 0; round < rounds; round++) {
        // Alternating, and which goes first alternates too, so both see the same machine.
        const order: Array<"base" | "mine"> = baseline ? (round % 2 ? ["mine", "base"] : ["base", "mine"]) : ["mine"];
        for (const which of order) {
          if (which === "base") measureOnce(baseline as Build, baselineOpen as Open, file, runId, base);
          else {
            const before = { ...bootstrapWork };
            measureOnce(buildRunReport, openRunStore, file, runId, mine);
            spent = { resamples: bootstrapWork.resamples - before.resamples, draws: bootstrapWork.draws - before.draws, itemsScoredByRule: bootstrapWork.itemsScoredByRule - before.itemsScoredByRule };
          }
        }
      }
      const again = servedAgain(file, runId);
      const served = `${again.ms.toFixed(2)}${again.same ? "" : " (rebuilt!)"}`;
      const n = (value: number) => value.toLocaleString("en-US");
      const common = `| ${name} | ${n(size)} |`;
      const bootstrap = `${n(spent.resamples)} | ${n(spent.draws)} | ${n(spent.itemsScoredByRule)} |`;
      if (baseline) {
        const identical = base.report === mine.report;
        if (!identical) mismatches++;
        console.log(
          `${common} ${n(base.rows)} / ${n(mine.rows)} | ${n(base.bodies)} / ${n(mine.bodies)} | ${bootstrap} ${median(base.cpu).toFixed(2)} | ${median(mine.cpu).toFixed(2)} | ${(median(mine.cpu) / median(base.cpu)).toFixed(2)} | ${median(base.wall).toFixed(2)} | ${median(mine.wall).toFixed(2)} | ${served} | ${identical ? "yes" : "NO"} |`,
        );
      } else {
        console.log(`${common} ${n(mine.rows)} | ${n(mine.bodies)} | ${bootstrap} ${median(mine.cpu).toFixed(2)} | ${median(mine.wall).toFixed(2)} | ${((1000 * median(mine.cpu)) / (size / 1000)).toFixed(1)} | ${served} |`);
      }
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    }
  }
  console.log("\ngoal: linear in judgments, <= 1 s at 100k; the report identical to the baseline's");
  if (mismatches > 0) {
    console.log(`${mismatches} report(s) differ from the baseline's`);
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
