import path from "node:path";
import { Option, type Command } from "commander";
import { DEFAULT_SCALING } from "../../core/budget.js";
import { badInput } from "../../core/errors.js";
import { DEFAULT_PAIRWISE_TEMPLATE } from "../../core/template.js";
import { createEngine } from "../../engines/create-engine.js";
import type { Engine } from "../../engines/engine.js";
import { TINY_MODEL_NOTE } from "../../engines/tiny/tiny-model.js";
import { DEFAULT_REFLECTION_MARKERS, parseMarkers } from "../../data/reflection.js";
import { PAIR_BENCHMARK_NAMES, preferencePairs, type PairSourceSpec } from "../../data/pair-source.js";
import { collectFieldMap, parseFieldMap } from "../field-map.js";
import { SFT_RUN_KIND, buildSftData, type SftSettings } from "../../data/sft-run.js";
import { checkWritable, planOutputs, writeOutputs, type SftOutputRequest } from "../../data/sft-outputs.js";
import { renderSftStats } from "../../data/sft-stats.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { sftSettingsOf } from "../../jobs/run-settings.js";
import { defaultStorePath, openExistingStore, openRunStore } from "../../store/run-store.js";
import { addEngineFlags, addScalingFlags, chatFormat, engineConfig, nonNegativeInt, positiveInt, refuseIdleEngineFlags, scalingOptions, type EngineFlagValues, type ScalingFlagValues } from "../engine-flags.js";
import { refuseOnResume } from "../flag-rules.js";
import { checkOutputFile, checkOutputFolder } from "../output-file.js";
import { parseProgressMode, Progress, type ProgressMode } from "../progress.js";
import { stopOnInterrupt } from "../interrupt.js";
import { addAliasedOption } from "../output-flags.js";
import { storeFlag } from "../suggest.js";
import { dataCommand, refuseIdleMap } from "./data-rl.js";

interface DataSftFlags extends EngineFlagValues, ScalingFlagValues {
  input?: string;
  bench?: string;
  data?: string;
  map?: string;
  limit?: number;
  output?: string;
  outputDir?: string;
  format?: string;
  openrlhfInput: string;
  datasetName: string;
  stats?: string;
  requireReflection: boolean;
  requireProductiveReflection: boolean;
  reflectionMarkers?: string;
  countInjectedWaits: boolean;
  keepForced: boolean;
  maxThinkingChars?: number;
  maxTokens?: number;
  minThinkingTokens?: number;
  dedup: boolean;
  balance: boolean;
  store: string;
  resume?: string;
  label?: string;
  force: boolean;
  progress: ProgressMode;
  allowEmpty: boolean;
}

/** Defaults of the shared scaling flags that differ for data generation (help text and value both). */
const SFT_DEFAULTS = { waits: 1, samples: 4, temperature: 0.7 } as const;

const RULES = `
How traces become training data (rejection sampling, J1 recipe step 1):
  - every pair is judged --samples K times in BOTH orders (2K candidate traces per pair); a trace is
    accepted when its verdict, mapped back to the pair's A/B, matches the label
  - the prompt is the judge prompt the model saw in that order (system + user, or the rendered text);
    the completion is <think>thinking</think>[[X]], X as written in that order
  - injected wait text stays in the thinking as if the model wrote it (that is how budget-forced
    reflection becomes learned behaviour); a forced end (the --max-thinking cap) drops the trace unless
    --keep-forced; the injected "[[" and the generated "A]]" become "[[A]]"
  - reflection = a marker (--reflection-markers, whole words, any case) in text the model GENERATED while
    thinking, or, with --count-injected-waits (default), an injected wait the model continued with
    thinking of its own; an injected "Wait" alone never counts
  - filters in order: verdict read, label match, ended by itself, reflection (--require-reflection),
    length, dedup (same prompt + completion), A/B balance (equal [[A]] and [[B]] answers; the surplus
    dropped by seed). Balance is last so the exported data stays balanced.
  - every judgment is committed to the run store as it is done; --resume RUN (or a run killed at any
    point, resumed) judges only what is missing and writes the same files.

Training with the exports:
  OpenRLHF   --input_key input --output_key output --input_template "{}"   (--openrlhf-input text)
             --input_key input --output_key output --apply_chat_template  (--openrlhf-input messages)
             (dotted-flag releases: --data.input_key, --data.output_key, ...)
  LLaMA-Factory  dataset: <--dataset-name> from dataset_info.json, formatting sharegpt
  TRL        SFTTrainer on {"messages": [...]} (assistant_only_loss=True to train on the verdict turn only)`;

