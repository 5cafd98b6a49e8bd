import { z } from "zod";
import { J1Error } from "../core/errors.js";
import { ENGINES } from "../engines/engine-registry.js";
import type { JudgeTemplate } from "../core/template.js";
import { validateTemplate } from "../core/template.js";
import type { SftSettings } from "../data/sft-run.js";
import type { EvalSettings } from "../eval/eval-settings.js";
import type { RunKind, RunRecord } from "../store/types.js";
import { checkRunKind } from "./judging-job.js";

/**
 * A run's settings as stored: what `--resume RUN` rebuilds the run from. Validated with zod when a run is
 * read back, so a settings blob that is not what the command expects (another kind of run, a store edited
 * by hand, a newer j1) is refused with the field named instead of being cast and misread. Fields this
 * version does not know are kept (`loose`), so a resume never drops what a newer field said.
 *
 * Version 1: runs stored before the version was recorded (read the same way); version 2: the judging job.
 */
export const RUN_SETTINGS_VERSION = 2;

const count = (minimum: number) => z.number().int().min(minimum).max(Number.MAX_SAFE_INTEGER);

const template = z.custom<JudgeTemplate>((value) => {
  validateTemplate(value);
  return true;
}, "not a valid judge template");

const scaling = z
  .object({
    waits: count(0).optional(),
    minThinkingTokens: count(0).optional(),
    maxThinkingTokens: count(1).optional(),
    waitText: z.string().optional(),
    answerTokens: count(1).optional(),
    maxExtraWaits: count(0).optional(),
    stopWhen: z.object({ rule: z.string(), value: z.number() }).optional(),
    probeEveryEnd: z.boolean().optional(),
  })
  .loose();

const sweepSchema = z.object({ setting: z.enum(["waits", "max-thinking", "confidence", "stable"]), values: z.array(z.number().min(0)).min(1) });

const engine = z
  .object({
    engine: z.string().refine((kind) => ENGINES.some((entry) => entry.kind === kind), "not an engine this j1 has"),
    model: z.string().optional(),
    baseUrl: z.string().optional(),
    baseUrls: z.array(z.string()).min(2).optional(),
    api: z.enum(["completions", "chat"]).optional(),
    threads: count(1).optional(),
    contextSize: count(1).optional(),
    parallel: count(1).optional(),
  })
  .loose();

const sampling = z.object({ topP: z.number().optional(), topK: z.number().optional(), minP: z.number().optional() }).loose();

/** What every kind of run records about judging. */
const judgingFields = {
  schemaVersion: z.number().int().min(1).max(RUN_SETTINGS_VERSION).optional(),
  engine,
  template: template.optional(),
  chatFormat: z.string(),
  chatTemplateFile: z.string().optional(),
  reasoning: z.string().optional(),
  scaling,
  samples: count(1),
  earlyStop: z.union([z.object({ rule: z.literal("decided") }), z.object({ rule: z.literal("sequential"), level: z.number() })]).optional(),
  temperature: z.number().min(0),
  sampling: sampling.optional(),
  seed: z.number().int(),
};

export const evalRunSettings = z
  .object({
    ...judgingFields,
    benchmarks: z.array(z.string()).min(1),
    data: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    order: z.enum(["as-given", "shuffle", "both"]).optional(),
    variants: z.record(z.string(), z.string()).optional(),
    limit: count(1).optional(),
    shard: z.object({ index: count(1), count: count(1) }).optional(),
    skipBad: z.boolean(),
    map: z.record(z.string(), z.string()).optional(),
    sweep: z.union([sweepSchema, z.array(sweepSchema).min(1)]).optional(),
    swap: z.boolean(),
    allowTie: z.boolean(),
  })
  .loose();

export const sftRunSettings = z
  .object({
    ...judgingFields,
    kind: z.literal("data-sft"),
    source: z.record(z.string(), z.unknown()),
    limit: count(1).optional(),
    reflection: z.object({ markers: z.array(z.string()), countInjectedWaits: z.boolean() }).loose(),
    filters: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()),
  })
  .loose();

/**
 * The settings of a run being resumed, checked for its kind and shape. The error names the run, the
 * field and what was wrong, and says the run cannot be resumed as it is (exit 2).
 */
export function runSettings<S extends z.ZodType>(run: RunRecord, kind: RunKind, schema: S): z.infer<S> {
  checkRunKind(run, kind);
  const parsed = schema.safeParse(run.settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".") || "(settings)";
    throw new J1Error("bad-input", `run ${run.id}: its stored settings are not what this j1 reads: field "${field}": ${issue.message}; start a new run instead`, { context: { run: run.id, field } });
  }
  return parsed.data;
}

/** An eval run's settings, checked (the one place they are typed from the stored JSON). */
export function evalSettingsOf(run: RunRecord): EvalSettings {
  return runSettings(run, "eval", evalRunSettings) as unknown as EvalSettings;
}

/** A data-sft run's settings, checked. */
export function sftSettingsOf(run: RunRecord): SftSettings {
  return runSettings(run, "data-sft", sftRunSettings) as unknown as SftSettings;
}

/** Settings as they are stored: stamped with the version that wrote them. */
export function storedSettings<T extends object>(settings: T): T & { schemaVersion: number } {
  return { ...settings, schemaVersion: RUN_SETTINGS_VERSION };
}
