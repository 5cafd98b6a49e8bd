import type { Hono, MiddlewareHandler } from "hono";
import { J1Error } from "../core/errors.js";
import { renderJson } from "../eval/report/index.js";
import { buildRunReport } from "../eval/run-report.js";
import { FINAL_POINT } from "../eval/sweep.js";
import type { RunRecord, RunStore, StoredDecision } from "../store/types.js";
import type { Refuse } from "./http-guards.js";

/** Below this confidence an item counts as low-confidence for `?filter=low-confidence`. */
export const LOW_CONFIDENCE = 0.6;
const FILTERS = ["wrong", "errors", "inconsistent", "low-confidence"] as const;
type Filter = (typeof FILTERS)[number];
const MAX_LIMIT = 500;

/**
 * The read-only run routes of `j1 serve` (GET /v1/runs...), on a run store opened by the caller; without
 * one they answer 404 "no run store". Every route sits behind the same token as the judgments.
 */
export function addRunRoutes(app: Hono, store: RunStore | undefined, auth: MiddlewareHandler, refuse: Refuse): void {
  const noStore = "no run store (start j1 serve with --store FILE, or run j1 eval first)";
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
    const report = Array.isArray(run.settings.benchmarks) ? buildRunReport(store, run.id) : undefined;
    return c.json(JSON.parse(JSON.stringify({ run, report })));
  });

  app.get("/v1/runs/:id/report", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const saved = store.getReport(run.id);
    const report = saved ?? buildRunReport(store, run.id);
    return c.json((JSON.parse(renderJson([report as never])) as unknown[])[0]);
  });

  app.get("/v1/runs/:id/items", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const filter = c.req.query("filter");
    if (filter !== undefined && !FILTERS.includes(filter as Filter)) return refuse(c, 400, `filter: must be one of ${FILTERS.join(", ")}`);
    const offset = intQuery(c.req.query("offset"), 0);
    if (offset === undefined || offset < 0) return refuse(c, 400, "offset: must be an integer >= 0");
    const limit = intQuery(c.req.query("limit"), 50);
    if (limit === undefined || limit < 1 || limit > MAX_LIMIT) return refuse(c, 400, `limit: must be an integer from 1 to ${MAX_LIMIT}`);
    const points = store.points(run.id);
    const point = c.req.query("point") ?? (points.includes(FINAL_POINT) || points.length === 0 ? FINAL_POINT : points[points.length - 1]);
    if (!points.includes(point) && points.length > 0) return refuse(c, 400, `point: the run has no point ${JSON.stringify(point)}; points: ${points.join(", ")}`);
    const decisions = store.decisions(run.id, point);
    const rows = [];
    for (const item of store.runItems(run.id)) {
      const decision = decisions.get(item.id);
      if (!decision || !matches(filter as Filter | undefined, decision, item.label)) continue;
      rows.push({ ...item, ...decision, itemId: item.id, point });
    }
    return c.json({ run: run.id, point, filter: filter ?? null, total: rows.length, offset, limit, items: rows.slice(offset, offset + limit) });
  });

  app.get("/v1/runs/:id/items/:itemId", auth, (c) => {
    if (!store) return refuse(c, 404, noStore);
    const run = findRun(c.req.param("id"));
    if (!run) return refuse(c, 404, `no run ${JSON.stringify(c.req.param("id"))}`);
    const itemId = c.req.param("itemId");
    const points = store.points(run.id);
    const point = c.req.query("point") ?? (points.includes(FINAL_POINT) || points.length === 0 ? FINAL_POINT : points[points.length - 1]);
    const item = store.runItems(run.id).find((candidate) => candidate.id === itemId);
    const judgment = store.judgment(run.id, itemId, point);
    if (!judgment) return refuse(c, 404, `no judgment of item ${JSON.stringify(itemId)} at point ${JSON.stringify(point)} in run ${run.id}`);
    return c.json({ run: run.id, point, item: item ?? { id: itemId }, judgment });
  });
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
