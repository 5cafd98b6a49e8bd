import { badInput } from "../core/errors.js";
import type { Order, PairVerdict } from "../core/judgment.js";

/**
 * What the judge should have said. Pairwise labels name the better response ("A", "B" or "tie");
 * pointwise labels are the reference score. A pairwise label may also name its pair and order, so that
 * the two orders of one pair can be checked against each other (the consistency term).
 */
export type RewardLabel =
  | { kind: "pairwise"; verdict: PairVerdict; pair?: string; order?: Order }
  | { kind: "pointwise"; score: number; pair?: string };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Reads a label as trainers send it: a plain string ("A", "b", "tie", "7"), a number (7), an object
 * ({"verdict": "A", "pair": "p1", "order": "BA"} or {"score": 7}), or such an object serialised as a JSON
 * string (verl keeps ground truths as strings). `field` names the place in errors ("labels[3]").
 */
export function parseRewardLabel(value: unknown, field = "label"): RewardLabel {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw badInput(`must be a finite number, got ${value}`, { field });
    return { kind: "pointwise", score: value };
  }
  if (typeof value === "string") return parseLabelText(value, field);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return parseLabelObject(value as Record<string, unknown>, field);
  throw badInput(`expected "A", "B", "tie", a number, or an object with "verdict" or "score"; got ${describe(value)}`, { field });
}

function parseLabelText(text: string, field: string): RewardLabel {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw badInput('is empty (OpenRLHF sends "" when no --data.label_key is given: add --data.label_key label)', { field });
  const verdict = pairVerdictOf(trimmed);
  if (verdict) return { kind: "pairwise", verdict };
  if (NUMBER.test(trimmed)) return { kind: "pointwise", score: Number(trimmed) };
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw badInput(`looks like a JSON object but does not parse: ${shorten(trimmed)}`, { field });
    }
    return parseRewardLabel(parsed, field);
  }
  throw badInput(`expected "A", "B", "tie" or a number, got ${JSON.stringify(shorten(text))}`, { field });
}

function parseLabelObject(record: Record<string, unknown>, field: string): RewardLabel {
  const pair = record.pair ?? record.pair_id;
  if (pair !== undefined && typeof pair !== "string" && typeof pair !== "number") throw badInput("must be a string or a number", { field: `${field}.pair` });
  const pairId = pair === undefined ? undefined : String(pair);
  if (record.score !== undefined) {
    const score = typeof record.score === "string" && NUMBER.test(record.score.trim()) ? Number(record.score) : record.score;
    if (typeof score !== "number" || !Number.isFinite(score)) throw badInput(`must be a finite number, got ${describe(record.score)}`, { field: `${field}.score` });
    return { kind: "pointwise", score, pair: pairId };
  }
  const raw = record.verdict ?? record.label;
  const verdict = typeof raw === "string" ? pairVerdictOf(raw.trim()) : undefined;
  if (!verdict) throw badInput(`expected "A", "B" or "tie", got ${describe(raw)}`, { field: `${field}.verdict` });
  const order = record.order;
  if (order !== undefined && order !== "AB" && order !== "BA") throw badInput(`expected "AB" or "BA", got ${describe(order)}`, { field: `${field}.order` });
  return { kind: "pairwise", verdict, pair: pairId, order };
}

function pairVerdictOf(text: string): PairVerdict | undefined {
  if (/^a$/i.test(text)) return "A";
  if (/^b$/i.test(text)) return "B";
  if (/^tie$/i.test(text)) return "tie";
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(shorten(value));
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
