/**
 * j1 inside evalite (`j1-judge/evalite`): a scorer wrapping a j1 judge, made with evalite's own `createScorer`.
 *
 *     import { evalite } from "evalite";
 *     import { j1Scorer } from "j1-judge/evalite";
 *     evalite("answers", { data, task, scorers: [j1Scorer({ model: "tiny", waits: 2 })] });
 *
 * Rating mode (default): the score is j1's pointwise rating normalised to 0–1. Pairwise mode: the output
 * against the data's `expected` (the reference), 1 / 0.5 / 0 for better / tie / worse or no verdict. The
 * metadata carries the verdict, the raw score, the status, the confidence, the thinking and the usage.
 * evalite is an optional peer dependency: only this module imports it.
 */
import { createScorer, type Evalite } from "evalite";
import { badInput } from "../core/errors.js";
import { compareWithReference, rateResponse, summaryOf, type J1Summary } from "./integration-judge.js";
import { parseIntegrationOptions, type IntegrationOptions } from "./judge-options.js";

export interface J1ScorerOptions<TInput> extends IntegrationOptions {
  /** The scorer's name in evalite's table (default "j1"). */
  name?: string;
  description?: string;
  /** The question an output answers; default: the input itself if it is a string, else its `question` field. */
  question?: (input: TInput) => string;
}

/** What the scorer stores as the score's metadata. */
export interface J1ScoreMetadata extends J1Summary {
  pass: boolean;
  reason: string;
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function defaultQuestion(input: unknown): string {
  if (typeof input === "string") return input;
  const question = typeof input === "object" && input !== null ? (input as Record<string, unknown>).question : undefined;
  if (typeof question === "string") return question;
  throw badInput("the input is not a string and has no string `question` field: pass j1Scorer({ question: (input) => ... })", { field: "input" });
}

/** An evalite scorer backed by a j1 judge; options are checked now (naming `j1Scorer.<field>`), the engine loads on first use. */
export function j1Scorer<TInput, TOutput, TExpected = TOutput>(options: J1ScorerOptions<TInput> = {}): Evalite.Scorer<TInput, TOutput, TExpected> {
  const { name, description, question, ...rest } = options;
  const judging = parseIntegrationOptions(rest, "j1Scorer");
  const mode = judging.mode ?? "rating";
  return createScorer<TInput, TOutput, TExpected>({
    name: name ?? "j1",
    description: description ?? (mode === "rating" ? "j1 rating, normalised to 0–1" : "j1 pairwise verdict against the expected output"),
    scorer: async ({ input, output, expected }) => {
      const asked = question ? question(input) : defaultQuestion(input);
      let grade;
      if (mode === "pairwise") {
        if (expected === undefined) throw badInput("pairwise mode judges the output against `expected`: give each data row one", { field: "expected" });
        grade = await compareWithReference(judging, { question: asked, response: asText(output), reference: asText(expected) });
      } else {
        grade = await rateResponse(judging, { question: asked, response: asText(output) });
      }
      const metadata: J1ScoreMetadata = { ...summaryOf(grade), pass: grade.pass, reason: grade.reason };
      return { score: grade.score, metadata };
    },
  });
}

export { disposeIntegrationEngines } from "./integration-judge.js";
