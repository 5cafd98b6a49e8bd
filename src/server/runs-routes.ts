import { storeFlag } from "../core/shell-quote.js";
import type { Hono, MiddlewareHandler } from "hono";
import { findItemText } from "../eval/item-text.js";
import { stream as streamText } from "hono/streaming";
import type { TraceSpan } from "../core/trace.js";
import { J1Error } from "../core/errors.js";
import { renderJson } from "../eval/report/index.js";
import { FINAL_POINT } from "../eval/sweep.js";
import type { RunRecord, RunStore, StoredDecision } from "../store/types.js";
import type { Refuse } from "./http-guards.js";
import { ReportCache } from "./report-cache.js";

/** Below this confidence an item counts as low-confidence for `?filter=low-confidence`. */
export const LOW_CONFIDENCE = 0.6;
const FILTERS = ["wrong", "errors", "inconsistent", "low-confidence"] as const;
type Filter = (typeof FILTERS)[number];
const MAX_LIMIT = 500;
const CHANGES = ["flipped", "fixed", "broken"] as const;
type Change = (typeof CHANGES)[number];
/** Longest search text accepted (`?q=`); a longer one is a mistake, not a search. */
const MAX_QUERY = 200;

/**
 * The read-only run routes of `j1 serve` (GET /v1/runs...), on a run store opened by the caller; without
 * one they answer 404 "no run store". Every route sits behind the same token as the judgments.
 */
