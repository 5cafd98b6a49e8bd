import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { llmBarScore } from "../scoring/llmbar-rule.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { dataPrefix, isDirectory, resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";

const NAME = "llmbar";
const DATASET_FILE = "dataset.json";

/** LLMBar's own order of its sets, so a report lists them as the paper does. */
const SET_ORDER = ["Natural", "Adversarial_Neighbor", "Adversarial_GPTInst", "Adversarial_GPTOut", "Adversarial_Manual"];

/**
 * The (file, set) pairs to read. LLMBar keeps each set as <Set>/dataset.json, so the category is the
 * folder name. `path` may be one dataset file, one set folder, or a folder of set folders.
 */
function llmBarFiles(path: string): Array<{ file: string; category: string }> {
  if (!isDirectory(path)) return [{ file: path, category: basename(dirname(path)) }];
  if (existsSync(join(path, DATASET_FILE))) return [{ file: join(path, DATASET_FILE), category: basename(path) }];
  const rank = (name: string): number => (SET_ORDER.includes(name) ? SET_ORDER.indexOf(name) : SET_ORDER.length);
  return readdirSync(path)
    .filter((name) => existsSync(join(path, name, DATASET_FILE)))
    .sort((x, y) => rank(x) - rank(y) || x.localeCompare(y))
    .map((name) => ({ file: join(path, name, DATASET_FILE), category: name }));
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const paths = resolveDataPaths(NAME, options.data, "llmbar", "an LLMBar dataset.json, a set folder, or a folder of set folders");
  const ids = new ItemIds();
  for (const [index, { file, category }] of paths.flatMap((path, index) => llmBarFiles(path).map((entry) => [index, entry] as const))) {
    yield* itemsFromRows(readRows(file), (fields) => {
      const better = String(fields.integerLabel("label", [1, 2]));
      const id = `${dataPrefix(index)}${category}/${fields.source.row}`;
      ids.claim(id, fields, "input");
      return [{
        id,
        benchmark: NAME,
        category,
        question: fields.string("input"),
        a: fields.response("output_1"),
        b: fields.response("output_2"),
        label: better === "1" ? "A" : "B",
      }];
    }, options);
  }
}

export const llmbar: Benchmark = {
  name: NAME,
  description:
    "LLMBar (princeton-nlp): instruction-following pairs; label 1/2 = the better of output_1 (A) and output_2 (B). " +
    "Category = the set folder (Natural 100, Adversarial_Neighbor 134 here; the GPTInst/GPTOut/Manual sets load the " +
    "same way). Protocol: both orders, as LLMBar's evaluate.py judges them. Official score: per set, the mean of the " +
    "accuracy with the outputs as given and with them swapped (its correct_average; no verdict or a tie is wrong); total " +
    "= mean of the set scores. Parts: each set, and the one-order accuracies as-given and swapped.",
  protocol: "both",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, llmBarScore, items, decisions, options),
};
