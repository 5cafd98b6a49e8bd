import { storeFlag } from "../core/shell-quote.js";
import path from "node:path";
import { realpathSync, statSync } from "node:fs";
import type { Hono, MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { DEFAULT_SCALING, type ScalingOptions } from "../core/budget.js";
import { J1Error, errorMessage } from "../core/errors.js";
import { parseStopRule } from "../core/scaling/stop-rule.js";
import type { Engine } from "../engines/engine.js";
import { getBenchmark } from "../eval/benchmarks/registry.js";
import { ORDER_BENCHMARKS, type EvalSettings } from "../eval/eval-settings.js";
import { expandBenchmarks } from "../eval/paper.js";
import { buildRunReport } from "../eval/run-report.js";
import { runEval } from "../eval/runner.js";
import { checkSweeps, parseSweep } from "../eval/sweep.js";
import type { RunStore } from "../store/types.js";
import { readJson, validate, type Refuse } from "./http-guards.js";

/**
 * Eval runs started through `j1 serve`: `POST /v1/runs` starts `runEval` in the background on the served
 * engine and store, `GET /v1/runs/:id/events` streams its progress as server-sent events (the current
 * state first, so a late client catches up), `DELETE /v1/runs/:id` cancels it (what was judged stays in
 * the store: `j1 eval --resume RUN` continues it). Live judgments keep their place: with one sequence the
 * engine's pool serves requests in turn, so a live judgment waits for at most one item of a run.
 *
 * Data files name the server's disk, so they must lie inside `dataRoot` (the service's working folder
 * unless set), and are checked before the run starts.
 */
export interface EvalRunsOptions {
  engine: Engine;
  store: RunStore;
  /** How the served engine's prompts are written. */
  format: { chatFormat: EvalSettings["chatFormat"]; chatTemplateFile?: string; reasoning?: string };
  /** Data files must resolve inside this folder. */
  dataRoot: string;
  /** Background runs at once; more get 429. */
  maxRuns: number;
  logError?: (error: unknown) => void;
}

export interface RunState {
  runId: string;
  status: "running" | "done" | "failed" | "cancelled";
  done: number;
  total: number;
  judgmentsPerSecond: number;
  etaSeconds?: number;
  /** Official score per benchmark, when done. */
  scores?: Record<string, number>;
  error?: string;
}

const positive = z.number().int().min(1);
const StartRun = z
  .object({
    bench: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(16)]),
    /** Per benchmark, files inside the data root: { "pairs": "data/pairs.jsonl" } or a list of files. */
    data: z.record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(32)])).optional(),
    limit: positive.max(1_000_000).optional(),
    /** How `limit` picks items: a stratified seeded sample (default) or the first rows. */
    limitMode: z.enum(["sample", "first"]).optional(),
    waits: z.number().int().min(0).max(64).optional(),
    maxThinking: positive.max(65_536).optional(),
    stopWhen: z.string().max(64).optional(),
    sweep: z.array(z.string().max(256)).max(4).optional(),
    samples: positive.max(64).optional(),
    swap: z.boolean().optional(),
    order: z.enum(["as-given", "shuffle", "both"]).optional(),
    seed: z.number().int().min(0).max(4_294_967_295).optional(),
    label: z.string().max(200).optional(),
  })
  .strict();
type StartBody = z.infer<typeof StartRun>;

