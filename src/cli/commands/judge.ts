import { warningText, type EngineWarning } from "../../engines/engine-warnings.js";
import { createWriteStream, existsSync } from "node:fs";
import path from "node:path";
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { badInput, errorMessage } from "../../core/errors.js";
import type { Judgment } from "../../core/judgment.js";
import { DEFAULT_POINTWISE_TEMPLATE, type JudgeTemplate } from "../../core/template.js";
import { createEngine } from "../../engines/create-engine.js";
import { TINY_MODEL_NOTE } from "../../engines/tiny/tiny-model.js";
import { Judge, type JudgeCallOptions } from "../../judge/judge.js";
import type { EngineConfig } from "../../engines/create-engine.js";
import type { Engine } from "../../engines/engine.js";
import { readPairFile } from "../../eval/benchmarks/pairs.js";
import type { JudgeableItem, LoadOptions } from "../../eval/types.js";
import { buildItemPlan, type JudgingOptions, type PlannedItem } from "../../jobs/item-plan.js";
import { runJudgingJob } from "../../jobs/judging-job.js";
import { formatNotes, resolvePromptFormat } from "../../judge/prompt-format.js";
import { defaultStorePath, openRunStore } from "../../store/run-store.js";
import { collectFieldMap, parseFieldMap } from "../field-map.js";
import { stopOnInterrupt } from "../interrupt.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { addEngineFlags, addScalingFlags, formatOptions, engineConfig, scalingOptions, voteOptions, type EngineFlagValues, type ScalingFlagValues } from "../engine-flags.js";
import { formatJudgmentSummary, streamPrinter } from "../judgment-view.js";
import { parseProgressMode, Progress, type ProgressMode } from "../progress.js";

interface JudgeFlags extends EngineFlagValues, ScalingFlagValues {
  question?: string;
  a?: string;
  b?: string;
  response?: string;
  context?: string;
  input?: string;
  map?: string;
  output?: string;
  store?: string;
  resume: boolean;
  allowEmpty: boolean;
  force: boolean;
  json: boolean;
  pointwise: boolean;
  progress: ProgressMode;
}

export function registerJudge(program: Command): void {
  const command = program
    .command("judge")
    .description("Judge which of two responses is better (or score one), thinking first, with budget forcing.")
    .option("-q, --question <text>", "the user question (@file reads a file)")
    .option("-a, --a <text>", "response A (@file reads a file)")
    .option("-b, --b <text>", "response B (@file reads a file)")
    .option("--response <text>", "with --pointwise: the response to score (@file reads a file)")
    .option("--context <text>", "earlier conversation turns (@file reads a file)")
    .option("--pointwise", "score one response on the template's scale instead of comparing two", false)
    .option("-i, --input <file>", "pairs to judge: JSONL, JSON array, CSV or Parquet (.gz for text), fields question, a, b, optional id, context, label")
    .option("--map <mapping>", "with --input: field mapping as in j1 eval --bench pairs, e.g. question=prompt,a=resp1,b=resp2", collectFieldMap)
    .option("-o, --output <file>", "with --input: JSONL of judgments (default: stdout)")
    .option("--resume", "with --output: keep the judgments already in the file and judge only the rest", false)
    .option("--allow-empty", "with --input: run even when the file holds no pairs (otherwise an error)", false)
    .option("--store <file>", "with --input: the run store the judgments are also kept in, so a rerun reuses them", defaultStorePath())
    .option("--force", "with --output: overwrite an existing file", false)
    .option("--json", "print the whole judgment as JSON", false)
    .option("--progress <mode>", "auto, bar, lines, quiet or jsonl (with --input)", (text) => parseProgressMode(text), "auto");
  addEngineFlags(command);
  addScalingFlags(command);
  command.addHelpText(
    "after",
    `
Examples:
  j1 judge --model tiny --question "2+2?" --a "4" --b "5" --waits 2 --json
  j1 judge --model ./qwen3-8b-q4_k_m.gguf -q @question.txt -a @a.txt -b @b.txt --waits 4 --max-thinking 2048
  j1 judge --base-url http://127.0.0.1:8080/v1 --input pairs.jsonl --output judgments.jsonl --swap`,
  );
  command.action(async (flags: JudgeFlags, self: Command) => {
    await runJudgeCommand(flags, (name) => self.getOptionValueSource(name) === "cli");
  });
}

