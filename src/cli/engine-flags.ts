import { readFileSync } from "node:fs";
import { parseSampleStop, type SampleStop } from "../core/scaling/sample-stop.js";
import { parseStopRule, STOP_RULES } from "../core/scaling/stop-rule.js";
import { Option, type Command } from "commander";
import { DEFAULT_SCALING, scalingFromRequest, type ScalingOptions } from "../core/budget.js";
import { CHAT_FORMATS } from "../core/chat-format.js";
import { J1Error, badInput } from "../core/errors.js";
import type { EngineConfig, EngineKind } from "../engines/create-engine.js";
import type { SamplingOptions } from "../engines/engine.js";
import { DEFAULT_MODEL } from "../engines/llamacpp/model-source.js";
import { samplersSerialised } from "../engines/llamacpp/sampling-threads.js";
import { ENGINES } from "../engines/engine-registry.js";
import { REASONING_FORMATS, reasoningFormatByName } from "../core/reasoning-format.js";
import { CHAT_FORMAT_CHOICES, isChatFormatChoice, type ChatFormatChoice } from "../judge/prompt-format.js";
import { downloadProgress } from "./progress.js";

/**
 * Flags shared by every command that runs a judge (judge, eval, data sft): which engine and model, and
 * the test-time scaling knobs. Parsing and checking live here once, so every command says the same thing
 * about the same bad value.
 */
