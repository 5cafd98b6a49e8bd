/**
 * j1 inside promptfoo (`j1-judge/promptfoo`), two ways, both documented in docs/integrations.md:
 *
 * - `J1GraderProvider`, a grading provider for promptfoo's own model-graded assertions:
 *   `select-best` (the best of the outputs of several prompts or providers for one test: j1's pair for
 *   two, its choice among N for more) and `llm-rubric` (j1's rating, 0–1, with the thinking as the reason).
 *   Set it as `defaultTest.options.provider: {id: "package:j1-judge/promptfoo:J1GraderProvider", config: {…}}`.
 * - `j1Assert`, a JavaScript assertion (`type: javascript`, `value: package:j1-judge/promptfoo:j1Assert`) with
 *   the options in the assertion's `config`: rating mode, or pairwise against a reference var.
 *
 * promptfoo duck-types providers and assertion results, so this module needs nothing from promptfoo at
 * run time: the shapes it exchanges are written out below (promptfoo 0.121's ApiProvider, CallApiContextParams,
 * ProviderResponse, GradingResult), and promptfoo stays an optional peer dependency.
 */
import path from "node:path";
import { z } from "zod";
import { J1Error, badInput, errorMessage } from "../core/errors.js";
import type { Usage } from "../core/usage.js";
import { compareWithReference, rateResponse, selectBest, summaryOf, type J1Grade } from "./integration-judge.js";
import { parseIntegrationOptions, type IntegrationOptions } from "./judge-options.js";

/** Fields only the promptfoo adapter reads: which test vars hold the question and the reference. */
const PROMPTFOO_FIELDS = {
  questionVar: z.string().min(1),
  referenceVar: z.string().min(1),
};

export type PromptfooJ1Options = IntegrationOptions & { questionVar?: string; referenceVar?: string };

export function parsePromptfooOptions(raw: unknown, where = "config"): PromptfooJ1Options {
  return parseIntegrationOptions(raw, where, PROMPTFOO_FIELDS);
}

/** What promptfoo passes to a provider's callApi (the part j1 reads). */
export interface PromptfooCallContext {
  vars?: Record<string, unknown>;
  /** For a grading call, `label` names the assertion that asked: "select-best", "llm-rubric", … */
  prompt?: { raw?: string; label?: string };
}

export interface PromptfooTokenUsage {
  prompt: number;
  completion: number;
  total: number;
  cached: number;
  numRequests: number;
}

export interface PromptfooProviderResponse {
  output?: unknown;
  error?: string;
  tokenUsage?: PromptfooTokenUsage;
  metadata?: Record<string, unknown>;
}

/** What promptfoo passes to a JavaScript assertion as its second argument (the part j1 reads). */
export interface PromptfooAssertionContext {
  prompt?: string;
  vars?: Record<string, unknown>;
  config?: unknown;
}

export interface PromptfooGradingResult {
  pass: boolean;
  score: number;
  reason: string;
  tokensUsed?: PromptfooTokenUsage;
  metadata?: Record<string, unknown>;
}

function tokenUsageOf(usages: Usage[]): PromptfooTokenUsage {
  const sum = (pick: (usage: Usage) => number) => usages.reduce((total, usage) => total + pick(usage), 0);
  const prompt = sum((usage) => usage.promptTokens);
  const completion = sum((usage) => usage.thinkingTokens + usage.answerTokens);
  return { prompt, completion, total: prompt + completion + sum((usage) => usage.injectedTokens), cached: sum((usage) => usage.cachedTokens), numRequests: usages.length };
}

/** promptfoo parses JSON-looking outputs into objects before grading; j1 judges text. */
function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The question a grading call judges against: the question var when the test has one, with the criterion. */
function questionOf(vars: Record<string, unknown>, questionVar: string, criterion: string | undefined): string {
  const question = vars[questionVar];
  if (typeof question === "string" && question.trim() !== "") return criterion ? `${question}\n\n(Judge by this criterion: ${criterion})` : question;
  if (criterion) return criterion;
  throw badInput(`the test has no "${questionVar}" var and the assertion gives no criterion`, { field: `vars.${questionVar}` });
}

/** promptfoo adds `basePath` (the config file's folder) to every provider's config: not a j1 option. */
function withoutBasePath(config: unknown): unknown {
  if (typeof config !== "object" || config === null || !("basePath" in config)) return config;
  const { basePath: _basePath, ...rest } = config as Record<string, unknown>;
  return rest;
}

function basePathOf(config: unknown): string | undefined {
  const basePath = typeof config === "object" && config !== null ? (config as Record<string, unknown>).basePath : undefined;
  return typeof basePath === "string" ? basePath : undefined;
}

/** File options are relative to the promptfoo config file, as promptfoo's own `file://` paths are. */
function resolveFiles(options: PromptfooJ1Options, basePath: string | undefined): PromptfooJ1Options {
  if (basePath === undefined) return options;
  const resolved = { ...options };
  if (resolved.template !== undefined) resolved.template = path.resolve(basePath, resolved.template);
  if (resolved.chatTemplate !== undefined) resolved.chatTemplate = path.resolve(basePath, resolved.chatTemplate);
  return resolved;
}

/**
 * A promptfoo grading provider backed by a j1 judge. promptfoo builds it from
 * `{id: "package:j1-judge/promptfoo:J1GraderProvider", config: {...}}`; the config is checked here, so a bad
 * option fails when promptfoo loads the config, naming `config.<field>`.
 */
