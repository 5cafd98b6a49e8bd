import type { RunReport } from "../report-types.js";

/**
 * The report as JSON for other tools: the RunReport array itself, pretty-printed with object keys sorted
 * at every level, so the same reports always give byte-identical output (diffable, cacheable) however
 * the objects were assembled. Non-finite numbers (a relative gain from a zero base) become null, as JSON
 * has no NaN.
 */
export function renderJson(reports: readonly RunReport[]): string {
  return `${JSON.stringify(sortKeys(reports), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined) sorted[key] = sortKeys(child);
  }
  return sorted;
}