export function addEngineFlags(command: Command): Command {
  return command
    .addOption(new Option("--engine <name>", ENGINES.map((entry) => `${entry.kind}: ${entry.description}`).join("; ")).choices(ENGINES.map((entry) => entry.kind)).default("llamacpp"))
    .option("-m, --model <model>", `GGUF path, hf: URI, "tiny" (offline test model) or "tiny-controlled" (its verdicts move with the item and the waits: the control for adaptive scaling); with --engine openai or ai-sdk, the served model name`)
    .option("--base-url <url>", "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (implies --engine openai); repeat it for a fleet: each judgment goes to one server, a failed server's judgments move to another", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option("--base-url-file <file>", "a fleet's servers, one base URL a line (# starts a comment); added to any --base-url")
    .option("--api-key <key>", "API key for --base-url (default: $J1_API_KEY or $OPENAI_API_KEY)")
    .addOption(new Option("--api <kind>", "server API: completions (raw continuation) or chat (fallback)").choices(["completions", "chat"]).default("completions"))
    .option("--threads <n>", "CPU threads for llama.cpp", positiveInt("--threads"))
    .option("--context-size <n>", "tokens per sequence (llama.cpp)", positiveInt("--context-size"))
    .option("--parallel <n>", "parallel sequences / concurrent requests", positiveInt("--parallel"))
    .option("--timeout <ms>", "with --base-url: per request attempt, in milliseconds (default 120000)", positiveInt("--timeout"))
    .option("--retries <n>", "with --base-url: retries after a failed attempt (429, 5xx, timeout; default 4)", nonNegativeInt("--retries"))
    .option("--allow-text-prompt", "with --base-url: send text prompts where token ids are impossible (unknown server, Ollama, --api chat)", false)
    .option("--chat-format <name>", `prompt format: auto (the model's own chat template), ${CHAT_FORMATS.join(", ")}`, "auto")
    .option("--chat-template <file>", "with --chat-format auto: a Jinja file or tokenizer_config.json (for a server that does not tell its template)")
    .option("--reasoning-format <name>", "override the detected thinking delimiters: think, harmony, bracket-think, think-text")
    .option("--template <file>", "custom judge template (JSON; see README)");
}

export function addScalingFlags(command: Command): Command {
  return command
    .option("--waits <n>", "times an attempt to end thinking is replaced by the wait text", nonNegativeInt("--waits"), 0)
    .option("--wait-text <text>", "text injected in place of the end of thinking", DEFAULT_SCALING.waitText)
    .option("--min-thinking <n>", "suppress the end of thinking until this many thinking tokens", nonNegativeInt("--min-thinking"), 0)
    .option("--max-thinking <n>", "cap: force the end of thinking at this many thinking tokens", positiveInt("--max-thinking"))
    .option("--answer-tokens <n>", "tokens allowed for the verdict", positiveInt("--answer-tokens"), DEFAULT_SCALING.answerTokens)
    .option("--stop-when <rule>", `adaptive thinking within --waits waits (a probe reads the verdict at each attempted end): ${STOP_RULES.map((kind) => kind.describe).join("; ")}`)
    .option("--trajectory", "read the verdict at every attempted end of thinking (recorded; its probes are counted)", false)
    .option("--samples <n>", "K samples per order, majority vote", positiveInt("--samples"), 1)
    .option("--early-stop <rule>", "with --samples: stop drawing once the vote is settled: decided (the majority cannot change) or sequential:0.95 (Bayesian)")
    .option("--swap", "judge both orders; a verdict only when they agree", false)
    .option("--tie", "allow [[tie]] as a verdict", false)
    .option("--temperature <t>", "sampling temperature (default 0 = greedy; 0.7 when --samples > 1)", nonNegativeNumber("--temperature"))
    .option("--top-p <p>", "nucleus sampling of the thinking (default 1: none; Qwen3's card: 0.95)", unitInterval("--top-p"))
    .option("--top-k <n>", "top-k sampling of the thinking (default 0: none; Qwen3's card: 20)", nonNegativeInt("--top-k"))
    .option("--min-p <p>", "min-p sampling of the thinking (default 0: none)", unitInterval("--min-p"))
    .option("--seed <n>", "base seed (each item, order and sample derives its own)", nonNegativeInt("--seed"), 0);
}

export interface EngineFlagValues {
  engine: EngineKind;
  model?: string;
  /** Every --base-url given (a fleet when more than one, with --base-url-file's). */
  baseUrl: string[];
  baseUrlFile?: string;
  apiKey?: string;
  api: "completions" | "chat";
  threads?: number;
  contextSize?: number;
  parallel?: number;
  timeout?: number;
  retries?: number;
  allowTextPrompt?: boolean;
  chatFormat: string;
  chatTemplate?: string;
  reasoningFormat?: string;
  template?: string;
}

export interface ScalingFlagValues {
  waits: number;
  waitText: string;
  minThinking: number;
  maxThinking?: number;
  answerTokens: number;
  stopWhen?: string;
  trajectory?: boolean;
  samples: number;
  earlyStop?: string;
  swap: boolean;
  tie: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed: number;
}

export function engineConfig(values: EngineFlagValues, defaults: { parallel?: number } = {}): EngineConfig {
  const urls = [...(values.baseUrl ?? []), ...(values.baseUrlFile === undefined ? [] : readBaseUrlFile(values.baseUrlFile))];
  for (const [flag, value] of [["--model", values.model], ...urls.map((url) => ["--base-url", url] as const)] as const) {
    // An empty value (an unset shell variable, say) would otherwise mean the current folder or no server.
    if (value !== undefined && value.trim() === "") throw badInput("must not be empty", { field: flag });
  }
  // --base-url alone means the openai engine; --engine ai-sdk (or another) with it keeps the engine asked for.
  const engine: EngineKind = urls.length > 0 && values.engine === "llamacpp" ? "openai" : values.engine;
  if (urls.length > 1 && engine !== "openai") throw badInput(`several servers (a fleet) need --engine openai, not ${engine}`, { field: "--base-url" });
  refuseIdleEngineFlags(values, engine);
  return {
    engine,
    model: engine === "llamacpp" ? values.model ?? DEFAULT_MODEL : values.model,
    baseUrl: urls[0],
    baseUrls: urls.length > 1 ? urls : undefined,
    apiKey: values.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY,
    api: values.api,
    threads: values.threads,
    contextSize: values.contextSize,
    // In process, more than one sequence by default only when node-llama-cpp's samplers run one at a time
    // (engines/llamacpp/sampling-threads.ts): the j1 command arranges it; a Node started with a larger pool
    // gets one sequence unless --parallel asks for more (honoured, with the engine's warning). A server's own
    // slots (llama-server /props) bound its requests unless --parallel says otherwise.
    parallel: values.parallel ?? (engine === "llamacpp" && !samplersSerialised() ? 1 : engine === "openai" ? undefined : defaults.parallel),
    timeoutMs: values.timeout,
    maxRetries: values.retries,
    allowTextPrompt: values.allowTextPrompt,
    onDownloadProgress: downloadProgress("downloading model"),
  };
}

/**
 * Engine flags that would do nothing with the engine chosen are refused, naming the flag: the request
 * flags of a server in process, the model-loading flags of llama.cpp with a server (which sets its own).
 */
export function refuseIdleEngineFlags(values: Pick<EngineFlagValues, "timeout" | "retries" | "allowTextPrompt" | "apiKey" | "api" | "threads" | "contextSize">, engine: EngineKind): void {
  if (engine === "llamacpp") {
    for (const [given, flag] of [
      [values.timeout !== undefined, "--timeout"],
      [values.retries !== undefined, "--retries"],
      [values.allowTextPrompt === true, "--allow-text-prompt"],
      [values.apiKey !== undefined, "--api-key"],
      [values.api !== undefined && values.api !== "completions", "--api"],
    ] as const) {
      if (given) throw badInput(`goes with --base-url (a server); the in-process engine (llama.cpp) makes no requests`, { field: flag });
    }
  } else {
    for (const [given, flag] of [
      [values.threads !== undefined, "--threads"],
      [values.contextSize !== undefined, "--context-size"],
    ] as const) {
      if (given) throw badInput(`is for the in-process engine (llama.cpp); with --engine ${engine} the server sets its own`, { field: flag });
    }
  }
}

/**
 * --base-url-file: one base URL a line; blank lines and `#` comments are skipped. Each entry must be an
 * http(s) URL; the error names the file and line.
 */
export function readBaseUrlFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw badInput(`cannot read the fleet's server list: ${(error as Error).message}`, { file, field: "--base-url-file" });
  }
  const urls: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    if (!/^https?:\/\/\S+$/.test(line)) throw badInput(`"${line}" is not an http(s) base URL`, { file, line: index + 1, field: "--base-url-file" });
    urls.push(line);
  });
  if (urls.length === 0) throw badInput("lists no server", { file, field: "--base-url-file" });
  return urls;
}