export class J1GraderProvider {
  readonly config: PromptfooJ1Options;
  private readonly providerId: string;
  readonly label?: string;
  /**
   * A config j1 refused. promptfoo builds providers where a throw escapes as an uncaught stack that blames
   * its own loader (exit 1), so the refusal is kept and returned from every call as a failed grading
   * with j1's message (naming `config.<field>`).
   */
  readonly configError?: string;

  constructor(options: { id?: string; label?: string; config?: unknown } = {}) {
    let config: PromptfooJ1Options = {};
    try {
      config = resolveFiles(parsePromptfooOptions(withoutBasePath(options.config)), basePathOf(options.config));
    } catch (error) {
      this.configError = `j1: ${errorMessage(error)}`;
    }
    this.config = config;
    this.providerId = options.id ?? `j1:${this.config.model ?? this.config.baseUrl ?? "default"}`;
    this.label = options.label;
  }

  id(): string {
    return this.providerId;
  }

  toString(): string {
    return `[j1 grader ${this.providerId}]`;
  }

  /** promptfoo passes `abortSignal` when the eval is stopped: the judgment in flight is aborted with it. */
  async callApi(_prompt: string, context: PromptfooCallContext = {}, callOptions: { abortSignal?: AbortSignal } = {}): Promise<PromptfooProviderResponse> {
    if (this.configError) return { error: this.configError };
    const call = { signal: callOptions.abortSignal };
    const vars = context.vars ?? {};
    const task = context.prompt?.label;
    const questionVar = this.config.questionVar ?? "question";
    try {
      if (task === "select-best") {
        if (!Array.isArray(vars.outputs)) throw badInput("select-best passed no outputs", { field: "vars.outputs" });
        const criteria = typeof vars.criteria === "string" ? vars.criteria : undefined;
        const selection = await selectBest(this.config, { question: questionOf(vars, questionVar, criteria), responses: vars.outputs.map(asText) }, call);
        const usage = tokenUsageOf(selection.judgments.map((judgment) => judgment.usage));
        const metadata = { j1: { reason: selection.reason, judgments: selection.judgments.map((judgment) => summaryOf({ judgment, thinking: selection.thinking })) } };
        // select-best reads the first integer of the output; no winner is an error, which fails every output with j1's reason.
        if (selection.index === null) return { error: selection.reason, tokenUsage: usage, metadata };
        return { output: `${selection.index}\n${selection.reason}`, tokenUsage: usage, metadata };
      }
      if (task === "llm-rubric") {
        const rubric = typeof vars.rubric === "string" ? vars.rubric : undefined;
        if (vars.output === undefined) throw badInput("llm-rubric passed no output", { field: "vars.output" });
        // promptfoo applies the assertion's own `threshold` after j1's pass (pass && score ≥ threshold): say so.
        const grade = await rateResponse(this.config, { question: questionOf(vars, questionVar, rubric), response: asText(vars.output) }, { ...call, thresholdNote: "promptfoo then applies the assertion's threshold, when it has one" });
        // llm-rubric takes an object output as the parsed grading JSON: pass, score and reason as they are.
        return { output: { pass: grade.pass, score: grade.score, reason: grade.reason }, tokenUsage: tokenUsageOf([grade.judgment.usage]), metadata: { j1: summaryOf(grade) } };
      }
      throw new J1Error("unsupported", `j1 is a grader: use it as the grading provider of select-best or llm-rubric (this call was ${task ? `"${task}"` : "not a grading call"}), or use the javascript assertion package:j1-judge/promptfoo:j1Assert`);
    } catch (error) {
      return { error: `j1: ${errorMessage(error)}` };
    }
  }
}

/**
 * A promptfoo JavaScript assertion: `{type: javascript, value: "package:j1-judge/promptfoo:j1Assert", config: {...}}`.
 * Rating mode (default) scores the output alone; pairwise mode judges it against the test var named by
 * `referenceVar` (default "reference"). The question is the `questionVar` var (default "question"), else
 * the rendered prompt. Returns promptfoo's grading result, the thinking in the reason.
 */
export async function j1Assert(output: unknown, context: PromptfooAssertionContext = {}): Promise<PromptfooGradingResult> {
  let options: PromptfooJ1Options;
  try {
    options = parsePromptfooOptions(context.config);
  } catch (error) {
    // A refused config fails the assertion with j1's message rather than escaping as an uncaught error.
    return { pass: false, score: 0, reason: `j1: ${errorMessage(error)}` };
  }
  const vars = context.vars ?? {};
  const asked = vars[options.questionVar ?? "question"];
  const question = typeof asked === "string" && asked.trim() !== "" ? asked : context.prompt;
  if (question === undefined) throw badInput(`no question: set the "${options.questionVar ?? "question"}" var or give the assertion a prompt`, { field: `vars.${options.questionVar ?? "question"}` });
  let grade: J1Grade;
  if ((options.mode ?? "rating") === "pairwise") {
    const referenceVar = options.referenceVar ?? "reference";
    const reference = vars[referenceVar];
    if (typeof reference !== "string") throw badInput(`pairwise mode needs the reference in the "${referenceVar}" var (a string)`, { field: `vars.${referenceVar}` });
    grade = await compareWithReference(options, { question, response: asText(output), reference });
  } else {
    grade = await rateResponse(options, { question, response: asText(output) });
  }
  return { pass: grade.pass, score: grade.score, reason: grade.reason, tokensUsed: tokenUsageOf([grade.judgment.usage]), metadata: { j1: summaryOf(grade) } };
}

// No default export: promptfoo's package loader takes a module's default export in place of the module,
// which would hide j1Assert and J1GraderProvider from `package:j1-judge/promptfoo:<name>`.
