import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_SCALING } from "../../core/budget.js";
import { badInput } from "../../core/errors.js";
import type { ServerFigures } from "../../engines/engine.js";
import { createEngine } from "../../engines/create-engine.js";
import { TINY_MODEL_NOTE } from "../../engines/tiny/tiny-model.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { BENCHMARKS, getBenchmark } from "../../eval/benchmarks/registry.js";
import { effectiveProtocol, ORDER_BENCHMARKS, PAIR_ORDERS, type EvalSettings, type PairOrder } from "../../eval/eval-settings.js";
import { failureLines, hasFailedJudgments } from "../../eval/report/failures.js";
import { CACHE_DEPENDENT_LABEL } from "../../eval/report/reproducible.js";
import { hasIdenticalResponses, identicalPairsText, populationText } from "../../eval/item-stream.js";
import { LabelTally } from "../../eval/scoring/label-balance.js";
import { expandBenchmarks } from "../../eval/paper.js";
import { renderTerminal } from "../../eval/report/index.js";
import { buildRunReport } from "../../eval/run-report.js";
import { collectItems, runEval } from "../../eval/runner.js";
import { checkSweeps, parseSweep } from "../../eval/sweep.js";
import { parseShard, type Shard } from "../../eval/shard.js";
import { defaultStorePath, openExistingStore, openRunStore } from "../../store/run-store.js";
import { storeFlag } from "../suggest.js";
import { addEngineFlags, addScalingFlags, chatFormat, engineConfig, integerFlag, refuseIdleEngineFlags, scalingOptions, voteOptions, type EngineFlagValues, type ScalingFlagValues } from "../engine-flags.js";
import { refuseOnResume } from "../flag-rules.js";
import { downloadProgress, parseProgressMode, Progress, type ProgressMode } from "../progress.js";
import { stopOnInterrupt } from "../interrupt.js";
import { parseFieldMap } from "../field-map.js";
import { evalSettingsOf } from "../../jobs/run-settings.js";

interface EvalFlags extends EngineFlagValues, ScalingFlagValues {
  bench: string[];
  data: string[];
  variant: string[];
  map?: string;
  limit?: number;
  shard?: Shard;
  limitFirst?: boolean;
  skipBad: boolean;
  dryRun: boolean;
  sweep: string[];
  resume?: string;
  retryErrors: boolean;
  allowErrors: boolean;
  allowEmpty: boolean;
  order?: PairOrder;
  store?: string;
  label?: string;
  json: boolean;
  progress: ProgressMode;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(",").map((part) => part.trim()).filter(Boolean)];
const collectRaw = (value: string, previous: string[]) => [...previous, value];