export function chatFormat(values: EngineFlagValues): ChatFormatChoice {
  checkReasoningFormat(values.reasoningFormat);
  if (!isChatFormatChoice(values.chatFormat)) throw badInput(`unknown chat format "${values.chatFormat}"; known: ${CHAT_FORMAT_CHOICES.join(", ")}`, { field: "--chat-format" });
  if (values.chatTemplate !== undefined && values.chatFormat !== "auto") throw badInput("--chat-template goes with --chat-format auto", { field: "--chat-template" });
  return values.chatFormat;
}

/** The format flags as `Judge.create` / `resolvePromptFormat` take them. */
export function formatOptions(values: EngineFlagValues): { chatFormat: ChatFormatChoice; chatTemplateFile?: string; reasoning?: string } {
  return { chatFormat: chatFormat(values), chatTemplateFile: values.chatTemplate, reasoning: values.reasoningFormat };
}

/** --reasoning-format is checked before a model loads (the format is applied once the template is read). */
export function checkReasoningFormat(name: string | undefined): void {
  if (name !== undefined && reasoningFormatByName(name) === undefined) {
    throw badInput(`"${name}" is not a reasoning format; use one of ${REASONING_FORMATS.map((format) => format.name).join(", ")}`, { field: "--reasoning-format" });
  }
}

