import { badInput } from "../core/errors.js";
import { readPairFile } from "../eval/benchmarks/pairs.js";

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
 * Reads decided pairs (label "A" or "B"; a tie is refused) from any file the pairs benchmark reads:
 * JSONL, JSON array, CSV or Parquet, with the same field map (`--map`); fields question, a, b, label,
 * optional id, context, category. Streams; a bad row stops with an error naming the file, line, row and
 * field.
 */
export async function* readPreferencePairs(file: string, map?: Record<string, string>): AsyncGenerator<PreferencePair> {
  for await (const item of readPairFile({ data: [file], map, flag: "--input", labels: "decided" })) {
    yield { id: item.id, question: item.question, context: item.context, a: item.a, b: item.b, label: item.label as "A" | "B", category: item.category === "pairs" ? undefined : item.category };
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