export function registerEval(program: Command): void {
  const command = program
    .command("eval")
    .description("Measure a judge on benchmarks with their official scoring; sweep test-time scaling; resumable.")
    .option("--bench <names>", `benchmarks (repeat or comma-separate): ${Object.keys(BENCHMARKS).join(", ")}, or paper (the J1 table)`, collect, [])
    .option("--data <file>", "local data: FILE for a single benchmark, or NAME=FILE (repeatable)", collectRaw, [])
    .option("--variant <name>", "a benchmark's protocol variant besides the official one: NAME, or BENCH=NAME with several benchmarks (rewardbench2: ratings, rotations)", collectRaw, [])
    .option("--map <mapping>", "pairs: field mapping, e.g. question=input,a=output_1,b=output_2,label=label")
    .option("--limit <n>", "items per benchmark: a stratified seeded sample across subsets and sections (groups are completed); every figure is labelled \"N of M items\"", integerFlag("--limit", 1))
    .option("--limit-first", "with --limit: take the first n items in file order instead of a sample")
    .option("--shard <i/n>", "judge the i-th of n shares of the items (deterministic, disjoint, whole groups), e.g. on n machines; join them with j1 runs merge", parseShard)
    .option("--skip-bad", "skip malformed rows (counted in the report) instead of stopping", false)
    .option("--dry-run", "load and validate the data, print item counts and the judgments the run would make; no model", false)
    .option(
      "--sweep <spec>",
      "scaling sweep: waits=0,1,2,4,8 (one pass), confidence=0.7,0.9 or stable=1,2 (adaptive, within --waits; one pass, with a waits sweep too: repeat --sweep), or max-thinking=256,512,1024",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--resume <run>", "continue a run (same settings, from the store); nothing done is judged again")
    .option("--retry-errors", "with --resume: judge again the items that failed in the engine (e.g. after an outage)", false)
    .option("--allow-errors", "exit 0 even when judgments failed (engine or parse errors); without it such a run exits 3", false)
    .option("--allow-empty", "run even when a benchmark's data holds no items (otherwise an error)", false)
    .option("--order <order>", `pairs: as-given, shuffle (one seeded random order per pair; the default) or both (both orders)`, parseOrder)
    .option("--store <file>", "run store (SQLite)", defaultStorePath())
    .option("--label <text>", "the run's name in tables (default: model and options)")
    .option("--json", "print the report as JSON", false)
    .option("--progress <mode>", "auto, bar, lines, quiet or jsonl (JSON lines on stderr)", (text) => parseProgressMode(text), "auto");
  addEngineFlags(command);
  addScalingFlags(command);
  command.addHelpText(
    "after",
    `
Examples:
  j1 eval --bench harmless --model tiny --limit 50 --sweep waits=0,1,2 --json
  j1 eval --bench harmless --model tiny --limit 50 --waits 8 --sweep waits=0,1,2,4,8 --sweep confidence=0.7,0.9
  j1 eval --bench paper --data rewardbench=filtered.parquet --model ./j1-7b.gguf --sweep waits=0,1,2,4
  j1 eval --bench pairs --data mine.csv --map question=prompt,a=resp1,b=resp2,label=winner --dry-run
  j1 eval --resume r20261127-233000-ab12
  j1 eval --resume r20261127-233000-ab12 --retry-errors

Exit codes: 0 done; 2 bad input (the message names the flag, file, row or field); 3 the run finished but
some judgments failed (engine or parse errors: the failures are listed by kind on stderr with the next
command to run; --allow-errors exits 0 instead); 130 interrupted (resume it); 1 anything else.`,
  );
  command.action(async (flags: EvalFlags, self: Command) => {
    await runEvalCommand(flags, self);
  });
}

function parseOrder(text: string): PairOrder {
  if ((PAIR_ORDERS as readonly string[]).includes(text)) return text as PairOrder;
  throw badInput(`"${text}" is not an order; use one of ${PAIR_ORDERS.join(", ")}`, { field: "--order" });
}

/** --variant entries per benchmark, each checked against the benchmark's own variants. */
export function parseVariants(entries: string[], benchmarks: string[]): Record<string, string> | undefined {
  if (entries.length === 0) return undefined;
  const variants: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf("=");
    const named = equals > 0 && benchmarks.includes(entry.slice(0, equals));
    const targets = named ? [entry.slice(0, equals)] : benchmarks.filter((name) => (getBenchmark(name).variants ?? []).length > 0);
    const variant = named ? entry.slice(equals + 1) : entry;
    if (targets.length === 0) throw badInput(`none of ${benchmarks.join(", ")} has protocol variants`, { field: "--variant" });
    if (!named && targets.length > 1) throw badInput(`several benchmarks have variants (${targets.join(", ")}): write --variant BENCH=NAME`, { field: "--variant" });
    for (const name of targets) {
      const known = getBenchmark(name).variants ?? [];
      if (!known.includes(variant)) throw badInput(`"${variant}" is not a variant of ${name}${known.length ? `: use one of ${known.join(", ")}` : " (it has none)"}`, { field: "--variant" });
      if (Object.hasOwn(variants, name)) throw badInput(`${name} is given two variants ("${variants[name]}" and "${variant}")`, { field: "--variant" });
      variants[name] = variant;
    }
  }
  return variants;
}