export function addRunRoutes(app: Hono, store: RunStore | undefined, auth: MiddlewareHandler, refuse: Refuse): void {
  const noStore = "no run store (start j1 serve with --store FILE, or run j1 eval first)";
  const reports = store ? new ReportCache(store) : undefined;
  const findRun = (id: string): RunRecord | undefined => {
    try {
      return store?.getRun(id);
    } catch (error) {
      if (error instanceof J1Error) return undefined;
      throw error;
    }
  };

  app.get("/v1/runs", auth, (c) => (store ? c.json(store.listRuns()) : refuse(c, 404, noStore)));

  app.get("/v1/runs/:id", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    // A run still going (or stopped) has items without a decision: it is scored once it is done.
    const report = Array.isArray(run.settings.benchmarks) && run.status === "done" ? reports?.report(run) : undefined;
    return c.json(JSON.parse(JSON.stringify({ run, report })));
  });

  app.get("/v1/runs/:id/report", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const saved = store.getReport(run.id);
    if (!saved && run.kind !== "eval") return refuse(c, 409, `run ${run.id} is a ${run.kind} run: it holds judgments, not benchmark scores; its items are at /v1/runs/${run.id}/items`);
    if (!saved && run.status !== "done") return refuse(c, 409, `run ${run.id} is ${run.status}: its report is ready when every item is judged${run.status === "running" ? "" : ` (continue it: j1 eval --resume ${run.id}${storeFlag(store.file)})`}`);
    const report = saved ?? reports?.report(run);
    return c.json((JSON.parse(renderJson([report as never])) as unknown[])[0]);
  });

  app.get("/v1/runs/:id/items", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const filter = c.req.query("filter");
    if (filter !== undefined && !FILTERS.includes(filter as Filter)) return refuse(c, 400, `filter: must be one of ${FILTERS.join(", ")}`);
    const page = pageOf(c.req.query("offset"), c.req.query("limit"));
    if (typeof page === "string") return refuse(c, 400, page);
    const point = pointOf(store, run.id, c.req.query("point"));
    if (point.error) return refuse(c, 400, point.error);
    const q = c.req.query("q")?.trim();
    if (q !== undefined && q.length > MAX_QUERY) return refuse(c, 400, `q: at most ${MAX_QUERY} characters`);
    const decisions = store.decisions(run.id, point.value);
    // A search reads the judgments' text (the prompt holds the question and both responses); only then,
    // because it decodes every trace of the run, where the plain list reads columns only.
    const found = q ? searchRun(store, run.id, point.value, q) : undefined;
    const rows = [];
    for (const item of store.runItems(run.id)) {
      const decision = decisions.get(item.id);
      if (!decision || !matches(filter as Filter | undefined, decision, item.label)) continue;
      if (found && !found.has(item.id)) continue;
      rows.push({ ...item, ...decision, itemId: item.id, point: point.value });
    }
    return c.json({ run: run.id, point: point.value, points: store.points(run.id), filter: filter ?? null, q: q ?? null, total: rows.length, offset: page.offset, limit: page.limit, items: rows.slice(page.offset, page.offset + page.limit) });
  });

  /**
   * Two runs on the same items: for each item both judged, each run's verdict, status, confidence and
   * thinking tokens, and whether the verdict flipped (fixed: wrong to right; broken: right to wrong).
   * `?filter=flipped|fixed|broken`, `?point=` and `?otherPoint=` (each run's default point otherwise),
   * paged like the items. The summary counts cover every common item, whatever the filter.
   */
  app.get("/v1/runs/:id/compare/:other", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const left = findRun(c.req.param("id"));
    if (!left) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const right = findRun(c.req.param("other"));
    if (!right) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("other"))}`);
    const filter = c.req.query("filter");
    if (filter !== undefined && !CHANGES.includes(filter as Change)) return refuse(c, 400, `filter: must be one of ${CHANGES.join(", ")}`);
    const page = pageOf(c.req.query("offset"), c.req.query("limit"));
    if (typeof page === "string") return refuse(c, 400, page);
    const leftPoint = pointOf(store, left.id, c.req.query("point"));
    if (leftPoint.error) return refuse(c, 400, leftPoint.error);
    const rightPoint = pointOf(store, right.id, c.req.query("otherPoint"));
    if (rightPoint.error) return refuse(c, 400, `otherPoint: ${rightPoint.error.replace(/^point: /, "")}`);
    const a = store.decisions(left.id, leftPoint.value);
    const b = store.decisions(right.id, rightPoint.value);
    const summary = { common: 0, flipped: 0, fixed: 0, broken: 0, correct: { a: 0, b: 0 }, thinkingTokens: { a: 0, b: 0 }, flippedThinkingTokens: { a: 0, b: 0 } };
    const rows = [];
    for (const item of store.runItems(left.id)) {
      const one = a.get(item.id);
      const two = b.get(item.id);
      if (!one || !two) continue;
      summary.common++;
      const change = changeOf(one.verdict, two.verdict, item.label);
      if (one.verdict === item.label) summary.correct.a++;
      if (two.verdict === item.label) summary.correct.b++;
      summary.thinkingTokens.a += one.thinkingTokens;
      summary.thinkingTokens.b += two.thinkingTokens;
      if (change !== null) {
        summary.flipped++;
        summary.flippedThinkingTokens.a += one.thinkingTokens;
        summary.flippedThinkingTokens.b += two.thinkingTokens;
        if (change !== "flipped") summary[change]++;
      }
      if (filter !== undefined && change === null) continue;
      if ((filter === "fixed" || filter === "broken") && change !== filter) continue;
      rows.push({ itemId: item.id, category: item.category, label: item.label, change, a: side(one), b: side(two) });
    }
    return c.json({
      runs: { a: { id: left.id, label: left.label, point: leftPoint.value }, b: { id: right.id, label: right.label, point: rightPoint.value } },
      summary,
      filter: filter ?? null,
      total: rows.length,
      offset: page.offset,
      limit: page.limit,
      items: rows.slice(page.offset, page.offset + page.limit),
    });
  });

  /** The run as JSON lines, one judgment a line (what `j1 runs export` writes), streamed as the store pages it; `?point=` keeps one point. */
  app.get("/v1/runs/:id/export", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const asked = c.req.query("point");
    const only = asked === undefined ? undefined : pointOf(store, run.id, asked).value;
    if (only !== undefined && !store.points(run.id).includes(only)) return refuse(c, 400, `point: the run has no point ${JSON.stringify(only)}; points: ${store.points(run.id).join(", ")}`);
    c.header("content-type", "application/x-ndjson");
    c.header("content-disposition", `attachment; filename="j1-run-${run.id}.jsonl"`);
    return streamText(c, async (out) => {
      let lines: string[] = [];
      for (const row of store.exportRun(run.id)) {
        if (out.aborted) return;
        if (only !== undefined && row.point !== only) continue;
        lines.push(JSON.stringify(row));
        // Written in batches so a large run streams without one write per line.
        if (lines.length >= 200) {
          await out.write(`${lines.join("\n")}\n`);
          lines = [];
        }
      }
      if (lines.length) await out.write(`${lines.join("\n")}\n`);
    });
  });

  app.get("/v1/runs/:id/items/:itemId", auth, async (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const itemId = c.req.param("itemId");
    const point = pointOf(store, run.id, c.req.query("point")).value;
    const item = store.runItems(run.id).find((candidate) => candidate.id === itemId);
    const judgment = store.judgment(run.id, itemId, point);
    if (!judgment) return refuse(c, 404, `no judgment of item ${JSON.stringify(itemId)} at point ${JSON.stringify(point)} in run ${run.id}`);
    // The question and responses as judged, read from the run's data (the store keeps no item text).
    const { text, unavailable } = await findItemText(run, itemId);
    return c.json({ run: run.id, point, item: item ?? { id: itemId }, text: text ?? null, ...(unavailable ? { textUnavailable: unavailable } : {}), judgment });
  });
}

/** The point asked for, else the run's default (final, or the largest sweep point); an error naming `point` when the run lacks it. */
function pointOf(store: RunStore, runId: string, asked: string | undefined): { value: string; error?: string } {
  const points = store.points(runId);
  const last = points.includes(FINAL_POINT) || points.length === 0 ? FINAL_POINT : points[points.length - 1];
  // "final" names a sweep run's final point too (its largest), so one URL works on every run.
  const value = asked === undefined || asked === FINAL_POINT ? last : asked;
  if (!points.includes(value) && points.length > 0) return { value, error: `point: the run has no point ${JSON.stringify(value)}; points: ${points.join(", ")}` };
  return { value };
}

function pageOf(offsetText: string | undefined, limitText: string | undefined): { offset: number; limit: number } | string {
  const offset = intQuery(offsetText, 0);
  if (offset === undefined || offset < 0) return "offset: must be an integer >= 0";
  const limit = intQuery(limitText, 50);
  if (limit === undefined || limit < 1 || limit > MAX_LIMIT) return `limit: must be an integer from 1 to ${MAX_LIMIT}`;
  return { offset, limit };
}

/** The ids of the run's items at `point` whose fields or judgment text (prompt, thinking, answer of every pass) contain `q`, case-insensitively. */
function searchRun(store: RunStore, runId: string, point: string, q: string): Set<string> {
  const needle = q.toLowerCase();
  const has = (text: string | undefined) => text !== undefined && text.toLowerCase().includes(needle);
  const spans = (trace: readonly TraceSpan[]) => trace.some((span) => has(span.text));
  const found = new Set<string>();
  for (const row of store.exportRun(runId)) {
    if (row.point !== point) continue;
    if (has(row.itemId) || has(row.category) || has(row.label) || (row.meta !== undefined && has(JSON.stringify(row.meta))) || spans(row.judgment.trace) || row.judgment.runs.some((pass) => spans(pass.trace))) found.add(row.itemId);
  }
  return found;
}

/** How the second run's verdict differs from the first's: null when the same. */
function changeOf(first: StoredDecision["verdict"], second: StoredDecision["verdict"], label: string): Change | null {
  if (first === second) return null;
  if (first !== label && second === label) return "fixed";
  if (first === label && second !== label) return "broken";
  return "flipped";
}

function side(decision: StoredDecision) {
  return { verdict: decision.verdict, status: decision.status, confidence: decision.confidence ?? null, thinkingTokens: decision.thinkingTokens, orders: decision.orders };
}

function intQuery(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

function matches(filter: Filter | undefined, decision: StoredDecision, label: string): boolean {
  if (filter === undefined) return true;
  if (filter === "wrong") return decision.verdict !== label;
  if (filter === "errors") return decision.status === "parse-error" || decision.status === "engine-error" || (decision.engineErrors ?? 0) > 0;
  if (filter === "inconsistent") return decision.status === "inconsistent";
  return decision.confidence !== undefined && decision.confidence < LOW_CONFIDENCE;
}