/** Adds the routes; returns what graceful shutdown needs. */
export function addEvalRunRoutes(app: Hono, options: EvalRunsOptions, auth: MiddlewareHandler, limit: MiddlewareHandler, refuse: Refuse): { cancelAll(reason: string): void; settled(): Promise<void> } {
  const runs = new Map<string, { state: RunState; controller: AbortController; done: Promise<void>; listeners: Set<(state: RunState) => void> }>();
  // Runs admitted but not yet recorded (their data is still being read): counted, so requests arriving
  // together cannot all pass the --max-runs check before any of them has registered.
  let starting = 0;
  const running = () => starting + [...runs.values()].filter((entry) => entry.state.status === "running").length;

  app.post("/v1/runs", auth, limit, async (c) => {
    const body = validate(StartRun, await readJson(c));
    if (running() >= options.maxRuns) return refuse(c, 429, `${running()} eval run(s) already running (at most ${options.maxRuns}); wait for one to end or cancel it`, { "retry-after": "30" });
    const settings = settingsOf(body, options);
    starting++;
    let admitted = true;
    const registered = () => {
      if (!admitted) return;
      admitted = false;
      starting--;
    };
    const controller = new AbortController();
    const started = performance.now();
    let total = 0;
    let done = 0;
    let resolveId: (id: string) => void = () => undefined;
    let rejectId: (error: unknown) => void = () => undefined;
    const idKnown = new Promise<string>((resolve, reject) => {
      resolveId = resolve;
      rejectId = reject;
    });
    let entry: (typeof runs extends Map<string, infer E> ? E : never) | undefined;
    const publish = () => {
      if (!entry) return;
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      entry.state = { ...entry.state, done, total, judgmentsPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : undefined };
      for (const listener of entry.listeners) listener(entry.state);
    };
    const work = runEval({
      settings,
      store: options.store,
      engine: options.engine,
      label: body.label ?? `serve: ${settings.benchmarks.join("+")}`,
      signal: controller.signal,
      progress: {
        setTotal: (value) => {
          total = value;
          publish();
        },
        tick: () => {
          done++;
          publish();
        },
      },
      onRun: (run) => {
        registered();
        entry = { state: { runId: run.id, status: "running", done: 0, total: 0, judgmentsPerSecond: 0 }, controller, done: Promise.resolve(), listeners: new Set() };
        runs.set(run.id, entry);
        resolveId(run.id);
      },
    });
    const finished = work.then(
      (result) => {
        registered();
        if (!entry) return;
        if (result.interrupted) {
          entry.state = { ...entry.state, status: "cancelled" };
        } else {
          const report = buildRunReport(options.store, result.runId);
          options.store.saveReport(result.runId, report);
          entry.state = { ...entry.state, status: "done", done: total, etaSeconds: 0, scores: Object.fromEntries(report.benchmarks.map((bench) => [bench.benchmark, bench.score.score])) };
        }
        for (const listener of entry.listeners) listener(entry.state);
      },
      (error: unknown) => {
        registered();
        rejectId(error);
        if (!entry) return;
        options.logError?.(error);
        entry.state = { ...entry.state, status: "failed", error: error instanceof J1Error ? error.message : "internal error" };
        for (const listener of entry.listeners) listener(entry.state);
      },
    );
    let runId: string;
    try {
      runId = await idKnown;
    } catch (error) {
      // Bad data stops a run before it is recorded: the client's mistake, named.
      if (error instanceof J1Error && (error.code === "bad-input" || error.code === "bad-template")) return refuse(c, 400, error.message);
      throw error;
    }
    (runs.get(runId) as NonNullable<typeof entry>).done = finished;
    return c.json({ runId, status: "running", events: `/v1/runs/${runId}/events`, report: `/v1/runs/${runId}/report`, cancel: `DELETE /v1/runs/${runId}` }, 202);
  });

  app.get("/v1/runs/:id/events", auth, (c) => {
    const entry = runs.get(c.req.param("id"));
    if (!entry) return refuse(c, 404, `no background run "${c.req.param("id")}" in this service (runs started by j1 eval have no live events; see GET /v1/runs/${c.req.param("id")})`);
    return streamSSE(c, async (stream) => {
      const queue: RunState[] = [entry.state];
      let wake: () => void = () => undefined;
      const listener = (state: RunState) => {
        queue.push(state);
        wake();
      };
      entry.listeners.add(listener);
      stream.onAbort(() => wake());
      try {
        for (;;) {
          while (queue.length > 0) {
            const state = queue.shift() as RunState;
            const last = queue.length > 0 && state.status === "running";
            // Coalesce: a slow client gets the newest progress, never a backlog.
            if (last) continue;
            await stream.writeSSE({ event: state.status === "running" ? "progress" : state.status, data: JSON.stringify(state) });
            if (state.status !== "running") return;
          }
          if (stream.aborted || stream.closed) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        entry.listeners.delete(listener);
      }
    });
  });

  app.delete("/v1/runs/:id", auth, async (c) => {
    const entry = runs.get(c.req.param("id"));
    if (!entry) return refuse(c, 404, `no background run "${c.req.param("id")}" in this service`);
    if (entry.state.status !== "running") return c.json(entry.state);
    entry.controller.abort(new J1Error("cancelled", "cancelled by a client"));
    await entry.done;
    return c.json({ ...entry.state, resume: `j1 eval --resume ${entry.state.runId}${storeFlag(options.store.file)}` });
  });

  return {
    cancelAll(reason) {
      for (const entry of runs.values()) if (entry.state.status === "running") entry.controller.abort(new J1Error("cancelled", reason));
    },
    async settled() {
      await Promise.allSettled([...runs.values()].map((entry) => entry.done));
    },
  };
}

/** A run's settings from a request: the CLI's defaults, the served engine and format, data inside the root. */
function settingsOf(body: StartBody, options: EvalRunsOptions): EvalSettings {
  const benchmarks = expandBenchmarks(typeof body.bench === "string" ? [body.bench] : body.bench);
  for (const name of benchmarks) {
    try {
      getBenchmark(name);
    } catch (error) {
      throw new J1Error("bad-input", `bench: ${errorMessage(error)}`);
    }
  }
  if (body.order !== undefined && !benchmarks.some((name) => ORDER_BENCHMARKS.includes(name))) throw new J1Error("bad-input", `order: applies to ${ORDER_BENCHMARKS.join(", ")} only`);
  const data: Record<string, string[]> = {};
  for (const [name, files] of Object.entries(body.data ?? {})) {
    if (!benchmarks.includes(name)) throw new J1Error("bad-input", `data.${name}: not one of the run's benchmarks (${benchmarks.join(", ")})`);
    data[name] = (typeof files === "string" ? [files] : files).map((file) => insideRoot(file, options.dataRoot, `data.${name}`));
  }
  const scaling: ScalingOptions = { ...DEFAULT_SCALING, waits: body.waits ?? 0, maxThinkingTokens: body.maxThinking ?? 4096 };
  if (body.stopWhen !== undefined) {
    scaling.stopWhen = parseStopRule(body.stopWhen, "stopWhen");
    if (scaling.waits === 0) throw new J1Error("bad-input", "stopWhen: an adaptive rule stops within a number of waits: set waits");
  }
  const sweeps = (body.sweep ?? []).map((text) => {
    try {
      return parseSweep(text);
    } catch (error) {
      throw new J1Error("bad-input", `sweep: ${errorMessage(error)}`);
    }
  });
  try {
    checkSweeps(sweeps, scaling.waits);
  } catch (error) {
    throw new J1Error("bad-input", `sweep: ${errorMessage(error)}`);
  }
  const samples = body.samples ?? 1;
  return {
    benchmarks,
    data,
    order: benchmarks.some((name) => ORDER_BENCHMARKS.includes(name)) ? (body.order ?? "shuffle") : undefined,
    limit: body.limit,
    limitMode: body.limit === undefined ? undefined : (body.limitMode ?? "sample"),
    skipBad: false,
    engine: engineSettings(options.engine),
    chatFormat: options.format.chatFormat,
    chatTemplateFile: options.format.chatTemplateFile,
    reasoning: options.format.reasoning,
    scaling,
    sweep: sweeps.length === 0 ? undefined : sweeps.length === 1 ? sweeps[0] : sweeps,
    samples,
    swap: body.swap ?? false,
    allowTie: false,
    temperature: samples > 1 ? 0.7 : 0,
    seed: body.seed ?? 0,
  };
}

/** The served engine as a run records it (so `j1 eval --resume RUN` can load the same model). */
function engineSettings(engine: Engine): EvalSettings["engine"] {
  const described = engine.describe();
  const model = typeof described.modelFile === "string" && described.model !== "tiny" && described.model !== "tiny-controlled" ? described.modelFile : described.model;
  // A fleet describes itself by all its base URLs, space-separated (openai-engine.ts describe()).
  const urls = typeof described.baseUrl === "string" ? described.baseUrl.split(" ") : [];
  return { engine: described.engine, model, baseUrl: urls[0], baseUrls: urls.length > 1 ? urls : undefined };
}

/**
 * A data file the service may read: a regular file whose real path (every symlink resolved) is inside
 * the real data root. A symlink out of the root would serve what lies outside it; a FIFO or a device
 * (`/dev/zero`) would stall or flood the reader. The messages name the path as the caller gave it and
 * never what lies behind it.
 */
function insideRoot(file: string, root: string, field: string): string {
  const outside = () => new J1Error("bad-input", `${field}: "${file}" is outside the service's data folder`);
  const realRoot = realpathSync(root);
  if (!isInside(path.resolve(realRoot, file), realRoot)) throw outside();
  let real: string;
  try {
    real = realpathSync(path.resolve(realRoot, file));
  } catch {
    throw new J1Error("bad-input", `${field}: no file "${file}" in the service's data folder`);
  }
  if (!isInside(real, realRoot)) throw outside();
  if (!statSync(real).isFile()) throw new J1Error("bad-input", `${field}: "${file}" is not a regular file (a folder, a FIFO or a device is refused)`);
  return real;
}

/** Whether `target` lies inside `root` (both absolute): `..foo.jsonl` is a name inside, `../foo` is not. */
function isInside(target: string, root: string): boolean {
  const relative = path.relative(root, target);
  if (relative === "") return false;
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
