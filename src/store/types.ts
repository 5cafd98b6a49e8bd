import type { Judgment, JudgeKind } from "../core/judgment.js";
import type { ItemDecision, ScoredItem } from "../eval/types.js";

/**
 * The run store's repository interface. `j1 eval` and `j1 runs` see only this; SQLite stays behind it
 * (run-store.ts). Every method is synchronous and commits before it returns, so no transaction is ever held
 * open across an engine call or any other await.
 */

export type RunStatus = "running" | "done" | "failed" | "interrupted";
/** What made the run: `j1 eval`, `j1 data sft` or `j1 judge --input`. Resuming checks it. */
export type RunKind = "eval" | "data-sft" | "judge";
export const RUN_KINDS: readonly RunKind[] = ["eval", "data-sft", "judge"];

export interface RunConfig {
  /** Default "eval". */
  kind?: RunKind;
  benchmark: string;
  /** A short label for tables: model and key options. */
  label: string;
  /** Everything needed to resume the run as started: engine, model, template name and hash, scaling, samples, swap, seed, limit, sweep, data path. */
  settings: object;
}

export interface RunRecord extends RunConfig {
  kind: RunKind;
  settings: Record<string, unknown>;
  id: string;
  status: RunStatus;
  /** JSON set together with the status (e.g. the error that stopped the run, or headline scores). */
  summary?: unknown;
  /** Items in the run, once the item list is saved. */
  items?: number;
  /** Malformed source rows skipped (--skip-bad), once the item list is saved. */
  skipped?: number;
  createdAt: string;
  updatedAt: string;
}

export interface RunListing extends RunRecord {
  /** Judgment rows saved (all points). */
  judgments: number;
  /** Distinct items with at least one judgment. */
  itemsJudged: number;
}

export interface SaveJudgmentInput {
  runId: string;
  itemId: string;
  /** The sweep point ("waits=2") or "final" for an unswept run. */
  point: string;
  /** From judgmentKey(...). */
  key: string;
  judgment: Judgment;
  /**
   * Per-order verdicts in the item's labelling, when the caller knows better than the judgment's runs
   * (by default: the majority verdict of each order's runs).
   */
  orders?: ItemDecision["orders"];
  /**
   * A retry of a failed judgment: a saved row of (run, item, point) is replaced if, and only if, it
   * recorded an engine error (in any of its runs). Without it a saved judgment is never replaced.
   */
  replaceEngineError?: boolean;
}

/** What scoring needs of one judgment, read from columns without decoding the trace. */
export interface StoredDecision extends ItemDecision {
  /** Runs of the judgment that failed in the engine (an outage in one order of a pair included). */
  engineErrors?: number;
  thinkingTokens: number;
  evaluatedTokens: number;
  /** Of evaluatedTokens, those an adaptive policy spent on verdict probes (absent: none). */
  probeTokens?: number;
  /** Pointwise judgments: the (mean) score. */
  score: number | null;
}

/** One line of `j1 runs export`: a judgment with its item's fields. */
export interface ExportRow {
  runId: string;
  itemId: string;
  point: string;
  key: string;
  category?: string;
  label?: string;
  group?: string;
  meta?: ScoredItem["meta"];
  kind: JudgeKind;
  verdict: ItemDecision["verdict"];
  score: number | null;
  status: ItemDecision["status"];
  confidence?: number;
  orders: ItemDecision["orders"];
  thinkingTokens: number;
  evaluatedTokens: number;
  savedAt: string;
  judgment: Judgment;
}

export interface RunStore {
  /** The database file. */
  readonly file: string;

  createRun(config: RunConfig): RunRecord;
  /** By exact id or a unique prefix; a J1Error("store") naming the id otherwise. */
  getRun(id: string): RunRecord;
  /** Newest first. */
  listRuns(): RunListing[];
  setRunStatus(id: string, status: RunStatus, summary?: unknown): void;
  /** Saves the run's item list once; on resume, checks the same ids and keeps the saved list. */
  setRunItems(id: string, items: readonly ScoredItem[], skipped: number): void;
  /** In the loader's order. */
  runItems(id: string): ScoredItem[];

  /** Inserts one judgment, committed on return. Returns false if (run, item, point) was already saved. */
  saveJudgment(input: SaveJudgmentInput): boolean;
  /** A judgment with this key saved by any run (one without an engine error preferred). */
  findJudgmentByKey(key: string): Judgment | undefined;
  /** `${itemId}\u0000${point}` for each saved judgment of the run (see itemPointKey). */
  doneItemPoints(runId: string): Set<string>;
  /** The decisions at one point, keyed by item id, in the items' order. */
  decisions(runId: string, point: string): Map<string, StoredDecision>;
  /**
   * The decisions at one point aligned with `items`: [k] is items[k]'s, undefined where it has none. Given
   * the run's items as runItems returned them (what a report does), each decision is placed by its item's
   * position, with no id read or looked up; given another list, by id.
   */
  itemDecisions(runId: string, point: string, items: readonly ScoredItem[]): Array<StoredDecision | undefined>;
  judgment(runId: string, itemId: string, point: string): Judgment | undefined;
  /** The run's distinct points, sorted ("waits=2" before "waits=10"). */
  points(runId: string): string[];
  /** Every judgment of the run with its item fields, item by item; read in pages, no transaction held. */
  exportRun(id: string): Generator<ExportRow>;

  saveReport(runId: string, report: unknown): void;
  getReport(runId: string): unknown | undefined;

  /** Idempotent. */
  close(): void;
}

/** The member of RunStore.doneItemPoints for one item and point. */
export function itemPointKey(itemId: string, point: string): string {
  return `${itemId}\u0000${point}`;
}
