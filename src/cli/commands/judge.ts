import { warningText, type EngineWarning } from "../../engines/engine-warnings.js";
import { createWriteStream, existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { badInput, errorMessage } from "../../core/errors.js";
import type { Judgment } from "../../core/judgment.js";
import { DEFAULT_POINTWISE_TEMPLATE } from "../../core/template.js";
import { createEngine } from "../../engines/create-engine.js";
import { TINY_MODEL_NOTE } from "../../engines/tiny/tiny-model.js";
import { Judge, type JudgeCallOptions } from "../../judge/judge.js";
import { readPairsFile, type PairRecord } from "../../judge/pair-file.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { addEngineFlags, addScalingFlags, formatOptions, engineConfig, samplingOptions, samplingTemperature, scalingOptions, type EngineFlagValues, type ScalingFlagValues } from "../engine-flags.js";
import { formatJudgmentSummary, streamPrinter } from "../judgment-view.js";
import { Progress, type ProgressMode } from "../progress.js";

interface JudgeFlags extends EngineFlagValues, ScalingFlagValues {
  question?: string;
  a?: string;
  b?: string;
  response?: string;
  context?: string;
  input?: string;
  output?: string;
  resume: boolean;
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
    .option("-i, --input <file>", "JSONL of pairs: question, a, b, optional id, context")
    .option("-o, --output <file>", "with --input: JSONL of judgments (default: stdout)")
    .option("--resume", "with --output: keep the judgments already in the file and judge only the rest", false)
    .option("--force", "with --output: overwrite an existing file", false)
    .option("--json", "print the whole judgment as JSON", false)
    .option("--progress <mode>", "auto, bar, lines, quiet or jsonl (with --input)", "auto");
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
  command.action(async (flags: JudgeFlags) => {
    await runJudgeCommand(flags);
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

async function runJudgeCommand(flags: JudgeFlags): Promise<void> {
  const single = flags.question !== undefined || flags.a !== undefined || flags.b !== undefined || flags.response !== undefined;
  if (!single && !flags.input) throw badInput("give a pair (--question, --a, --b), a response with --pointwise, or --input pairs.jsonl");
  if (single && flags.input) throw badInput("give either a pair on the command line or --input, not both");
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
  const config = engineConfig(flags, { parallel: Math.min(64, flags.samples * orders * (flags.input ? 2 : 1)) });
  if (config.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
  const engine = await createEngine(config);
  try {
    const judge = await Judge.create({ engine, template, ...formatOptions(flags), scaling: scalingOptions(flags) });
    for (const note of judge.format.notes) console.error(`j1: ${note}`);
    const callOptions: JudgeCallOptions = {
      samples: flags.samples,
      swap: flags.swap,
      allowTie: flags.tie,
      temperature: samplingTemperature(flags),
      sampling: samplingOptions(flags),
      seed: flags.seed,
    };
    if (single) {
      const streaming = !flags.json && flags.samples * orders === 1;
      const print = streaming ? streamPrinter() : undefined;
      const options = { ...callOptions, itemKey: "cli", onEvent: print };
      const judgment = flags.pointwise
        ? await judge.judgePoint({ question: question as string, response: response as string, context }, options)
        : await judge.judgePair({ question: question as string, a: a as string, b: b as string, context }, options);
      const warnings = engine.warnings ?? [];
      if (flags.json) process.stdout.write(`${JSON.stringify(warnings.length > 0 ? { ...judgment, warnings } : judgment, null, 2)}\n`);
      else process.stdout.write(`${streaming ? "\n\n" : ""}${formatJudgmentSummary(judgment, { useColor: Boolean(process.stdout.isTTY) })}\n`);
      printWarnings(warnings);
      // A judgment the engine could not make is a failure of the command, not a result.
      if (judgment.status === "engine-error") process.exitCode = 1;
      return;
    }
    await judgeFile(judge, flags, callOptions);
    printWarnings(engine.warnings ?? []);
  } finally {
    await engine.dispose();
  }
}

/** What the engine could not do as asked, once each, on stderr. */
function printWarnings(warnings: readonly EngineWarning[]): void {
  for (const warning of warnings) console.error(`j1: warning: ${warningText(warning)}`);
}

async function checkOutput(flags: JudgeFlags): Promise<void> {
  const output = flags.output as string;
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

async function judgeFile(judge: Judge, flags: JudgeFlags, callOptions: JudgeCallOptions): Promise<void> {
  const input = flags.input as string;
  // Validate the whole file first: a bad line stops the run before any judging, naming file and line.
  const records: PairRecord[] = [];
  for await (const record of readPairsFile(input)) records.push(record);
  const done = flags.output && flags.resume ? await judgedIds(flags.output) : new Set<string>();
  const todo = records.filter((record) => !done.has(record.id));
  if (done.size > 0) console.error(`j1: resuming: ${records.length - todo.length} of ${records.length} already judged in ${flags.output}`);
  const out = flags.output ? createWriteStream(flags.output, { flags: flags.resume ? "a" : "w" }) : process.stdout;
  const progress = new Progress("judge", records.length, flags.output ? flags.progress : flags.progress === "auto" ? "quiet" : flags.progress, process.stderr, records.length - todo.length);
  const counts: Record<string, number> = { A: 0, B: 0, tie: 0, none: 0 };
  const concurrency = Math.max(1, Math.floor(judge.engine.capabilities.parallelSessions / ((flags.swap ? 2 : 1) * flags.samples)));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const record = todo[next++];
      const judgment: Judgment = await judge.judgePair(record, { ...callOptions, itemKey: record.id });
      counts[judgment.verdict ?? "none"] = (counts[judgment.verdict ?? "none"] ?? 0) + 1;
      // One line per judgment, written as soon as it is done: a killed run loses nothing finished.
      out.write(`${JSON.stringify({ id: record.id, ...judgment })}\n`);
      progress.tick({ tokens: judgment.usage.evaluatedTokens });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  progress.finish();
  if (out !== process.stdout) await new Promise<void>((resolve, reject) => (out as NodeJS.WritableStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
  const summary = { judged: todo.length, skippedAlreadyDone: records.length - todo.length, verdicts: counts };
  if (flags.json) console.log(JSON.stringify(summary));
  else console.error(`j1: judged ${todo.length} pairs (A ${counts.A}, B ${counts.B}, tie ${counts.tie}, none ${counts.none})${flags.output ? ` -> ${flags.output}` : ""}`);
}