async function textValue(value: string | undefined, flag: string): Promise<string | undefined> {
  if (value === undefined || !value.startsWith("@")) return value;
  const file = value.slice(1);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw badInput(`cannot read ${file} (${errorMessage(error)})`, { file, field: flag });
  }
}

async function runJudgeCommand(flags: JudgeFlags, typed: (name: string) => boolean): Promise<void> {
  const single = flags.question !== undefined || flags.a !== undefined || flags.b !== undefined || flags.response !== undefined;
  if (!single && !flags.input) throw badInput("give a pair (--question, --a, --b), a response with --pointwise, or --input pairs.jsonl");
  if (single && flags.input) throw badInput("give either a pair on the command line or --input, not both");
  // A flag that would do nothing is refused, not silently ignored: the user meant something by it.
  for (const [given, name, needs] of [
    [flags.output !== undefined, "--output", "--input"],
    [flags.resume, "--resume", "--input and --output"],
    [flags.force, "--force", "--input and --output"],
    [flags.map !== undefined, "--map", "--input"],
    [flags.allowEmpty, "--allow-empty", "--input"],
    [typed("store"), "--store", "--input"],
    [typed("progress"), "--progress", "--input"],
  ] as const) {
    if (given && !flags.input) throw badInput(`${name} goes with ${needs}: without --input there is no file of pairs to apply it to`, { field: name });
  }
  if ((flags.resume || flags.force) && flags.output === undefined) throw badInput(`${flags.resume ? "--resume" : "--force"} goes with --output FILE`, { field: flags.resume ? "--resume" : "--force" });
  if (flags.resume && flags.force) throw badInput("--resume keeps the judgments in --output and --force overwrites them: give one", { field: "--resume / --force" });
  if (flags.response !== undefined && !flags.pointwise) throw badInput("goes with --pointwise (a response scored on its own); a pair is --a and --b", { field: "--response" });
  if (flags.pointwise && (flags.a !== undefined || flags.b !== undefined)) throw badInput("--pointwise scores one --response; --a and --b are a pair", { field: flags.a !== undefined ? "--a" : "--b" });
  if (flags.pointwise && flags.swap) throw badInput("--swap judges a pair in both orders; a --pointwise rating has no order", { field: "--swap" });
  if (flags.pointwise && flags.tie) throw badInput("--tie allows [[tie]] between two responses; a --pointwise rating is a score", { field: "--tie" });
  const question = await textValue(flags.question, "--question");
  const a = await textValue(flags.a, "--a");
  const b = await textValue(flags.b, "--b");
  const response = await textValue(flags.response, "--response");
  const context = await textValue(flags.context, "--context");
  if (single) {
    if (question === undefined) throw badInput("missing --question");
    if (flags.pointwise && response === undefined) throw badInput("--pointwise needs --response");
    if (!flags.pointwise && (a === undefined || b === undefined)) throw badInput("a pair needs both --a and --b");
  }
  if (flags.input && flags.output) await checkOutput(flags);

  const template = flags.template ? await readTemplateFile(flags.template) : flags.pointwise ? DEFAULT_POINTWISE_TEMPLATE : undefined;
  const orders = flags.swap ? 2 : 1;
  // In process the samples of one order follow each other on one sequence (they share its prompt): more
  // sequences than orders would sit idle for one pair.
  const concurrentSamples = flags.baseUrl === undefined && flags.engine === "llamacpp" ? 1 : flags.samples;
  const config = engineConfig(flags, { parallel: Math.min(64, concurrentSamples * orders * (flags.input ? 2 : 1)) });
  if (config.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
  const callOptions: JudgeCallOptions = voteOptions(flags);
  // Checked before a model loads: a bad format or scaling flag is refused at once.
  const format = formatOptions(flags);
  const scaling = scalingOptions(flags);
  if (!single) {
    if (flags.pointwise) throw badInput("--input judges pairs; to score single responses use j1 eval with a rating benchmark, or --pointwise with --response", { field: "--pointwise" });
    await judgeFile(flags, config, template, callOptions);
    return;
  }
  const engine = await createEngine(config);
  try {
    const judge = await Judge.create({ engine, template, ...format, scaling });
    for (const note of formatNotes(judge.format, callOptions.temperature ?? 0)) console.error(`j1: ${note}`);
    const streaming = !flags.json && flags.samples * orders === 1;
    const print = streaming ? streamPrinter() : undefined;
    const options = { ...callOptions, itemKey: "cli", onEvent: print };
    const judgment = flags.pointwise
      ? await judge.judgePoint({ question: question as string, response: response as string, context }, options)
      : await judge.judgePair({ question: question as string, a: a as string, b: b as string, context }, options);
    const warnings = engine.warnings ?? [];
    // The engine as it ran (for llamacpp, which binary: "binding"), then what it could not do as asked.
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...judgment, engine: engine.describe(), ...(warnings.length > 0 ? { warnings } : {}) }, null, 2)}\n`);
    else process.stdout.write(`${streaming ? "\n\n" : ""}${formatJudgmentSummary(judgment, { useColor: Boolean(process.stdout.isTTY) })}\n`);
    printWarnings(warnings);
    // A judgment the engine could not make is a failure of the command, not a result.
    if (judgment.status === "engine-error") process.exitCode = 1;
  } finally {
    await engine.dispose();
  }
}

/** What the engine could not do as asked, once each, on stderr. */
function printWarnings(warnings: readonly EngineWarning[]): void {
  for (const warning of warnings) console.error(`j1: warning: ${warningText(warning)}`);
}

/** The output file, opened before any judging: a file that cannot be written is bad input (exit 2), not an unhandled error event. */
async function openOutput(file: string, append: boolean): Promise<NodeJS.WritableStream> {
  const stream = createWriteStream(file, { flags: append ? "a" : "w" });
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (error) => reject(badInput(`cannot write ${file}: ${error.message}`, { field: "--output", file })));
  });
  return stream;
}

async function checkOutput(flags: JudgeFlags): Promise<void> {
  const output = flags.output as string;
  // Checked before any judging: a folder that is not there would otherwise end the run with a stack trace.
  const folder = path.dirname(path.resolve(output));
  if (!existsSync(folder) || !(await stat(folder)).isDirectory()) throw badInput(`no folder ${folder} to write ${output} in`, { field: "--output", file: output });
  if (existsSync(output) && (await stat(output)).isDirectory()) throw badInput(`${output} is a folder: give a file name`, { field: "--output", file: output });
  if (!existsSync(output) || flags.force || flags.resume) return;
  if ((await stat(output)).size > 0) throw badInput(`${output} exists: pass --resume to continue it or --force to overwrite it`, { file: output });
}

async function judgedIds(output: string): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!existsSync(output)) return ids;
  const text = await readFile(output, "utf8");
  text.split("\n").forEach((line, index) => {
    if (line.trim().length === 0) return;
    try {
      const value = JSON.parse(line) as { id?: unknown };
      if (typeof value.id === "string") ids.add(value.id);
    } catch {
      // A line cut short by a kill: it is judged again (and the broken line stays, ignored).
      console.error(`j1: ${output}:${index + 1}: unreadable line ignored (it will be judged again)`);
    }
  });
  return ids;
}

/**
 * `j1 judge --input`: the pairs of a file through the judging job (jobs/judging-job.ts), the same one
 * `j1 eval` runs: the file is read in any format eval reads and checked whole before a model loads; each
 * judgment is kept in the run store and written to the output as soon as it is done; with --resume the
 * pairs already in the output are skipped, and any judged before a kill but not written are found by key.
 */
async function judgeFile(flags: JudgeFlags, config: EngineConfig, template: JudgeTemplate | undefined, call: JudgeCallOptions): Promise<void> {
  const input = flags.input as string;
  const done = flags.output && flags.resume ? await judgedIds(flags.output) : new Set<string>();
  const source: LoadOptions = { data: [input], map: parseFieldMap(flags.map) };
  let total = 0;
  let skippedDone = 0;
  let pass = 0;
  const items = async function* (): AsyncGenerator<PlannedItem<JudgeableItem>> {
    const counting = pass++ === 0;
    for await (const item of readPairFile({ ...source, flag: "--input", labels: "optional" })) {
      if (counting) total++;
      if (!done.has(item.id)) yield { item, protocol: "as-is" };
      else if (counting) skippedDone++;
    }
  };
  const store = openRunStore(flags.store ?? defaultStorePath());
  let out: NodeJS.WritableStream | undefined;
  let progress: Progress | undefined;
  const counts: Record<string, number> = { A: 0, B: 0, tie: 0, none: 0 };
  let engine: Engine | undefined;
  const interrupt = stopOnInterrupt();
  try {
    const judging: JudgingOptions = { template, scaling: scalingOptions(flags), ...voteOptions(flags) };
    const result = await runJudgingJob<PlannedItem<JudgeableItem>>({
      store,
      run: { kind: "judge", benchmark: "judge", label: `judge ${path.basename(input)}`, settings: { schemaVersion: 1, kind: "judge", input: path.resolve(input), map: source.map, engine: { ...config, apiKey: undefined }, judging } },
      items,
      scored: (planned) => ({ id: planned.item.id, category: planned.item.category, label: planned.item.label ?? "" }),
      // Counted from the file (items already in --output are not yielded again), so a finished file is not "empty".
      emptySource: () => (total > 0 || flags.allowEmpty ? undefined : `${input}: no pairs to judge: pass --allow-empty to run anyway`),
      plan: async () => {
        if (skippedDone > 0) console.error(`j1: resuming: ${skippedDone} of ${total} already judged in ${flags.output}`);
        out = flags.output ? await openOutput(flags.output, flags.resume) : process.stdout;
        progress = new Progress("judge", total, flags.output ? flags.progress : flags.progress === "auto" ? "quiet" : flags.progress, process.stderr, skippedDone);
        engine = await createEngine(config);
        const format = await resolvePromptFormat(formatOptions(flags).chatFormat, engine, formatOptions(flags));
        for (const note of formatNotes(format, judging.temperature)) console.error(`j1: ${note}`);
        return buildItemPlan({ engine, format, options: judging });
      },
      signal: interrupt.signal,
      progress: { setTotal: () => undefined, tick: (update) => progress?.tick(update) },
      onItem: ({ item, judgments }) => {
        const judgment = judgments[0];
        const verdict = judgment.verdict ?? "none";
        counts[verdict] = (counts[verdict] ?? 0) + 1;
        // One line per judgment, written as soon as it is done: a killed run loses nothing finished.
        out?.write(`${JSON.stringify({ id: item.item.id, ...judgment })}\n`);
      },
    });
    progress?.finish();
    if (!result.interrupted) store.setRunStatus(result.runId, "done", { verdicts: counts, warnings: engine?.warnings ?? [], ...(engine ? { engine: engine.describe() } : {}) });
    if (out !== undefined && out !== process.stdout) await new Promise<void>((resolve, reject) => (out as NodeJS.WritableStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
    const summary = { run: result.runId, judged: result.judged, reused: result.reused, skippedAlreadyDone: skippedDone, verdicts: counts, interrupted: result.interrupted };
    if (flags.json) console.log(JSON.stringify(summary));
    else console.error(`j1: judged ${result.judged + result.reused} pairs (A ${counts.A}, B ${counts.B}, tie ${counts.tie}, none ${counts.none})${result.reused ? `, ${result.reused} reused from ${store.file}` : ""}${flags.output ? ` -> ${flags.output}` : ""}`);
    if (engine) printWarnings(engine.warnings ?? []);
    if (result.interrupted) {
      console.error(`j1: interrupted; continue with the same command and --resume`);
      process.exitCode = 130;
    }
  } finally {
    interrupt.dispose();
    store.close();
    await engine?.dispose();
  }
}