export function registerDataSft(program: Command): void {
  const command = dataCommand(program)
    .command("sft")
    .description("Reflection-enhanced SFT data by rejection sampling: a teacher judge with budget forcing judges labelled pairs K times in both orders; traces whose verdict matches the label become OpenRLHF / LLaMA-Factory / TRL examples.")
    .option("-i, --input <file>", "pairs: JSONL, JSON array, CSV or Parquet with question, a, b, label (A or B), optional id, context, category (--map renames)")
    .option("--bench <name>", `or take the pairs from a benchmark loader (ties are skipped): ${PAIR_BENCHMARK_NAMES.join(", ")} (pairs: with --data and --map)`)
    .option("--data <path>", "with --bench: the benchmark's local file or folder")
    .option("--map <mapping>", "with --input or --bench pairs: field mapping, e.g. question=prompt,a=chosen,b=rejected,label=label", collectFieldMap)
    .option("--limit <n>", "use only the first n pairs", positiveInt("--limit"));
  addAliasedOption(command, { flags: "-o, --output <file>", description: "write one format to this file (see --format)", aliases: ["--out"] });
  addAliasedOption(command, { flags: "--output-dir <dir>", description: "write every chosen format into this folder, with dataset_info.json and sft-stats.json", aliases: ["--out-dir"] });
  command
    .addOption(new Option("--format <name>", "openrlhf, sharegpt, trl or all (default: all with --output-dir, openrlhf with --output)").choices(["openrlhf", "sharegpt", "trl", "all"]))
    .addOption(new Option("--openrlhf-input <kind>", "OpenRLHF input: the rendered prompt text, or chat messages (for --apply_chat_template)").choices(["text", "messages"]).default("text"))
    .option("--dataset-name <name>", "LLaMA-Factory dataset name in dataset_info.json", "j1_sft")
    .option("--stats <file>", "also write the stats report as JSON here")
    .option("--require-reflection", "keep only traces with reflection (see the rule below)", false)
    .option("--require-productive-reflection", "keep only traces whose reflection turned a wrong verdict right: wrong when read before any wait, right at the end (reads the verdict at every attempted end; those probes are counted)", false)
    .option("--reflection-markers <list>", `comma-separated reflection markers (default: ${DEFAULT_REFLECTION_MARKERS.join(",")})`)
    .option("--count-injected-waits", "an injected wait the model continued with its own thinking counts as reflection", true)
    .option("--no-count-injected-waits", "only markers in generated thinking count as reflection")
    .option("--keep-forced", "keep traces whose thinking was ended by the --max-thinking cap", false)
    .option("--max-thinking-chars <n>", "drop traces whose thinking is longer (characters)", positiveInt("--max-thinking-chars"))
    .option("--max-tokens <n>", "drop examples whose completion is longer (tokens where the engine counts them, else characters)", positiveInt("--max-tokens"))
    .option("--min-thinking-tokens <n>", "drop traces with fewer thinking tokens", nonNegativeInt("--min-thinking-tokens"))
    .option("--no-dedup", "keep identical (prompt, completion) examples")
    .option("--no-balance", "keep the [[A]]/[[B]] answers unbalanced")
    .option("--store <file>", "run store (SQLite)", defaultStorePath())
    .option("--resume <run>", "continue a data-sft run (same settings, from the store); output flags may be given again")
    .option("--label <text>", "the run's name in `j1 runs`")
    .option("--force", "overwrite existing output files", false)
    .option("--allow-empty", "run even when the pairs source holds no pairs (otherwise an error)", false)
    .option("--progress <mode>", "auto, bar, lines, quiet or jsonl (JSON lines on stderr)", (text) => parseProgressMode(text), "auto");
  addEngineFlags(command);
  addScalingFlags(command);
  overrideDefault(command, "--waits", SFT_DEFAULTS.waits, "times an attempt to end thinking is replaced by the wait text (draws out reflection)");
  overrideDefault(command, "--samples", SFT_DEFAULTS.samples, "K traces per order; every trace is a candidate (no vote)");
  describe(command, "--temperature", `sampling temperature (default ${SFT_DEFAULTS.temperature}: rejection sampling needs varied traces)`);
  describe(command, "--swap", "(always on here: both orders are judged)");
  command.addHelpText(
    "after",
    `${RULES}

Examples:
  j1 data sft --input pairs.jsonl --model tiny --output-dir sft/ --samples 4 --waits 1
  j1 data sft --bench pairs --data helpsteer2.parquet --map question=prompt,a=response_a,b=response_b,label=winner \\
      --base-url http://127.0.0.1:8000/v1 --model teacher --require-reflection --max-tokens 4096 --output-dir sft/
  j1 data sft --resume r20261127-233000-ab12 --output-dir sft/`,
  );
  command.action(async (flags: DataSftFlags, self: Command) => {
    await runDataSft(flags, self);
  });
}

