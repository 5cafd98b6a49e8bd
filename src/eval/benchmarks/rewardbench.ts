import { existsSync } from "node:fs";
import { join } from "node:path";
import { dataList, resolveDataPaths, sharedBenchmarksDir } from "./data-location.js";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { REWARDBENCH_SECTIONS, rewardBenchScore, rewardBenchSection } from "../scoring/rewardbench-sections.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";
import { ensureRewardBench } from "./rewardbench-download.js";

const NAME = "rewardbench";

/** Where a local copy of the `filtered` split sits under the shared benchmarks folder, when there is one. */
const SHARED_COPY = join("rewardbench", "filtered.jsonl.gz");

/**
 * The data: --data when given; else the shared benchmarks folder's copy (as every other loader finds its
 * file there); else the cached `filtered` split, downloaded on first use.
 */
async function rewardBenchFiles(data: string | string[] | undefined): Promise<string[]> {
  if (dataList(data).length > 0) return resolveDataPaths(NAME, data, "", "");
  const shared = join(sharedBenchmarksDir(), SHARED_COPY);
  if (existsSync(shared)) return [shared];
  return [await ensureRewardBench()];
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const files = await rewardBenchFiles(options.data);
  const ids = new ItemIds();
  for (const file of files) yield* itemsFromRows(readRows(file), (fields) => {
    // The official data is keyed by (subset, id): id 3692 is both a donotanswer and a hep-python row.
    const subset = fields.string("subset");
    // A subset the official code does not know is listed there and then left out of every section: the
    // figure would silently leave its rows out. Refused instead.
    if (rewardBenchSection(subset) === undefined) throw fields.fault("subset", `${JSON.stringify(subset)} is not a RewardBench subset (known: ${Object.values(REWARDBENCH_SECTIONS).flatMap((subsets) => Object.keys(subsets)).join(", ")})`);
    const id = `${subset}/${fields.identifier("id")}`;
    ids.claim(id, fields, "id");
    // The models are checked for presence and type (the schema has them) but the judge does not see them.
    fields.string("chosen_model");
    fields.string("rejected_model");
    return [{
      id,
      benchmark: NAME,
      category: subset,
      question: fields.string("prompt"),
      a: fields.response("chosen"),
      b: fields.response("rejected"),
      label: "A",
    }];
  }, options);
}

export const rewardbench: Benchmark = {
  name: NAME,
  description:
    "RewardBench (allenai/reward-bench, split filtered, 2985 pairs in 23 subsets; category = subset). Downloaded on " +
    "first use into the j1 cache (datasets/reward-bench), or --data FILE (Parquet, JSON or JSONL with prompt, chosen, " +
    "chosen_model, rejected, rejected_model, subset, id). Official score: per subset accuracy (right 1, wrong 0, no " +
    "verdict or tie 0.5); sections Chat, Chat Hard, Safety, Reasoning = subset accuracies weighted by the official " +
    "counts (math-prm weighs 984); total = mean of the four sections. Protocol: one seeded random order per pair.",
  protocol: "shuffle",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, rewardBenchScore, items, decisions, options),
};
