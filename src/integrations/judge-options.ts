import { z } from "zod";
import { scalingFromRequest, type ScalingOptions } from "../core/budget.js";
import { badInput, errorMessage } from "../core/errors.js";
import { parseStopRule } from "../core/scaling/stop-rule.js";
import type { EngineConfig } from "../engines/create-engine.js";
import { DEFAULT_MODEL } from "../engines/llamacpp/model-source.js";
import { CHAT_FORMAT_CHOICES, type ChatFormatChoice } from "../judge/prompt-format.js";

/**
 * The options every j1 integration (promptfoo, evalite) takes, in one place: where the model runs, the
 * test-time scaling knobs (the CLI's flags, camel-cased) and how a judgment becomes a pass. Tools hand
 * them over as untyped config (a promptfooconfig.yaml `config:` block), so they are checked here with
 * zod, and a bad value fails with an error naming the field, before any model loads.
 */
export const INTEGRATION_OPTION_FIELDS = {
  // where the model runs
  engine: z.enum(["llamacpp", "openai"]),
  model: z.string().min(1),
  baseUrl: z.string().url(),
  apiKey: z.string().min(1),
  api: z.enum(["completions", "chat"]),
  threads: z.number().int().min(1),
  contextSize: z.number().int().min(256),
  parallel: z.number().int().min(1).max(256),
  allowTextPrompt: z.boolean(),
  chatFormat: z.enum(CHAT_FORMAT_CHOICES as [ChatFormatChoice, ...ChatFormatChoice[]]),
  chatTemplate: z.string().min(1),
  reasoningFormat: z.string().min(1),
  template: z.string().min(1),
  // test-time scaling
  waits: z.number().int().min(0).max(64),
  waitText: z.string().min(1),
  minThinking: z.number().int().min(0),
  maxThinking: z.number().int().min(1),
  answerTokens: z.number().int().min(1).max(256),
  /** An adaptive rule within `waits` waits, as --stop-when: "confident:0.9", "stable:2". */
  stopWhen: z.string().superRefine((text, ctx) => {
    try {
      parseStopRule(text, "stopWhen");
    } catch (error) {
      ctx.addIssue({ code: "custom", message: errorMessage(error) });
    }
  }),
  /** Read the verdict at every attempted end (its probes are counted). */
  trajectory: z.boolean(),
  samples: z.number().int().min(1).max(64),
  swap: z.boolean(),
  tie: z.boolean(),
  temperature: z.number().min(0).max(10),
  seed: z.number().int().min(0),
  // how a judgment becomes a pass
  mode: z.enum(["rating", "pairwise"]),
  threshold: z.number().min(0).max(1),
};

const IntegrationOptionsSchema = z.strictObject(
  Object.fromEntries(Object.entries(INTEGRATION_OPTION_FIELDS).map(([name, schema]) => [name, schema.optional()])) as {
    [K in keyof typeof INTEGRATION_OPTION_FIELDS]: z.ZodOptional<(typeof INTEGRATION_OPTION_FIELDS)[K]>;
  },
);

export type IntegrationOptions = z.infer<typeof IntegrationOptionsSchema>;

/** Pass at or above this normalised score (0–1) unless `threshold` says otherwise. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Checks options handed over by a tool. `where` prefixes the field in errors ("config" gives
 * `field "config.waits"`), so the user finds it in their own file. Extra fields a tool adds are checked
 * by `extra` (same rules); any other unknown field is refused by name.
 */
export function parseIntegrationOptions<Extra extends z.ZodRawShape = Record<string, never>>(
  raw: unknown,
  where: string,
  extra?: Extra,
): IntegrationOptions & z.infer<z.ZodObject<Extra>> {
  if (raw === undefined || raw === null) raw = {};
  const optionalExtra = Object.fromEntries(Object.entries(extra ?? {}).map(([name, schema]) => [name, (schema as z.ZodType).optional()]));
  const schema = IntegrationOptionsSchema.extend(optionalExtra);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = [where, ...issue.path.map(String)].filter((part) => part !== "").join(".");
    const problem = issue.code === "unrecognized_keys" ? `unknown option(s) ${issue.keys.map((key) => `"${key}"`).join(", ")}; known: ${[...Object.keys(INTEGRATION_OPTION_FIELDS), ...Object.keys(extra ?? {})].join(", ")}` : issue.message;
    throw badInput(problem, { field: issue.code === "unrecognized_keys" ? where : field });
  }
  const options = parsed.data as IntegrationOptions & z.infer<z.ZodObject<Extra>>;
  if (options.baseUrl !== undefined && options.engine === "llamacpp") throw badInput(`baseUrl is for engine "openai"`, { field: `${where}.baseUrl` });
  if (options.chatTemplate !== undefined && (options.chatFormat ?? "auto") !== "auto") throw badInput("chatTemplate goes with chatFormat auto", { field: `${where}.chatTemplate` });
  return options;
}

/** The engine these options name; `baseUrl` implies the OpenAI-compatible engine, as on the CLI. */
export function engineConfigOf(options: IntegrationOptions): EngineConfig {
  const engine = options.baseUrl !== undefined ? "openai" : options.engine ?? "llamacpp";
  return {
    engine,
    model: engine === "llamacpp" ? options.model ?? DEFAULT_MODEL : options.model,
    baseUrl: options.baseUrl,
    apiKey: options.apiKey ?? process.env.J1_API_KEY ?? process.env.OPENAI_API_KEY,
    api: options.api,
    threads: options.threads,
    contextSize: options.contextSize,
    // One in-process sequence unless asked: batched sampling in node-llama-cpp is not thread-safe on large
    // vocabularies (see engines/llamacpp/sampling-threads.ts); a server takes a few requests at once.
    parallel: options.parallel ?? (engine === "llamacpp" ? 1 : 4),
    allowTextPrompt: options.allowTextPrompt,
  };
}

export function scalingOf(options: IntegrationOptions): Partial<ScalingOptions> {
  const stopWhen = options.stopWhen === undefined ? undefined : parseStopRule(options.stopWhen, "stopWhen");
  if (stopWhen && (options.waits ?? 0) === 0) throw badInput("an adaptive rule stops within a number of waits: set waits (the most it may use)", { field: "stopWhen" });
  return scalingFromRequest({ ...options, stopWhen });
}