/** The shared scaling flags default to judging; data generation wants other defaults. */
function overrideDefault(command: Command, long: string, value: number, description: string): void {
  const option = command.options.find((candidate) => candidate.long === long);
  if (!option) return;
  option.default(value);
  option.description = description;
  command.setOptionValueWithSource(option.attributeName(), value, "default");
}

function describe(command: Command, long: string, description: string): void {
  const option = command.options.find((candidate) => candidate.long === long);
  if (option) option.description = description;
}

function outputRequest(flags: DataSftFlags): SftOutputRequest {
  // The stored request keeps its field names (out, outDir): runs saved before the flags were renamed resume as they are.
  return { out: flags.output, outDir: flags.outputDir, format: flags.format, stats: flags.stats, datasetName: flags.datasetName, openRlhfInput: flags.openrlhfInput as SftOutputRequest["openRlhfInput"], force: flags.force };
}

async function settingsFromFlags(flags: DataSftFlags): Promise<SftSettings> {
  if ((flags.input === undefined) === (flags.bench === undefined)) throw badInput("give exactly one of --input FILE or --bench NAME (or --resume RUN)", { field: "--input / --bench" });
  if (flags.data !== undefined && flags.bench === undefined) throw badInput("goes with --bench (an --input file is read directly)", { field: "--data" });
  refuseIdleMap(flags.map, flags.bench);
  if (flags.tie) throw badInput("SFT examples need an A or B verdict; --tie is not supported here", { field: "--tie" });
  const template = flags.template ? await readTemplateFile(flags.template) : DEFAULT_PAIRWISE_TEMPLATE;
  if (template.kind !== "pairwise") throw badInput(`template "${template.name}" is ${template.kind}; SFT data from pairs needs a pairwise template`, { file: flags.template });
  const source: PairSourceSpec =
    flags.input !== undefined
      ? { input: path.resolve(flags.input), map: parseFieldMap(flags.map) }
      : { bench: flags.bench, data: flags.data === undefined ? undefined : path.resolve(flags.data), map: parseFieldMap(flags.map) };
  const markers = flags.reflectionMarkers === undefined ? [...DEFAULT_REFLECTION_MARKERS] : parseMarkers(flags.reflectionMarkers);
  if (markers.length === 0 && !flags.countInjectedWaits && flags.requireReflection) throw badInput("no reflection markers and injected waits do not count: nothing could pass --require-reflection", { field: "--reflection-markers" });
  const config = engineConfig(flags);
  // --swap is implied: both orders are always judged; the shared flag is accepted and changes nothing.
  return {
    kind: SFT_RUN_KIND,
    source: source as Record<string, unknown>,
    limit: flags.limit,
    engine: { engine: config.engine, model: config.model, baseUrl: config.baseUrl, baseUrls: config.baseUrls, api: config.api, threads: config.threads, contextSize: config.contextSize, parallel: config.parallel },
    template,
    chatFormat: chatFormat(flags),
    chatTemplateFile: flags.chatTemplate === undefined ? undefined : path.resolve(flags.chatTemplate),
    reasoning: flags.reasoningFormat,
    scaling: { ...DEFAULT_SCALING, ...scalingOptions(flags), ...(flags.requireProductiveReflection ? { probeEveryEnd: true } : {}) },
    samples: flags.samples,
    temperature: flags.temperature ?? SFT_DEFAULTS.temperature,
    seed: flags.seed,
    reflection: { markers, countInjectedWaits: flags.countInjectedWaits },
    filters: {
      requireReflection: flags.requireReflection,
      ...(flags.requireProductiveReflection ? { requireProductiveReflection: true } : {}),
      keepForced: flags.keepForced,
      maxThinkingChars: flags.maxThinkingChars,
      maxTokens: flags.maxTokens,
      minThinkingTokens: flags.minThinkingTokens,
      dedup: flags.dedup,
      balance: flags.balance,
    },
    output: outputRequest(flags) as unknown as Record<string, unknown>,
  };
}

