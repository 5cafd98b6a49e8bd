import type { RunReport } from "../report-types.js";

/** The kinds of failed judgment a run reports, in the order the console lists them. */
export const FAILURE_KINDS = ["engine-error", "parse-error", "vote-tie", "inconsistent"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/**
 * A run's failures by kind. engine-error, parse-error and vote-tie count order-judgments (an item judged in
 * both orders whose BA order failed in the engine adds one engine-error, though its status is
 * "inconsistent"); inconsistent counts items whose two orders did not agree (a failed order included).
 * Reports made before per-order counts fall back to the items' statuses.
 */
export function failureCounts(report: Pick<RunReport, "judgments">): Record<FailureKind, number> {
  const perOrder = report.judgments.failedOrders;
  const items = report.judgments.errors;
  const pick = (kind: FailureKind) => (perOrder !== undefined && kind !== "inconsistent" ? perOrder[kind] : items[kind]) ?? 0;
  return { "engine-error": pick("engine-error"), "parse-error": pick("parse-error"), "vote-tie": pick("vote-tie"), inconsistent: pick("inconsistent") };
}

/** Whether any judgment failed outright (engine error or parse error): what `j1 eval` exits 3 on. */
export function hasFailedJudgments(report: Pick<RunReport, "judgments">): boolean {
  const counts = failureCounts(report);
  return counts["engine-error"] + counts["parse-error"] > 0;
}

/**
 * The console's failure summary: one line of counts by kind, then what to do next. Empty when nothing
 * failed. `resume` is the command that continues the run (`j1 eval --resume RUN [--store FILE]`);
 * `storeFlag` (" --store FILE" or "") goes into the report command, so it finds the run too.
 */
export function failureLines(report: Pick<RunReport, "judgments" | "runId">, resume: string, storeFlag = ""): string[] {
  const counts = failureCounts(report);
  if (FAILURE_KINDS.every((kind) => counts[kind] === 0)) return [];
  const orders = report.judgments.orders ?? report.judgments.total;
  const lines = [`failures: ${FAILURE_KINDS.map((kind) => `${kind} ${counts[kind]}`).join(", ")} (of ${orders} order-judgments, ${report.judgments.total} items)`];
  if (counts["engine-error"] > 0) {
    lines.push(`next: ${resume} --retry-errors   (judges the engine errors again; raise --context-size if the context was the cause)`);
    // --retry-errors picks items by their status; an order that failed beside one that gave a verdict
    // leaves the item "inconsistent", which it does not pick.
    const hidden = report.judgments.engineErrorsInOtherItems ?? 0;
    if (hidden > 0) {
      lines.push(`note: ${hidden} of the engine errors are one order of a pair whose other order gave a verdict (status inconsistent); --retry-errors judges again only the ${report.judgments.errors["engine-error"] ?? 0} items whose status is engine-error`);
    }
  }
  if (counts["parse-error"] > 0 || counts["vote-tie"] > 0 || counts.inconsistent > 0) lines.push(`see the failed items' traces: j1 report ${report.runId}${storeFlag} --html report.html`);
  return lines;
}