/** --data entries per benchmark, in the order given: a repeated --data adds a file, it does not replace one. */
export function parseData(entries: string[], benchmarks: string[]): Record<string, string[]> {
  const data: Record<string, string[]> = {};
  const add = (name: string, file: string) => {
    if (file.trim() === "") throw badInput(`an empty file name for ${name}`, { field: "--data" });
    (data[name] ??= []).push(file);
  };
  for (const entry of entries) {
    const equals = entry.indexOf("=");
    if (equals > 0 && benchmarks.includes(entry.slice(0, equals))) add(entry.slice(0, equals), entry.slice(equals + 1));
    else if (benchmarks.length === 1) add(benchmarks[0], entry);
    else throw badInput(`with several benchmarks, write --data NAME=FILE (got "${entry}"; benchmarks: ${benchmarks.join(", ")})`, { field: "--data" });
  }
  return data;
}

async function settingsFromFlags(flags: EvalFlags): Promise<EvalSettings> {
  if (flags.bench.length === 0) throw badInput("name at least one benchmark with --bench (or --resume RUN)", { field: "--bench" });
  if (flags.limitFirst && flags.limit === undefined) throw badInput("--limit-first goes with --limit N: it takes the first N items instead of a sample", { field: "--limit-first" });
  const benchmarks = expandBenchmarks(flags.bench);
  for (const name of benchmarks) getBenchmark(name);
  if (flags.order !== undefined && !benchmarks.some((name) => ORDER_BENCHMARKS.includes(name))) {
    throw badInput(`--order applies to ${ORDER_BENCHMARKS.join(", ")}; the other benchmarks keep their official order (use --swap for both orders)`, { field: "--order" });
  }
  if (flags.map !== undefined && !benchmarks.includes("pairs")) throw badInput(`renames the columns of a pairs file (--bench pairs); ${benchmarks.join(", ")} ${benchmarks.length === 1 ? "is" : "are"} read by their own loaders`, { field: "--map" });
  const config = engineConfig(flags);
  return {
    benchmarks,
    data: parseData(flags.data, benchmarks),
    variants: parseVariants(flags.variant, benchmarks),
    order: benchmarks.some((name) => ORDER_BENCHMARKS.includes(name)) ? (flags.order ?? "shuffle") : undefined,
    limit: flags.limit,
    shard: flags.shard,
    limitMode: flags.limit === undefined ? undefined : flags.limitFirst ? "first" : "sample",
    skipBad: flags.skipBad,
    map: parseFieldMap(flags.map),
    engine: { engine: config.engine, model: config.model, baseUrl: config.baseUrl, baseUrls: config.baseUrls, api: config.api, threads: config.threads, contextSize: config.contextSize, parallel: config.parallel },
    // No --template: each benchmark's official prompt where it has one, else j1's default for the item's kind.
    template: flags.template ? await readTemplateFile(flags.template) : undefined,
    chatFormat: chatFormat(flags),
    chatTemplateFile: flags.chatTemplate === undefined ? undefined : path.resolve(flags.chatTemplate),
    reasoning: flags.reasoningFormat,
    scaling: { ...DEFAULT_SCALING, ...scalingOptions(flags) },
    sweep: sweepsOf(flags),
    ...voteOptions(flags),
  };
}

/** The --sweep flags: one sweep stored as before (an object), several as a list, checked to share a run. */
function sweepsOf(flags: EvalFlags): EvalSettings["sweep"] {
  const sweeps = flags.sweep.map(parseSweep);
  checkSweeps(sweeps, flags.waits);
  return sweeps.length === 0 ? undefined : sweeps.length === 1 ? sweeps[0] : sweeps;
}