/** On --resume, output flags given again replace the saved ones; everything else comes from the run. */
function resumedOutput(saved: SftOutputRequest, flags: DataSftFlags, command: Command): SftOutputRequest {
  const given = (name: string) => command.getOptionValueSource(name) === "cli";
  const request = { ...saved, force: flags.force };
  if (given("output") || given("outputDir")) {
    request.out = flags.output;
    request.outDir = flags.outputDir;
  }
  if (given("format")) request.format = flags.format;
  if (given("stats")) request.stats = flags.stats;
  if (given("datasetName")) request.datasetName = flags.datasetName;
  if (given("openrlhfInput")) request.openRlhfInput = flags.openrlhfInput as SftOutputRequest["openRlhfInput"];
  return request;
}

function defaultLabel(settings: SftSettings): string {
  const model = settings.engine.model ?? settings.engine.baseUrl ?? "model";
  const parts = [`sft ${model.split("/").pop() ?? model}`, `waits ${settings.scaling.waits ?? 0}`, `K=${settings.samples}`];
  if (settings.filters.requireReflection) parts.push("reflection");
  return parts.join(", ");
}

/** What may come with --resume: the store, how to run (speed, the server's requests), the outputs. */
const RESUME_FLAGS = new Set(["resume", "store", "force", "progress", "allowEmpty", "threads", "parallel", "contextSize", "timeout", "retries", "apiKey", "allowTextPrompt", "output", "outputDir", "out", "outDir", "format", "stats", "datasetName", "openrlhfInput"]);

