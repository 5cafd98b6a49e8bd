import { buildRunReport } from "../eval/run-report.js";
import type { RunReport } from "../eval/report-types.js";
import type { RunRecord, RunStore } from "../store/types.js";

/** Runs whose built report is kept (the most recently asked first out when full). */
const CACHED_RUNS = 16;

/**
 * The served reports of runs without a saved one, built once per run state. A done run's judgments change
 * only through a resume, which moves its status (and `updatedAt`) on, so status and `updatedAt` key the
 * state: the next request after a change builds the report again. Building reads every judgment of the
 * run (seconds at 100k), while a report page asks for it on every load.
 */
export class ReportCache {
  private readonly entries = new Map<string, { state: string; report: RunReport }>();

  constructor(private readonly store: RunStore) {}

  report(run: RunRecord): RunReport {
    const state = `${run.status}|${run.updatedAt}`;
    const cached = this.entries.get(run.id);
    if (cached && cached.state === state) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(run.id);
      this.entries.set(run.id, cached);
      return cached.report;
    }
    const report = buildRunReport(this.store, run.id);
    this.entries.delete(run.id);
    this.entries.set(run.id, { state, report });
    if (this.entries.size > CACHED_RUNS) this.entries.delete(this.entries.keys().next().value as string);
    return report;
  }
}