function defaultLabel(settings: EvalSettings): string {
  const model = settings.engine.model ?? settings.engine.baseUrl ?? "model";
  const short = model.split("/").pop() ?? model;
  const parts = [short];
  if (settings.scaling.waits) parts.push(`waits ${settings.scaling.waits}`);
  if (settings.scaling.maxThinkingTokens) parts.push(`cap ${settings.scaling.maxThinkingTokens}`);
  if (settings.samples > 1) parts.push(`K=${settings.samples}`);
  if (settings.swap) parts.push("swap");
  if (settings.shard) parts.push(`shard ${settings.shard.index}/${settings.shard.count}`);
  if (settings.limit !== undefined) parts.push(settings.limitMode === "first" ? `first ${settings.limit}` : `sample of ${settings.limit}`);
  // A sweep is what a run is most often told apart by ("tiny, cap 4096" twice says nothing).
  const sweeps = settings.sweep === undefined ? [] : Array.isArray(settings.sweep) ? settings.sweep : [settings.sweep];
  for (const sweep of sweeps) parts.push(`sweep ${sweep.setting}=${sweep.values.join(",")}`);
  return parts.join(", ");
}

/** What may come with --resume: the store, how to run (speed, the server's requests), how to report. */
const RESUME_FLAGS = new Set(["resume", "store", "retryErrors", "allowErrors", "allowEmpty", "json", "progress", "threads", "parallel", "contextSize", "timeout", "retries", "apiKey", "allowTextPrompt"]);

