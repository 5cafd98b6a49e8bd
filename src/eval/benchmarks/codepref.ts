import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { accuracyRule } from "../scoring/accuracy-rule.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { dataPrefix, isDirectory, resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";

const NAME = "codepref";

/** The four files of CodePrefBench, in the order its scorer runs them; the category is the file's name. */
export const CODEPREF_CATEGORIES = ["correctness", "efficiency", "security", "human-preference"] as const;

const FILE_PATTERN = /^(.+?)-alignment\.jsonl(\.gz)?$/;

/** "correctness-alignment.jsonl.gz" -> "correctness"; any other name is kept without its extensions. */
export function codePrefCategory(file: string): string {
  const name = basename(file);
  return FILE_PATTERN.exec(name)?.[1] ?? name.replace(/\.gz$/, "").replace(/\.[^.]+$/, "");
}

/** The files to read: one file, or every *-alignment.jsonl(.gz) in a folder (official ones first). */
function codePrefFiles(path: string): string[] {
  if (!isDirectory(path)) return [path];
  const names = readdirSync(path).filter((name) => FILE_PATTERN.test(name));
  const rank = (name: string): number => {
    const index = (CODEPREF_CATEGORIES as readonly string[]).indexOf(codePrefCategory(name));
    return index < 0 ? CODEPREF_CATEGORIES.length : index;
  };
  // A folder may hold both the .jsonl and the .jsonl.gz of a file (the upstream repository does): read one.
  const byCategory = new Map<string, string>();
  for (const name of names.sort()) {
    const category = codePrefCategory(name);
    if (!byCategory.has(category) || name.endsWith(".gz")) byCategory.set(category, name);
  }
  return [...byCategory.values()].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y)).map((name) => join(path, name));
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const paths = resolveDataPaths(NAME, options.data, "codeprefbench", "a CodePrefBench file or folder (*-alignment.jsonl[.gz])");
  const ids = new ItemIds();
  for (const [index, file] of paths.flatMap((path, index) => codePrefFiles(path).map((file) => [index, file] as const))) {
    const category = codePrefCategory(file);
    yield* itemsFromRows(readRows(file), (fields) => {
      const taskId = fields.identifier("task_id");
      const [first, second] = fields.stringList("choices", 2);
      const preferred = fields.oneOf("gt_choice", ["0", "1"]);
      // task_id repeats within a file (several pairs per HumanEval task), so the row number makes the id.
      const id = `${dataPrefix(index)}${category}/${fields.source.row}`;
      ids.claim(id, fields, "task_id");
      return [{
        id,
        benchmark: NAME,
        category,
        question: fields.string("instruction"),
        a: first,
        b: second,
        label: preferred === "0" ? "A" : "B",
        meta: { taskId },
      }];
    }, options);
  }
}

export const codepref: Benchmark = {
  name: NAME,
  description:
    "CodePrefBench (amazon-science/llm-code-preference): code pairs in four files, correctness 660, efficiency 352, " +
    "security 207, human-preference 145; category = file. gt_choice 0/1 = the preferred of choices[0] (A) and " +
    "choices[1] (B). Official score: per file (correct + undecided/2) / total, where undecided = no verdict or a tie; " +
    "the total is the mean of the file scores. Protocol: the pair as given (one order).",
  protocol: "as-is",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, accuracyRule({ undecided: 0.5, average: "categories" }), items, decisions, options),
};