async function runDataSft(flags: DataSftFlags, command: Command): Promise<void> {
  // A resumed run is read from a store that exists: a mistyped --store is refused, not created empty.
  const store = flags.resume !== undefined ? openExistingStore(flags.store) : openRunStore(flags.store);
  try {
    let settings: SftSettings;
    let label: string;
    let resumeRunId: string | undefined;
    if (flags.resume !== undefined) {
      refuseOnResume(command, RESUME_FLAGS);
      const run = store.getRun(flags.resume);
      settings = sftSettingsOf(run);
      refuseIdleEngineFlags(flags, settings.engine.engine);
      // Speed settings may change on resume; they do not change traces. Nor does the context size (a run
      // whose long pairs failed for want of context can be resumed with more).
      settings = { ...settings, engine: { ...settings.engine, threads: flags.threads ?? settings.engine.threads, parallel: flags.parallel ?? settings.engine.parallel, contextSize: flags.contextSize ?? settings.engine.contextSize } };
      settings.output = resumedOutput(settings.output as unknown as SftOutputRequest, flags, command) as unknown as Record<string, unknown>;
      label = run.label;
      resumeRunId = run.id;
    } else {
      settings = await settingsFromFlags(flags);
      label = flags.label ?? defaultLabel(settings);
    }
    refuseIdleOutputFlags(settings.output as unknown as SftOutputRequest, command);
    const request = settings.output as unknown as SftOutputRequest;
    const plan = planOutputs(request);
    // Where the files go is checked before any judging: a folder, a missing folder, a path under a file.
    if (request.outDir !== undefined) checkOutputFolder(request.outDir, "--output-dir");
    else for (const { file } of plan.files) checkOutputFile(file, "--output", { replace: plan.overwrite });
    if (request.stats !== undefined) checkOutputFile(request.stats, "--stats", { replace: plan.overwrite });
    checkWritable(plan);
    const source = preferencePairs(settings.source as PairSourceSpec);

    let engine: Engine | undefined;
    const loadEngine = async () => {
      if (settings.engine.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
      engine = await createEngine({
        ...settings.engine,
        apiKey: flags.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY,
        timeoutMs: flags.timeout,
        maxRetries: flags.retries,
        allowTextPrompt: flags.allowTextPrompt,
        parallel: settings.engine.parallel ?? (settings.engine.engine === "openai" ? undefined : Math.max(2, settings.samples * 2 * 2)),
      });
      return engine;
    };
    const interrupt = stopOnInterrupt();
    const progress = new Progress("data sft", undefined, flags.progress);
    try {
      const result = await buildSftData({ settings, store, engine: loadEngine, pairs: source.read, resumeRunId, label, progress, signal: interrupt.signal, onNote: (note) => console.error(`j1: ${note}`), allowEmpty: flags.allowEmpty, sourceName: describeSource(settings.source as PairSourceSpec) });
      progress.finish();
      const counts = `${result.pairs} pairs (${result.judged} judged now, ${result.reused} reused, ${result.alreadyDone} done before)`;
      if (result.interrupted || result.stats === undefined || result.selection === undefined) {
        console.error(`j1: run ${result.runId} interrupted: ${counts}; nothing written. Continue: j1 data sft --resume ${result.runId}${storeFlag(store.file)}`);
        process.exitCode = 130;
        return;
      }
      const written = await writeOutputs(plan, result.selection.examples, result.stats);
      process.stderr.write(`${renderSftStats(result.stats)}\n`);
      if (source.skipped.ties > 0) console.error(`j1: ${source.skipped.ties} tie pairs skipped (no preference to learn)`);
      const { before } = result.stats.balance;
      if (settings.filters.balance && (before.A === 0) !== (before.B === 0)) {
        console.error(`j1: warning: every accepted answer was [[${before.A === 0 ? "B" : "A"}]], so balancing kept none; sample more (--samples, --temperature) or pass --no-balance`);
      } else if (result.stats.examples === 0) console.error("j1: warning: no example passed the filters; the files are empty (see the stages above)");
      if (plan.datasetInfoSnippet !== undefined) console.error(`j1: LLaMA-Factory dataset_info.json entry:\n${plan.datasetInfoSnippet}`);
      for (const file of written) console.log(file);
      console.error(`j1: run ${result.runId} done: ${counts} in ${store.file}`);
    } finally {
      interrupt.dispose();
      await engine?.dispose();
    }
  } finally {
    store.close();
  }
}

/** --dataset-name names the sharegpt output, --openrlhf-input shapes the openrlhf one: without it they would do nothing. */
function refuseIdleOutputFlags(request: SftOutputRequest, command: Command): void {
  const format = request.format ?? (request.outDir !== undefined ? "all" : "openrlhf");
  const given = (name: string) => command.getOptionValueSource(name) === "cli";
  if (given("datasetName") && format !== "all" && format !== "sharegpt") throw badInput(`names the LLaMA-Factory (sharegpt) output; this build writes ${format} only`, { field: "--dataset-name" });
  if (given("openrlhfInput") && format !== "all" && format !== "openrlhf") throw badInput(`shapes the OpenRLHF output; this build writes ${format} only`, { field: "--openrlhf-input" });
}

/** The pairs source as the user named it, for messages. */
function describeSource(source: PairSourceSpec): string {
  const spec = source as { input?: string; bench?: string; data?: string };
  return spec.input ?? (spec.data ? `${spec.bench} (${spec.data})` : String(spec.bench));
}
