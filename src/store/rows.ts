import type { JudgeKind, JudgmentStatus, Verdict } from "../core/judgment.js";
import type { ItemDecision, ScoredItem } from "../eval/types.js";
import { decodeJudgment } from "./judgment-codec.js";
import type { ExportRow, RunRecord, RunStatus, StoredDecision } from "./types.js";

/** Rows as SQLite returns them, and their mapping to the interface's types (absent stays absent). */

export interface RunRow {
  id: string;
  kind: string;
  benchmark: string;
  label: string;
  settings: string;
  status: string;
  summary: string | null;
  item_count: number | null;
  skipped: number | null;
  created_at: string;
  updated_at: string;
}

export interface ItemRow {
  item_id: string;
  kind: string | null;
  position: number;
  category: string;
  label: string;
  grp: string | null;
  meta: string | null;
}

export interface JudgmentRow {
  seq: number;
  run_id: string;
  item_id: string;
  point: string;
  key: string;
  kind: string;
  verdict: string | null;
  score: number | null;
  status: string;
  confidence: number | null;
  orders: string;
  thinking_tokens: number;
  evaluated_tokens: number;
  engine_errors: number;
  body: Buffer;
  encoding: string;
  saved_at: string;
}

export function runFromRow(row: RunRow): RunRecord {
  const run: RunRecord = {
    id: row.id,
    kind: row.kind as RunRecord["kind"],
    benchmark: row.benchmark,
    label: row.label,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    status: row.status as RunStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.summary !== null) run.summary = JSON.parse(row.summary);
  if (row.item_count !== null) run.items = row.item_count;
  if (row.skipped !== null) run.skipped = row.skipped;
  return run;
}

export function itemFromRow(row: ItemRow): ScoredItem {
  const item: ScoredItem = { id: row.item_id, category: row.category, label: row.label };
  if (row.kind !== null && row.kind !== "pair") item.kind = row.kind as ScoredItem["kind"];
  if (row.grp !== null) item.group = row.grp;
  if (row.meta !== null) item.meta = JSON.parse(row.meta) as ScoredItem["meta"];
  return item;
}

/**
 * The columns a report reads of each item and of each judgment, in the order of the raw rows (arrays, not
 * objects: a report reads 100k of each) that itemFromValues and decisionFromValues map.
 */
export const ITEM_COLUMNS = ["item_id", "kind", "category", "label", "grp", "meta"] as const;
export const DECISION_COLUMNS = ["item_id", "verdict", "status", "confidence", "orders", "thinking_tokens", "evaluated_tokens", "score", "engine_errors", "probe_tokens"] as const;

export function itemFromValues(values: readonly unknown[]): ScoredItem {
  const [itemId, kind, category, label, group, meta] = values as [string, string | null, string, string, string | null, string | null];
  const item: ScoredItem = { id: itemId, category, label };
  if (kind !== null && kind !== "pair") item.kind = kind as ScoredItem["kind"];
  if (group !== null) item.group = group;
  if (meta !== null) item.meta = JSON.parse(meta) as ScoredItem["meta"];
  return item;
}

export function decisionFromValues(values: readonly unknown[], parseOrders: (text: string) => ItemDecision["orders"] = parseOrdersText): StoredDecision {
  const [itemId, verdict, status, confidence, orders, thinkingTokens, evaluatedTokens, score, engineErrors, probeTokens] = values as [string, string | null, string, number | null, string, number, number, number | null, number | undefined, number | undefined];
  const decision: StoredDecision = {
    itemId,
    verdict: verdict as Verdict | null,
    status: status as JudgmentStatus,
    orders: parseOrders(orders),
    thinkingTokens,
    evaluatedTokens,
    score,
  };
  if (confidence !== null) decision.confidence = confidence;
  if (engineErrors !== undefined && engineErrors > 0) decision.engineErrors = engineErrors;
  if (probeTokens !== undefined && probeTokens > 0) decision.probeTokens = probeTokens;
  return decision;
}

/** A parser of orders texts for one read: a run's orders are a handful of distinct texts ({"AB":"A"}, ...), each parsed once and shared (frozen). */
export function sharedOrders(): (text: string) => ItemDecision["orders"] {
  const parsed = new Map<string, ItemDecision["orders"]>();
  return (text) => {
    let orders = parsed.get(text);
    if (orders === undefined) parsed.set(text, (orders = Object.freeze(JSON.parse(text) as ItemDecision["orders"])));
    return orders;
  };
}

function parseOrdersText(text: string): ItemDecision["orders"] {
  return JSON.parse(text) as ItemDecision["orders"];
}

export function decisionFromRow(row: Pick<JudgmentRow, "item_id" | "verdict" | "status" | "confidence" | "orders" | "thinking_tokens" | "evaluated_tokens" | "score"> & { engine_errors?: number; probe_tokens?: number }): StoredDecision {
  return decisionFromValues([row.item_id, row.verdict, row.status, row.confidence, row.orders, row.thinking_tokens, row.evaluated_tokens, row.score, row.engine_errors, row.probe_tokens]);
}

export function exportFromRows(row: JudgmentRow, item: ScoredItem | undefined): ExportRow {
  const decision = decisionFromRow(row);
  // Field order is the order of a JSONL line: who, what item, what verdict, what it cost, then the trace.
  return {
    runId: row.run_id,
    itemId: row.item_id,
    point: row.point,
    key: row.key,
    ...(item === undefined ? {} : { category: item.category, label: item.label }),
    ...(item?.group === undefined ? {} : { group: item.group }),
    ...(item?.meta === undefined ? {} : { meta: item.meta }),
    kind: row.kind as JudgeKind,
    verdict: decision.verdict,
    score: decision.score,
    status: decision.status,
    ...(decision.confidence === undefined ? {} : { confidence: decision.confidence }),
    orders: decision.orders,
    thinkingTokens: decision.thinkingTokens,
    evaluatedTokens: decision.evaluatedTokens,
    savedAt: row.saved_at,
    judgment: decodeJudgment(row.body, row.encoding),
  };
}

/** Sweep points in a human order: "waits=2" before "waits=10", whatever the locale. */
const POINT_ORDER = new Intl.Collator("en", { numeric: true });

export function comparePoints(a: string, b: string): number {
  return POINT_ORDER.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
