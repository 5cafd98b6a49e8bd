import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { judgeBenchScore } from "../scoring/judgebench-rule.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";
import type { RowFields } from "./row-fields.js";

const NAME = "judgebench";

export const JUDGEBENCH_CATEGORIES = ["Knowledge", "Reasoning", "Math", "Coding"] as const;

/** JudgeBench's four classes from the `source` field: mmlu-pro-* / livebench-reasoning / livebench-math / livecodebench. */
export function judgeBenchCategory(source: string): (typeof JUDGEBENCH_CATEGORIES)[number] | undefined {
  if (source.startsWith("mmlu-pro")) return "Knowledge";
  if (source === "livebench-reasoning") return "Reasoning";
  if (source === "livebench-math") return "Math";
  if (source === "livecodebench") return "Coding";
  return undefined;
}

function toItem(fields: RowFields, ids: ItemIds): BenchmarkItem {
  const source = fields.string("source");
  const category = judgeBenchCategory(source);
  if (category === undefined) throw fields.fault("source", `unknown source "${source}": expected mmlu-pro-*, livebench-reasoning, livebench-math or livecodebench`);
  const label = fields.oneOf("label", ["A>B", "B>A"]);
  const id = fields.identifier("pair_id");
  ids.claim(id, fields, "pair_id");
  return {
    id,
    benchmark: NAME,
    category,
    question: fields.string("question"),
    a: fields.response("response_A"),
    b: fields.response("response_B"),
    label: label === "A>B" ? "A" : "B",
    meta: { source },
  };
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const files = resolveDataPaths(NAME, options.data, "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl", "a JudgeBench JSONL file");
  const ids = new ItemIds();
  for (const file of files) yield* itemsFromRows(readRows(file), (fields) => [toItem(fields, ids)], options);
}

export const judgebench: Benchmark = {
  name: NAME,
  description:
    "JudgeBench (ScalerLab), GPT-4o response pairs (350). Categories from source: mmlu-pro-* Knowledge, " +
    "livebench-reasoning Reasoning, livebench-math Math, livecodebench Coding. Protocol: both orders; each order's " +
    "decision scores +1 if it agrees with the label, -1 if it contradicts it, 0 for a tie or no verdict, and a pair " +
    "is correct only if the sum is > 0 (inconsistent pairs count as wrong). Score: share of correct pairs.",
  protocol: "both",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, judgeBenchScore, items, decisions, options),
};
