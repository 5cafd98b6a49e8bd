/**
 * `evaluate({bench, data, model, waits})`: a whole `j1 eval` in one call. Every setting not given takes the
 * CLI's default (the pairs benchmark shuffled, greedy, seed 0, one sample, the model's own chat template,
 * the default thinking cap, the default run store), the engine is made from `model`/`baseUrl` (once: it is
 * not passed twice) and disposed after, and the answer is the report `j1 report --json` gives for the run.
 * `runEval` stays the full form (resume, progress, a store and engine the caller keeps).
 */
import { DEFAULT_SCALING, scalingFromRequest, type ScalingRequest } from "../core/budget.js";
import { badInput } from "../core/errors.js";
import type { JudgeTemplate } from "../core/template.js";
import { engineConfigOf, engineFor, type ModelChoice } from "../judge/one-call.js";
import type { ChatFormatChoice } from "../judge/prompt-format.js";
import { defaultStorePath, openRunStore } from "../store/run-store.js";
import type { RunStore } from "../store/types.js";
import { getBenchmark } from "./benchmarks/registry.js";
import { ORDER_BENCHMARKS, type EvalSettings, type PairOrder } from "./eval-settings.js";
import { expandBenchmarks } from "./paper.js";
import type { RunReport } from "./report-types.js";
import { buildRunReport } from "./run-report.js";
import { runEval, type EvalProgress, type EvalRunResult } from "./runner.js";
import { checkSweeps, parseSweep } from "./sweep.js";

export interface EvaluateOptions extends ModelChoice, ScalingRequest {
  /** A benchmark name (`getBenchmark`), several, or "paper". */
  bench: string | string[];
  /** The data file(s): one benchmark's file or files, or `{name: file(s)}` for several. Default: each loader's own place. */
  data?: string | string[] | Record<string, string | string[]>;
  /** Items per benchmark. */
  limit?: number;
  /** As `--sweep`: "waits=0,1,2", "confidence=0.7,0.9", "max-thinking=256,512". */
  sweep?: string | string[];
  /** The pairs benchmark's order (default "shuffle"). */
  order?: PairOrder;
  /** `--map question=prompt,a=r1,b=r2` as an object. */
  map?: Record<string, string>;
  swap?: boolean;
  samples?: number;
  tie?: boolean;
  temperature?: number;
  seed?: number;
  template?: JudgeTemplate;
  chatFormat?: ChatFormatChoice;
  /** Skip malformed rows (and count them) instead of refusing the data. */
  skipBad?: boolean;
  /** A store file (default: `$J1_STORE`, else .j1/runs.sqlite), or an open store left open. */
  store?: string | RunStore;
  label?: string;
  progress?: EvalProgress;
  signal?: AbortSignal;
}

export interface EvaluateResult {
  runId: string;
  /** The run's report (what `j1 report RUN --json` shows); undefined when the run was interrupted. */
  report?: RunReport;
  run: EvalRunResult;
  /** The store file the run is in (for `j1 report RUN --store FILE`). */
  storeFile: string;
}

/** The complete `EvalSettings` a one-call options object means (j1's defaults filled in). */
export function evalSettings(options: Omit<EvaluateOptions, "store" | "label" | "progress" | "signal" | "engine">): EvalSettings {
  const benchmarks = expandBenchmarks(typeof options.bench === "string" ? [options.bench] : options.bench);
  if (benchmarks.length === 0) throw badInput("name at least one benchmark", { field: "bench" });
  for (const name of benchmarks) getBenchmark(name);
  const data: Record<string, string[]> = {};
  if (typeof options.data === "string" || Array.isArray(options.data)) {
    if (benchmarks.length !== 1) throw badInput(`with several benchmarks, give data as {name: file} (benchmarks: ${benchmarks.join(", ")})`, { field: "data" });
    data[benchmarks[0]] = typeof options.data === "string" ? [options.data] : options.data;
  } else {
    for (const [name, files] of Object.entries(options.data ?? {})) {
      if (!benchmarks.includes(name)) throw badInput(`data for "${name}", which is not among the benchmarks (${benchmarks.join(", ")})`, { field: `data.${name}` });
      data[name] = typeof files === "string" ? [files] : files;
    }
  }
  const sweeps = (typeof options.sweep === "string" ? [options.sweep] : (options.sweep ?? [])).map(parseSweep);
  checkSweeps(sweeps, options.waits ?? 0);
  const samples = options.samples ?? 1;
  const config = engineConfigOf(options);
  return {
    benchmarks,
    data,
    order: benchmarks.some((name) => ORDER_BENCHMARKS.includes(name)) ? (options.order ?? "shuffle") : undefined,
    limit: options.limit,
    skipBad: options.skipBad ?? false,
    map: options.map,
    engine: { engine: config.engine, model: config.model, baseUrl: config.baseUrl, threads: config.threads },
    template: options.template,
    chatFormat: options.chatFormat ?? "auto",
    scaling: { ...DEFAULT_SCALING, ...scalingFromRequest(options) },
    sweep: sweeps.length === 0 ? undefined : sweeps.length === 1 ? sweeps[0] : sweeps,
    samples,
    swap: options.swap ?? false,
    allowTie: options.tie ?? false,
    temperature: options.temperature ?? (samples > 1 ? 0.7 : 0),
    seed: options.seed ?? 0,
  };
}

/** Runs a benchmark in one call: `await evaluate({bench: "pairs", data: "pairs.jsonl", model: "tiny", waits: 2})`. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  const settings = evalSettings(options);
  const store = typeof options.store === "object" ? options.store : openRunStore(options.store ?? defaultStorePath());
  try {
    const { engine, owned } = await engineFor(options);
    try {
      const model = settings.engine.model ?? settings.engine.baseUrl ?? "model";
      const label = options.label ?? `${model.split("/").pop()}, waits ${settings.scaling.waits}`;
      const run = await runEval({ settings, store, engine, label, progress: options.progress, signal: options.signal });
      if (run.interrupted) return { runId: run.runId, run, storeFile: store.file };
      const report = buildRunReport(store, run.runId);
      store.saveReport(run.runId, report);
      return { runId: run.runId, report, run, storeFile: store.file };
    } finally {
      if (owned) await engine.dispose();
    }
  } finally {
    if (typeof options.store !== "object") store.close();
  }
}
