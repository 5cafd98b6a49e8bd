import { badInput } from "../core/errors.js";
import { jsonlLines, parsePairLine } from "../judge/pair-file.js";

/**
 * A preference pair for RL: which of two responses to a question is better. RL needs a decided pair: a
 * tie carries no preference, and both of its orders would have the same label, which breaks the A/B
 * balance the data promises.
 */
export interface PreferencePair {
  id: string;
  question: string;
  context?: string;
  a: string;
  b: string;
  label: "A" | "B";
  category?: string;
}

/**
 * Reads labelled pairs from JSONL: question, a, b, label ("A" or "B"), optional id, context, category.
 * Streams; a bad line stops with an error naming the file, line and field.
 */
export async function* readPreferencePairs(file: string): AsyncGenerator<PreferencePair> {
  const seen = new Set<string>();
  for await (const { text, line } of jsonlLines(file, "the pairs")) {
    // The shared pair fields (and their errors) are the judge's pairs file format; the label is ours.
    const pair = parsePairLine(text, file, line, seen);
    const record = JSON.parse(text) as Record<string, unknown>;
    const label = decidedLabel(record.label, { file, line, field: "label" });
    if (record.category !== undefined && typeof record.category !== "string") throw badInput("must be a string", { file, line, field: "category" });
    yield { id: pair.id, question: pair.question, context: pair.context, a: pair.a, b: pair.b, label, category: record.category as string | undefined };
  }
}

/** "A" or "B" (any case); anything else is refused with the place named. */
export function decidedLabel(value: unknown, where: { file?: string; line?: number; field?: string }): "A" | "B" {
  if (value === undefined) throw badInput("missing (expected \"A\" or \"B\")", where);
  const text = typeof value === "string" ? value.trim().toUpperCase() : undefined;
  if (text === "A" || text === "B") return text;
  if (text === "TIE") throw badInput("a tie carries no preference; RL data needs \"A\" or \"B\"", where);
  throw badInput(`expected "A" or "B", got ${JSON.stringify(value)}`, where);
}