export function scalingOptions(values: ScalingFlagValues): Partial<ScalingOptions> {
  if (values.maxThinking !== undefined && values.minThinking > values.maxThinking) {
    throw badInput(`${values.minThinking} is above --max-thinking ${values.maxThinking}: thinking could never end`, { field: "--min-thinking" });
  }
  const stopWhen = values.stopWhen === undefined ? undefined : parseStopRule(values.stopWhen);
  if (stopWhen && values.waits === 0) throw badInput("an adaptive rule stops within a number of waits: give --waits N (the most it may use)", { field: "--stop-when" });
  return scalingFromRequest({ ...values, stopWhen });
}

/** --early-stop as the judge takes it; refused without --samples > 1 (there is nothing to stop). */
export function sampleStopOption(values: ScalingFlagValues): SampleStop | undefined {
  if (values.earlyStop === undefined) return undefined;
  const parsed = parseSampleStop(values.earlyStop);
  if (typeof parsed === "string") throw badInput(parsed, { field: "--early-stop" });
  if (values.samples < 2) throw badInput("stops drawing samples early: give --samples K (K > 1)", { field: "--early-stop" });
  return parsed;
}

/** Truncation flags as the judge takes them; undefined when none was given (no truncation). */
export function samplingOptions(values: ScalingFlagValues): SamplingOptions | undefined {
  const sampling: SamplingOptions = { topP: values.topP, topK: values.topK, minP: values.minP };
  return Object.values(sampling).some((value) => value !== undefined) ? sampling : undefined;
}

export { DEFAULT_THINKING_CAP } from "../core/budget.js";

/** The vote, order and sampling options every judging command takes from the same flags. */
export function voteOptions(values: ScalingFlagValues): { samples: number; earlyStop?: SampleStop; swap: boolean; allowTie: boolean; temperature: number; sampling?: SamplingOptions; seed: number } {
  const earlyStop = sampleStopOption(values);
  return { samples: values.samples, ...(earlyStop ? { earlyStop } : {}), swap: values.swap, allowTie: values.tie, temperature: samplingTemperature(values), sampling: samplingOptions(values), seed: values.seed };
}

export function samplingTemperature(values: ScalingFlagValues): number {
  return values.temperature ?? (values.samples > 1 ? 0.7 : 0);
}

/**
 * Bounds of every numeric flag, in one place: each is refused outside its range with a message that names
 * the flag, so `--samples 9007199254740993` (a run that would never end) or `--timeout 99999999999` (past
 * what a timer can hold, so it would fire at once) stop before any work. The maxima are generous for real
 * use and shown in each flag's --help.
 */
export const FLAG_RANGES: Readonly<Record<string, { min: number; max: number }>> = {
  // engine
  "--threads": { min: 1, max: 1024 },
  "--context-size": { min: 1, max: 1_048_576 },
  "--parallel": { min: 1, max: 256 },
  // a day; timers hold at most 2^31 - 1 ms (24.8 days), beyond which Node fires them at once
  "--timeout": { min: 1, max: 86_400_000 },
  "--retries": { min: 0, max: 100 },
  // scaling
  "--waits": { min: 0, max: 1000 },
  "--min-thinking": { min: 0, max: 1_048_576 },
  "--max-thinking": { min: 1, max: 1_048_576 },
  "--answer-tokens": { min: 1, max: 4096 },
  "--samples": { min: 1, max: 1024 },
  "--temperature": { min: 0, max: 100 },
  "--top-p": { min: 0, max: 1 },
  "--top-k": { min: 0, max: 1_000_000 },
  "--min-p": { min: 0, max: 1 },
  // seeds are mixed as unsigned 32-bit numbers (core/seed.ts): a larger one would repeat a smaller one
  "--seed": { min: 0, max: 4_294_967_295 },
  // data and model commands
  "--limit": { min: 1, max: 1_000_000_000 },
  "--max-thinking-chars": { min: 1, max: 1_000_000_000 },
  "--max-tokens": { min: 1, max: 1_048_576 },
  "--min-thinking-tokens": { min: 0, max: 1_048_576 },
  "--width": { min: 1, max: 4096 },
  "--layers": { min: 1, max: 64 },
  "--port": { min: 0, max: 65_535 },
};

