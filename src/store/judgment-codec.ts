import { gunzipSync, gzipSync } from "node:zlib";
import type { Judgment, Order } from "../core/judgment.js";
import { majorityVote } from "../core/vote.js";
import type { ItemDecision } from "../eval/types.js";

/**
 * How a Judgment is kept in a row: the whole object as JSON (traces included, for `runs show` and exports),
 * gzipped once it is large, since traces carry the prompt and the thinking and compress several times over.
 * Small judgments stay plain text so they can be read with the sqlite3 shell.
 */
const GZIP_ABOVE_BYTES = 8 * 1024;

export type BodyEncoding = "json" | "json+gzip";

export function encodeJudgment(judgment: Judgment): { body: Buffer; encoding: BodyEncoding } {
  const json = Buffer.from(JSON.stringify(judgment), "utf8");
  if (json.length <= GZIP_ABOVE_BYTES) return { body: json, encoding: "json" };
  return { body: gzipSync(json), encoding: "json+gzip" };
}

export function decodeJudgment(body: Buffer | string, encoding: string): Judgment {
  if (encoding === "json+gzip") return JSON.parse(gunzipSync(body as Buffer).toString("utf8")) as Judgment;
  if (encoding === "json") return JSON.parse(typeof body === "string" ? body : body.toString("utf8")) as Judgment;
  throw new Error(`unknown judgment encoding "${encoding}"`);
}

/**
 * Per-order verdicts for scoring (position consistency, JudgeBench's two-order rule): the majority verdict
 * of each order's runs, by the same vote rule the judge used. Pointwise judgments have no orders.
 */
export function ordersOf(judgment: Judgment): ItemDecision["orders"] {
  if (judgment.kind !== "pairwise") return {};
  const orders: ItemDecision["orders"] = {};
  for (const order of ["AB", "BA"] as Order[]) {
    const runs = judgment.runs.filter((run) => run.order === order);
    if (runs.length > 0) orders[order] = majorityVote(runs.map((run) => run.verdict)).verdict;
  }
  return orders;
}
