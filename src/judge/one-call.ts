/**
 * `judge({question, a, b, model})`: one judgment in one call, the way autoevals and openevals are called.
 * Every option not given takes the CLI's default (the model's own chat template, greedy, seed 0, the
 * default thinking cap, one order, one sample). The engine is loaded for the call and disposed after it,
 * unless the caller passes one (`engine`), which is then left open for the next call.
 */
import { scalingFromRequest, type ScalingRequest } from "../core/budget.js";
import { badInput } from "../core/errors.js";
import type { Judgment } from "../core/judgment.js";
import { defaultTemplate, type JudgeTemplate } from "../core/template.js";
import { createEngine, type EngineConfig } from "../engines/create-engine.js";
import type { Engine } from "../engines/engine.js";
import { DEFAULT_MODEL } from "../engines/llamacpp/model-source.js";
import { Judge } from "./judge.js";
import type { ChatFormatChoice } from "./prompt-format.js";

/** Where the model runs: a GGUF path, an `hf:` URI, "tiny"; or a server (`baseUrl`); or an engine already made. */
export interface ModelChoice {
  /** llamacpp: a GGUF path, an hf: URI or "tiny" (default: j1's default model). openai: the served model's name. */
  model?: string;
  /** An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (then the engine is "openai" unless `engineKind` says). */
  baseUrl?: string;
  apiKey?: string;
  /** The engine's name in the registry: "llamacpp", "openai", "ai-sdk" (default from `model`/`baseUrl`). */
  engineKind?: string;
  /** CPU threads for llama.cpp (default: llama.cpp's choice for this machine). */
  threads?: number;
  /** An engine made with `createEngine`, reused and left open (the other engine fields are then ignored). */
  engine?: Engine;
}

/** What a judgment call takes besides the item: scaling as the CLI's flags name it, and the vote. */
export interface OneCallOptions extends ModelChoice, ScalingRequest {
  /** Judge both orders; a verdict only when they agree. */
  swap?: boolean;
  /** K samples per order, majority vote. */
  samples?: number;
  /** Allow [[tie]]. */
  tie?: boolean;
  /** Default 0 (greedy), 0.7 with samples > 1, as the CLI. */
  temperature?: number;
  seed?: number;
  template?: JudgeTemplate;
  chatFormat?: ChatFormatChoice;
  signal?: AbortSignal;
}

/** One item: a pair (`a`, `b`), one response to rate (`response`) or several to choose from (`responses`). */
export type OneCallItem = { question: string; context?: string } & ({ a: string; b: string } | { response: string } | { responses: string[] });

/** The engine config a model choice names (shared by `judge()` and `evaluate()`). */
export function engineConfigOf(choice: ModelChoice, parallel?: number): EngineConfig {
  const engine = choice.engineKind ?? (choice.baseUrl ? "openai" : "llamacpp");
  const model = choice.model ?? (engine === "llamacpp" ? DEFAULT_MODEL : undefined);
  return { engine, model, baseUrl: choice.baseUrl, apiKey: choice.apiKey, threads: choice.threads, parallel };
}

/** Loads the engine a choice names, or returns the caller's; `owned` says whether this call must dispose it. */
export async function engineFor(choice: ModelChoice, parallel?: number): Promise<{ engine: Engine; owned: boolean }> {
  if (choice.engine) return { engine: choice.engine, owned: false };
  return { engine: await createEngine(engineConfigOf(choice, parallel)), owned: true };
}

/**
 * Judges one item with every option defaulted: `await judge({question: "2+2?", a: "4", b: "5", model: "tiny"})`.
 * Returns the judgment exactly as `j1 judge --json` prints it.
 */
export async function judge(input: OneCallItem & OneCallOptions): Promise<Judgment> {
  const kinds = ["a" in input || "b" in input, "response" in input, "responses" in input].filter(Boolean).length;
  if (kinds !== 1) throw badInput("give a pair (a and b), one response (response) or several (responses)", { field: "a/b/response/responses" });
  const samples = input.samples ?? 1;
  const { engine, owned } = await engineFor(input);
  try {
    const template = input.template;
    const scaling = scalingFromRequest(input);
    const judgeFor = (kind: JudgeTemplate["kind"]) => Judge.create({ engine, scaling, chatFormat: input.chatFormat, template: template ?? defaultTemplate(kind) });
    const call = { samples, swap: input.swap, allowTie: input.tie, temperature: input.temperature ?? (samples > 1 ? 0.7 : 0), seed: input.seed ?? 0, signal: input.signal };
    if ("responses" in input) return await (await judgeFor("choice")).judgeChoice({ question: input.question, context: input.context, responses: input.responses }, call);
    if ("response" in input) return await (await judgeFor("pointwise")).judgePoint({ question: input.question, context: input.context, response: input.response }, call);
    return await (await judgeFor("pairwise")).judgePair({ question: input.question, context: input.context, a: input.a, b: input.b }, call);
  } finally {
    if (owned) await engine.dispose();
  }
}