/** A whole number written as digits only: no sign, exponent, hex, fraction or blank ("1e3" is not 1000 here). */
const WHOLE = /^\d+$/;
/** A decimal number: digits with an optional sign, fraction and exponent; no hex, Infinity or blank. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface NumberRule {
  integer: boolean;
  min: number;
  max: number;
}

/**
 * The one reader of numeric flag values (every command's flags and the values commands check later go
 * through it): digits only for whole numbers, a safe integer, within [min, max]. Throws a bad-input error
 * naming the flag and the range.
 */
export function parseNumberFlag(flag: string, text: string, rule: NumberRule): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  const shaped = rule.integer ? WHOLE.test(trimmed) && Number.isSafeInteger(value) : DECIMAL.test(trimmed) && Number.isFinite(value);
  if (!shaped || value < rule.min || value > rule.max) {
    throw new J1Error("bad-input", `${flag}: "${text}" is not ${describeRule(rule)}`, { context: { field: flag } });
  }
  return value;
}

/** "a whole number >= 1 and <= 1024", "a number from 0 to 1". */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? "a whole number" : "a number";
  if (!rule.integer && rule.min === 0 && rule.max === 1) return "a number from 0 to 1";
  const low = rule.min === -Number.MAX_VALUE || rule.min === Number.MIN_SAFE_INTEGER ? "" : ` >= ${rule.min}`;
  const high = rule.max === Number.MAX_VALUE || rule.max === Number.MAX_SAFE_INTEGER ? "" : ` <= ${rule.max}`;
  return `${kind}${low}${low && high ? " and" : ""}${high}`;
}

/** The flag's range from FLAG_RANGES, else `fallback` (a flag not listed there gets only the fallback's bounds). */
function rangeOf(flag: string, fallback: { min: number; max: number }): { min: number; max: number } {
  const listed = FLAG_RANGES[flag];
  return listed === undefined ? fallback : { min: Math.max(listed.min, fallback.min), max: Math.min(listed.max, fallback.max) };
}

/** A commander argument parser that carries its rule, so --help can state the range it enforces. */
export type NumberFlagParser = ((text: string) => number) & { readonly rule: NumberRule };

function numberFlag(flag: string, rule: NumberRule): NumberFlagParser {
  return Object.assign((text: string) => parseNumberFlag(flag, text, rule), { rule });
}

/** A whole-number flag within FLAG_RANGES (or `min`..the largest safe integer for a flag not listed). */
export function integerFlag(flag: string, min = 0): NumberFlagParser {
  return numberFlag(flag, { integer: true, ...rangeOf(flag, { min, max: Number.MAX_SAFE_INTEGER }) });
}

/** A decimal flag within FLAG_RANGES (or `min`..`max`). */
export function decimalFlag(flag: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): NumberFlagParser {
  return numberFlag(flag, { integer: false, ...rangeOf(flag, { min, max }) });
}

/** The range a numeric flag's parser enforces, for its --help (" (1..1024)"); "" for any other parser. */
export function rangeHelp(parser: unknown): string {
  const rule = (parser as { rule?: NumberRule } | undefined)?.rule;
  if (rule === undefined) return "";
  const bound = (value: number) => (Math.abs(value) >= Number.MAX_SAFE_INTEGER ? "" : String(value));
  return ` (${bound(rule.min)}..${bound(rule.max)})`;
}

export function positiveInt(flag: string) {
  return integerFlag(flag, 1);
}

export function nonNegativeInt(flag: string) {
  return integerFlag(flag, 0);
}

export function unitInterval(flag: string) {
  return decimalFlag(flag, 0, 1);
}

export function nonNegativeNumber(flag: string) {
  return decimalFlag(flag, 0);
}