async function runEvalCommand(flags: EvalFlags, command: Command): Promise<void> {
  if (flags.retryErrors && !flags.resume) throw badInput("--retry-errors goes with --resume RUN: it judges again the failed items of a stored run", { field: "--retry-errors" });
  if (flags.resume && flags.order !== undefined) throw badInput("--order with --resume: a resumed run keeps the order it started with", { field: "--order" });
  if (flags.resume && flags.dryRun) throw badInput("--dry-run and --resume do not go together: a dry run reads data files, a resumed run reads the store", { field: "--dry-run" });
  if (flags.resume) refuseOnResume(command, RESUME_FLAGS);
  // A resumed run is read from a store that exists: a mistyped --store is refused, not created empty.
  const store = flags.dryRun ? undefined : flags.resume ? openExistingStore(flags.store ?? defaultStorePath()) : openRunStore(flags.store ?? defaultStorePath());
  try {
    let settings: EvalSettings;
    let label: string;
    if (flags.resume) {
      if (!store) throw badInput("--dry-run and --resume do not go together");
      const run = store.getRun(flags.resume);
      settings = evalSettingsOf(run);
      refuseIdleEngineFlags(flags, settings.engine.engine);
      // Speed settings may change on resume; they do not change verdicts.
      // So may the context size: a run whose long items failed for want of context can be resumed with
      // more (and --retry-errors).
      settings = {
        ...settings,
        engine: { ...settings.engine, threads: flags.threads ?? settings.engine.threads, parallel: flags.parallel ?? settings.engine.parallel, contextSize: flags.contextSize ?? settings.engine.contextSize },
      };
      label = run.label;
      flags.resume = run.id;
    } else {
      settings = await settingsFromFlags(flags);
      label = flags.label ?? defaultLabel(settings);
    }
    if (flags.dryRun) {
      await dryRun(settings, flags.json, flags.allowEmpty);
      return;
    }
    // The data is read and checked once before a model is loaded: bad rows and empty files stop here.
    const skippedErrors: string[] = [];
    const checked = await collectItems(settings, (error) => skippedErrors.push(error.message));
    refuseEmpty(settings, checked.perBenchmark, flags.allowEmpty);
    if (settings.engine.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
    const engine = await createEngine({ ...settings.engine, onDownloadProgress: downloadProgress("downloading model"), apiKey: flags.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY, timeoutMs: flags.timeout, maxRetries: flags.retries, allowTextPrompt: flags.allowTextPrompt, parallel: settings.engine.parallel ?? (settings.engine.engine === "openai" ? undefined : Math.max(2, settings.samples * (settings.swap ? 2 : 1) * 2)) });
    const interrupt = stopOnInterrupt();
    const progress = new Progress("eval", undefined, flags.progress);
    try {
      const result = await runEval({
        settings,
        store: store as NonNullable<typeof store>,
        engine,
        resumeRunId: flags.resume,
        label,
        progress,
        signal: interrupt.signal,
        onNote: (note) => console.error(`j1: ${note}`),
        // Counted again by the run; the messages were kept from the check above.
        onSkip: () => undefined,
        retryEngineErrors: flags.retryErrors,
        allowEmpty: flags.allowEmpty,
      });
      progress.finish();
      if (result.interrupted) {
        // A stopped run has items without a decision: it is scored once it is resumed to the end.
        if (flags.json) process.stdout.write(`${JSON.stringify({ run: result }, null, 2)}\n`);
        console.error(`j1: run ${result.runId} interrupted: ${result.judged} judged now, ${result.alreadyDone} done before, of ${result.items} items, in ${store?.file}`);
        console.error(`j1: continue: j1 eval --resume ${result.runId}${storeFlag(flags.store)}`);
        process.exitCode = 130;
        return;
      }
      const report = buildRunReport(store as NonNullable<typeof store>, result.runId);
      store?.saveReport(result.runId, report);
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...report, run: result }, null, 2)}\n`);
      else {
        process.stdout.write(`${renderTerminal([report])}\n`);
        for (const bench of report.benchmarks) {
          if (bench.frontier?.sentence) process.stdout.write(`  ${bench.benchmark} frontier: ${bench.frontier.sentence}\n`);
          for (const point of bench.sweep ?? []) {
            process.stdout.write(`  ${bench.benchmark} ${point.setting}=${point.value}: ${point.score.score.toFixed(2)} (mean thinking ${point.meanThinkingTokens.toFixed(1)} tokens, evaluated ${point.meanEvaluatedTokens.toFixed(1)} ${CACHE_DEPENDENT_LABEL})\n`);
          }
        }
      }
      for (const server of result.servers ?? []) console.error(`j1: ${serverLine(server)}`);
      if (skippedErrors.length) console.error(`j1: skipped ${skippedErrors.length} malformed rows (--skip-bad); first: ${skippedErrors[0]}`);
      const status = result.interrupted ? "interrupted" : "done";
      console.error(`j1: run ${result.runId} ${status}: ${result.items} items (${result.judged} judged now, ${result.reused} reused, ${result.alreadyDone} done before) in ${store?.file}`);
      // Each suggested command carries --store when the run is not in the default store, so it runs as printed.
      console.error(`j1: next: j1 report ${result.runId}${storeFlag(flags.store)} --html report.html`);
      for (const line of failureLines(report, `j1 eval --resume ${result.runId}${storeFlag(flags.store)}`, storeFlag(flags.store))) console.error(`j1: ${line}`);
      if (result.interrupted) process.exitCode = 130;
      else if (hasFailedJudgments(report) && !flags.allowErrors) {
        console.error("j1: exit 3: some judgments failed (--allow-errors to exit 0)");
        process.exitCode = EXIT_FAILED_JUDGMENTS;
      }
    } finally {
      interrupt.dispose();
      await engine.dispose();
    }
  } finally {
    store?.close();
  }
}

/** One server of a fleet, for the end of a run. */
export function serverLine(server: ServerFigures): string {
  const cached = server.cachedTokens + server.evaluatedTokens > 0 ? ` (${((100 * server.cachedTokens) / (server.cachedTokens + server.evaluatedTokens)).toFixed(1)}% from cache)` : "";
  const trouble = server.errors + server.failovers > 0 ? `, ${server.errors} errors, ${server.failovers} sessions moved away` : "";
  return `server ${server.baseUrl} ${server.up ? "up" : "down"}: ${server.sessions} sessions, ${server.requests} requests, ${server.evaluatedTokens} tokens evaluated, ${server.cachedTokens} cached${cached}${trouble}`;
}

/** The exit code of a finished run in which some judgment failed (engine or parse error), without --allow-errors. */
export const EXIT_FAILED_JUDGMENTS = 3;

/** A benchmark whose data holds no items is an error (a wrong file, a filter that kept nothing) unless allowed. */
function refuseEmpty(settings: EvalSettings, perBenchmark: ReadonlyMap<string, number>, allowEmpty: boolean): void {
  if (allowEmpty) return;
  const empty = settings.benchmarks.filter((name) => (perBenchmark.get(name) ?? 0) === 0);
  if (empty.length === 0) return;
  const files = empty.map((name) => {
    const data = settings.data[name];
    return data === undefined ? name : `${name} (${[data].flat().join(", ")})`;
  });
  throw badInput(`no items to judge in ${files.join("; ")}: pass --allow-empty to run anyway`, { field: "--data" });
}

async function dryRun(settings: EvalSettings, json: boolean, allowEmpty: boolean): Promise<void> {
  const skipped: string[] = [];
  // Counted as the items stream by, none kept: memory stays flat however large the file (300k rows).
  const categoriesOf = new Map<string, Record<string, number>>();
  const labelsOf = new Map<string, LabelTally>();
  const identicalOf = new Map<string, number>();
  const collected = await collectItems(settings, (error) => skipped.push(error.message), {
    keep: false,
    onItem: (name, item) => {
      let categories = categoriesOf.get(name);
      if (!categories) categoriesOf.set(name, (categories = {}));
      categories[item.category] = (categories[item.category] ?? 0) + 1;
      let labels = labelsOf.get(name);
      if (!labels) labelsOf.set(name, (labels = new LabelTally()));
      labels.add(item);
      if (hasIdenticalResponses(item)) identicalOf.set(name, (identicalOf.get(name) ?? 0) + 1);
    },
  });
  refuseEmpty(settings, collected.perBenchmark, allowEmpty);
  const benchmarks = settings.benchmarks.map((name) => {
    const benchmark = getBenchmark(name);
    const categories = categoriesOf.get(name) ?? {};
    const items = collected.perBenchmark.get(name) ?? 0;
    const protocol = effectiveProtocol(settings, benchmark);
    const warning = [labelsOf.get(name)?.warning(name, protocol), identicalPairsText(name, identicalOf.get(name) ?? 0)].filter((text) => text !== undefined).join("; ") || undefined;
    const population = collected.population[name];
    const partial = population !== undefined && population.items < population.of ? { partial: populationText(population) } : {};
    return { benchmark: name, protocol, items, ...partial, categories, judgments: collected.judgments.get(name) ?? 0, ...(warning === undefined ? {} : { warning }) };
  });
  const total = [...collected.perBenchmark.values()].reduce((sum, count) => sum + count, 0);
  const summary = { dryRun: true, items: total, skipped: collected.skipped, judgments: benchmarks.reduce((sum, bench) => sum + bench.judgments, 0), benchmarks, skippedRows: skipped.slice(0, 20) };
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  for (const bench of benchmarks) {
    process.stdout.write(`${bench.benchmark} (${bench.protocol}): ${"partial" in bench ? `partial: ${bench.partial}` : `${bench.items} items`}, ${bench.judgments} judgments\n`);
    for (const [category, count] of Object.entries(bench.categories)) process.stdout.write(`  ${category}: ${count}\n`);
    if (bench.warning) console.error(`j1: warning: ${bench.warning}`);
  }
  process.stdout.write(`total: ${summary.items} items, ${summary.judgments} judgments${summary.skipped ? `, ${summary.skipped} rows skipped` : ""}\n`);
}
