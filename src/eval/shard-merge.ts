import { storeFlag } from "../core/shell-quote.js";
import { badInput } from "../core/errors.js";
import { canonicalJson } from "../store/judgment-key.js";
import type { RunRecord, RunStore } from "../store/types.js";
import type { ScoredItem } from "./types.js";
import type { ShardRecord } from "./shard.js";

/** One shard to merge: the store it lives in and its run there. */
export interface ShardSource {
  store: RunStore;
  run: RunRecord;
}

export interface MergeResult {
  runId: string;
  items: number;
  judgments: number;
  shards: number;
}

/**
 * Settings that may differ between shards without changing a verdict: how fast each machine ran
 * (threads, parallel requests) and which share it took. Everything else must be equal.
 */
const SPEED_FIELDS = ["threads", "parallel"];

/**
 * Joins the shards of one eval run (`j1 eval --shard i/n` on n machines, each into its own store) into
 * one run in `target`: the items in the order the whole run has them, every judgment as the shard saved
 * it (key, point and per-order verdicts), the settings without the shard. The report built from it is
 * the unsharded run's, since reports read only the store (docs/architecture.md, "Run store").
 *
 * Refused, naming what is wrong: a shard not finished, shards of different settings (the first field
 * that differs) or data (the items hash), a share given twice or missing.
 */
export function mergeShards(sources: readonly ShardSource[], target: RunStore, label?: string): MergeResult {
  if (sources.length === 0) throw badInput("name the shards to merge", { field: "shards" });
  const records = sources.map(({ run, store }) => shardRecordOf(run, store.file));
  const first = sources[0].run;
  const count = records[0].count;
  const seen = new Map<number, string>();
  for (const [index, { run }] of sources.entries()) {
    const record = records[index];
    if (record.count !== count) throw badInput(`run ${run.id} is shard ${record.index}/${record.count}, but run ${first.id} is one of ${count}`, { field: "shard" });
    if (seen.has(record.index)) throw badInput(`shard ${record.index}/${count} is given twice (runs ${seen.get(record.index)} and ${run.id})`, { field: "shard" });
    seen.set(record.index, run.id);
    const difference = settingsDifference(first.settings, run.settings);
    if (difference) throw badInput(`run ${run.id} was run with other settings than run ${first.id}: ${difference}`, { field: difference.split(" ")[0] });
    if (record.itemsHash !== records[0].itemsHash || record.total !== records[0].total) {
      throw badInput(`run ${run.id} was cut from other data than run ${first.id} (${record.total} items hashing to ${record.itemsHash.slice(0, 12)} against ${records[0].total} hashing to ${records[0].itemsHash.slice(0, 12)}): the same benchmarks, files, limit and --skip-bad on every machine`, { field: "data" });
    }
    if ((run.skipped ?? 0) !== (first.skipped ?? 0)) throw badInput(`run ${run.id} skipped ${run.skipped ?? 0} rows, run ${first.id} ${first.skipped ?? 0}: they read different data`, { field: "data" });
  }
  const missing = Array.from({ length: count }, (_, index) => index + 1).filter((index) => !seen.has(index));
  if (missing.length > 0) throw badInput(`shard${missing.length > 1 ? "s" : ""} ${missing.map((index) => `${index}/${count}`).join(", ")} missing: merge all ${count} shards`, { field: "shards" });

  // The items back in the whole run's order.
  const placed: Array<ScoredItem | undefined> = new Array(records[0].total).fill(undefined);
  for (const [index, { store, run }] of sources.entries()) {
    const items = store.runItems(run.id);
    const { positions } = records[index];
    if (positions.length !== items.length) throw badInput(`run ${run.id} holds ${items.length} items but its shard record places ${positions.length}`, { field: "shard" });
    items.forEach((item, at) => {
      if (placed[positions[at]] !== undefined) throw badInput(`item position ${positions[at]} is in two shards`, { field: "shard" });
      placed[positions[at]] = item;
    });
  }
  const gap = placed.findIndex((item) => item === undefined);
  if (gap >= 0) throw badInput(`no shard holds the item at position ${gap} of ${placed.length}`, { field: "shards" });

  const settings = { ...first.settings };
  delete settings.shard;
  const run = target.createRun({ kind: "eval", benchmark: first.benchmark, label: label ?? first.label.replace(/, shard \d+\/\d+$/, ""), settings });
  target.setRunItems(run.id, placed as ScoredItem[], first.skipped ?? 0);
  let judgments = 0;
  for (const { store, run: shardRun } of sources) {
    for (const row of store.exportRun(shardRun.id)) {
      target.saveJudgment({ runId: run.id, itemId: row.itemId, point: row.point, key: row.key, judgment: row.judgment, orders: row.orders });
      judgments++;
    }
  }
  target.setRunStatus(run.id, "done", mergedSummary(sources.map((source) => source.run.summary)));
  return { runId: run.id, items: placed.length, judgments, shards: sources.length };
}

/** A finished shard's record, or why the run cannot be merged. */
function shardRecordOf(run: RunRecord, storeFile: string): ShardRecord {
  if (run.kind !== "eval") throw badInput(`run ${run.id} is a ${run.kind} run; only eval runs are sharded`, { field: "shards" });
  if (run.status !== "done") throw badInput(`run ${run.id} is ${run.status}: finish it first (j1 eval --resume ${run.id}${storeFlag(storeFile)})`, { field: "shards" });
  const record = (run.summary as { shard?: ShardRecord } | undefined)?.shard;
  if (!record || !Array.isArray(record.positions)) throw badInput(`run ${run.id} is not a shard (it was not run with --shard i/n)`, { field: "shards" });
  return record;
}

/** The first setting two shards differ in ("engine.model: "a" against "b""), or undefined when they agree. */
export function settingsDifference(left: Record<string, unknown>, right: Record<string, unknown>): string | undefined {
  const comparable = (settings: Record<string, unknown>) => {
    const copy: Record<string, unknown> = { ...settings };
    delete copy.shard;
    const engine = { ...(copy.engine as Record<string, unknown> | undefined) };
    for (const field of SPEED_FIELDS) delete engine[field];
    copy.engine = engine;
    return copy;
  };
  return firstDifference(comparable(left), comparable(right), "");
}

function firstDifference(left: unknown, right: unknown, path: string): string | undefined {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
  if (isObject(left) && isObject(right)) {
    for (const key of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
      const found = firstDifference(left[key], right[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  const shown = (value: unknown) => (value === undefined ? "(unset)" : JSON.stringify(value));
  if (canonicalJson(left ?? null) === canonicalJson(right ?? null)) return undefined;
  return `${path} differs: ${shown(left)} against ${shown(right)}`;
}

/** The shards' warnings and notes, each once, in the order first met. */
function mergedSummary(summaries: unknown[]): { warnings: unknown[]; notes: string[] } {
  const warnings = new Map<string, unknown>();
  const notes = new Set<string>();
  for (const summary of summaries) {
    const { warnings: shardWarnings, notes: shardNotes } = (summary ?? {}) as { warnings?: unknown[]; notes?: string[] };
    for (const warning of shardWarnings ?? []) warnings.set(JSON.stringify(warning), warning);
    for (const note of shardNotes ?? []) notes.add(note);
  }
  return { warnings: [...warnings.values()], notes: [...notes] };
}
