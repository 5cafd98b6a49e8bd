import { badInput } from "../../core/errors.js";
import type { PairVerdict } from "../../core/judgment.js";
import type { Benchmark, BenchmarkItem, LoadOptions, PairItem } from "../types.js";
import { accuracyRule } from "../scoring/accuracy-rule.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { dataList, dataPrefix, isDirectory, resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { LABEL_CONVENTIONS, parsePairLabel, type LabelBase } from "./pair-labels.js";
import { readRows } from "./read-rows.js";
import { describeValue, type RowFields } from "./row-fields.js";

const NAME = "pairs";

/** j1's field names; the map says which source field feeds each (defaults: the same names). */
const REQUIRED = ["question", "a", "b", "label"] as const;
const OPTIONAL = ["context", "category", "id"] as const;
const SETTINGS = ["labelBase"] as const;

export interface PairFieldMap {
  question: string;
  a: string;
  b: string;
  label: string;
  context?: string;
  category?: string;
  id?: string;
  labelBase: LabelBase;
}

/** Checks a user's map ({question: "input", a: "output_1", ...}) and fills the defaults. */
export function pairFieldMap(map: Record<string, string> | undefined): PairFieldMap {
  const given = map ?? {};
  const known = new Set<string>([...REQUIRED, ...OPTIONAL, ...SETTINGS]);
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw badInput(`unknown key "${key}" in the field map: expected ${[...known].join(", ")}`, { field: key });
  }
  const base = given.labelBase ?? "1";
  if (base !== "0" && base !== "1") throw badInput(`labelBase must be 0 or 1, got "${base}"`, { field: "labelBase" });
  return {
    question: given.question ?? "question",
    a: given.a ?? "a",
    b: given.b ?? "b",
    label: given.label ?? "label",
    context: given.context,
    category: given.category,
    id: given.id,
    labelBase: base === "0" ? 0 : 1,
  };
}

/**
 * A field by name, or by a dotted path into nested values ("choices.0", "conversation.0.content") when no
 * field has the literal name. Returns undefined when absent.
 */
function lookup(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path];
  let value: unknown = record;
  for (const step of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

function text(fields: RowFields, path: string): string {
  const value = lookup(fields.record, path);
  if (value === undefined) throw fields.fault(path, "missing");
  if (typeof value !== "string") throw fields.fault(path, `must be a string, found ${describeValue(value)}`);
  return value;
}

type MaybeLabelled = Omit<PairItem, "label"> & { label?: PairVerdict };

/** How a file's labels are read: required (a benchmark), optional (pairs to judge), or decided (A or B: training data). */
export type LabelRule = "required" | "optional" | "decided";

function toItem(fields: RowFields, map: PairFieldMap, ids: ItemIds, rowPrefix: string, labels: LabelRule = "required"): MaybeLabelled {
  const rawLabel = lookup(fields.record, map.label);
  if (rawLabel === undefined && labels !== "optional") throw fields.fault(map.label, labels === "decided" ? 'missing (expected "A" or "B")' : "missing");
  const label = rawLabel === undefined ? undefined : parsePairLabel(rawLabel, map.labelBase);
  if (rawLabel !== undefined && label === undefined) throw fields.fault(map.label, `label ${describeValue(rawLabel)} is not understood; accepted: ${LABEL_CONVENTIONS}`);
  if (labels === "decided" && label === "tie") throw fields.fault(map.label, 'a tie carries no preference; training data needs "A" or "B"');
  // Optional fields default to their own names when the row has them: a file with "id", "context" or
  // "category" needs no map for them. Without an id, the row number is the id.
  const present = (name: string) => (Object.hasOwn(fields.record, name) ? name : undefined);
  const idField = map.id ?? present("id");
  const contextField = map.context ?? present("context");
  const categoryField = map.category ?? present("category");
  let id = `${rowPrefix}${fields.source.row}`;
  if (idField !== undefined) {
    const raw = lookup(fields.record, idField);
    if (!((typeof raw === "string" && raw.length > 0) || (typeof raw === "number" && Number.isInteger(raw)))) {
      throw fields.fault(idField, `must be a non-empty string or an integer, found ${describeValue(raw)}`);
    }
    id = String(raw);
  }
  ids.claim(id, fields, idField ?? map.question);
  const item: MaybeLabelled = {
    id,
    benchmark: NAME,
    category: categoryField === undefined ? NAME : text(fields, categoryField),
    question: text(fields, map.question),
    a: text(fields, map.a),
    b: text(fields, map.b),
  };
  if (label !== undefined) item.label = label;
  if (contextField !== undefined) {
    const context = lookup(fields.record, contextField);
    if (context !== undefined && context !== null) item.context = text(fields, contextField);
  }
  return item;
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  if (dataList(options.data).length === 0) throw badInput(`the ${NAME} benchmark needs --data FILE (JSONL, JSON array, CSV or Parquet)`);
  const files = resolveDataPaths(NAME, options.data, "", "");
  const map = pairFieldMap(options.map);
  const ids = new ItemIds();
  for (const [index, file] of files.entries()) yield* itemsFromRows(readRows(file), (fields) => [toItem(fields, map, ids, dataPrefix(index)) as PairItem], options);
}

/**
 * Pairs from a user's file (`j1 judge --input`, `j1 data sft|rl --input`): the same files, formats and
 * field map as the pairs benchmark, one reader for all of them; `labels` says what a label must be, and
 * `flag` names the option in errors.
 */
export async function* readPairFile(options: LoadOptions & { flag: string; labels: LabelRule }): AsyncGenerator<MaybeLabelled> {
  const files = dataList(options.data).map((entry) => {
    const file = resolve(entry);
    if (!existsSync(file)) throw badInput("no such file", { file, field: options.flag });
    if (isDirectory(file)) throw badInput("a folder, not a file of pairs", { file, field: options.flag });
    return file;
  });
  const map = pairFieldMap(options.map);
  const ids = new ItemIds();
  for (const [index, file] of files.entries()) yield* itemsFromRows(readRows(file), (fields) => [toItem(fields, map, ids, dataPrefix(index), options.labels)], options);
}

export const pairs: Benchmark = {
  name: NAME,
  description:
    "Any file of labelled pairs: JSONL, JSON array, CSV or Parquet (text formats may be .gz). A field map names the " +
    "source field for each of question, a, b, label and optionally context, category, id (defaults: the same names; " +
    "dotted paths reach nested fields, e.g. choices.0). Labels: " +
    LABEL_CONVENTIONS +
    " Score: accuracy (a tie verdict is right only when the label is a tie). Protocol: the pair as given.",
  protocol: "as-is",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, accuracyRule({ undecided: 0, average: "items" }), items, decisions, options),
};
