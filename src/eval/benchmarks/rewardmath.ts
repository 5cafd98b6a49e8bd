import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { rewardMathScore } from "../scoring/rewardmath-groups.js";
import { resolveDataPaths } from "./data-location.js";
import { droppedGroupError, groupedItemsFromRows, GroupTaint, ItemIds, rawGroupOf, skipOrThrow } from "./load-rows.js";
import { readRows, rowFault, type SourceRow } from "./read-rows.js";
import { RowFields } from "./row-fields.js";

const EXPECTED = "a RewardMATH file (JSON array or JSONL)";

/** Solution steps as RewardMATH's own prompts show them: "1. step\n2. step...". */
export function numberedSteps(steps: readonly string[]): string {
  return steps.map((step, index) => `${index + 1}. ${step}`).join("\n");
}

function category(fields: RowFields): string {
  return fields.optionalString("subject") ?? "math";
}

interface Solution {
  source: SourceRow;
  problemId: string;
  id: string;
  type: "chosen" | "rejected";
  problem: string;
  steps: string;
  category: string;
  level: number | null;
}

function readSolution(fields: RowFields): Solution {
  if (fields.has("eval_solution_A")) throw fields.fault("eval_solution", "this row is in the pairwise format: load it with the rewardmath-pairwise benchmark");
  return {
    source: fields.source,
    problemId: fields.identifier("problem_id"),
    id: fields.identifier("id"),
    type: fields.oneOf("solution_type", ["chosen", "rejected"]),
    problem: fields.string("problem"),
    steps: numberedSteps(fields.responseList("eval_solution")),
    category: category(fields),
    level: fields.has("level") ? fields.integer("level") : null,
  };
}

/** Rejected solutions per problem in RewardMATH (the official data and rule). */
const REJECTED_PER_PROBLEM = 9;

/** One problem's pairs: its chosen solution (A) against each rejected one (B), grouped by the problem. */
function problemItems(solutions: Solution[], ids: ItemIds): BenchmarkItem[] {
  const first = solutions[0];
  const chosen = solutions.filter((solution) => solution.type === "chosen");
  const rejected = solutions.filter((solution) => solution.type === "rejected");
  // The official rule: a problem is right only if its chosen solution beats all nine rejected ones; with
  // fewer, "beats all" is an easier test than the one every published figure took.
  if (chosen.length !== 1 || rejected.length !== REJECTED_PER_PROBLEM) {
    throw rowFault({ ...first.source, id: first.id }, "solution_type", `problem ${first.problemId} has ${chosen.length} chosen and ${rejected.length} rejected solutions; it needs exactly 1 chosen and ${REJECTED_PER_PROBLEM} rejected`);
  }
  const group = first.problemId;
  return rejected.map((solution) => {
    const id = `${group}/${solution.id}`;
    ids.claim(id, new RowFields(solution.source), "id");
    return {
      id,
      benchmark: "rewardmath",
      category: first.category,
      question: first.problem,
      a: chosen[0].steps,
      b: solution.steps,
      label: "A",
      group,
      meta: { problemId: first.problemId, chosenId: chosen[0].id, rejectedId: solution.id, level: first.level },
    };
  });
}

/**
 * The direct format has one row per solution; a problem's rows are consecutive (as in the source files),
 * so problems are formed while streaming and only one problem is held at a time. A problem whose rows
 * reappear later is a fault rather than silently split in two. With --skip-bad, a problem with a
 * malformed row is dropped whole (counted): scored without one rejected solution it would be judged on
 * "beats all 8", an easier test than the official one.
 */
async function* loadDirect(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const files = resolveDataPaths("rewardmath", options.data, "rewardmath/RewardMATH_direct.json", EXPECTED);
  const ids = new ItemIds();
  const finished = new Set<string>();
  const taint = new GroupTaint();
  let current: Solution[] = [];
  const flush = function* (): Generator<BenchmarkItem> {
    if (current.length === 0) return;
    finished.add(current[0].problemId);
    const solutions = current;
    current = [];
    if (taint.current !== undefined) {
      options.onSkip?.(droppedGroupError("problem", solutions[0].problemId, taint.current));
      return;
    }
    try {
      yield* problemItems(solutions, ids);
    } catch (error) {
      skipOrThrow(error, options);
    }
  };
  for (const file of files) {
    for await (const row of readRows(file)) {
      let solution: Solution;
      try {
        if (row.fault) throw row.fault;
        solution = readSolution(new RowFields(row));
        if (finished.has(solution.problemId)) {
          throw rowFault(row, "problem_id", `rows of problem ${solution.problemId} are not consecutive (the problem appeared earlier in the file)`);
        }
      } catch (error) {
        skipOrThrow(error, options);
        taint.spoil(error as Error, rawGroupOf(row, "problem_id"), current[0]?.problemId);
        continue;
      }
      if (current.length > 0 && current[0].problemId !== solution.problemId) yield* flush();
      if (current.length === 0) taint.start(solution.problemId);
      else taint.continued();
      current.push(solution);
    }
  }
  yield* flush();
}

async function* loadPairwise(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const files = resolveDataPaths("rewardmath-pairwise", options.data, "rewardmath/RewardMATH_pairwise.json", EXPECTED);
  const ids = new ItemIds();
  for (const file of files) yield* groupedItemsFromRows(readRows(file), (fields) => {
    if (!fields.has("eval_solution_A") && fields.has("eval_solution")) {
      throw fields.fault("eval_solution_A", "missing: this row is in the direct format; load it with the rewardmath benchmark");
    }
    const id = fields.identifier("id");
    ids.claim(id, fields, "id");
    const problemId = fields.identifier("problem_id");
    return [{
      id,
      benchmark: "rewardmath-pairwise",
      category: category(fields),
      // The pairwise file's "answer" field repeats the problem text (a quirk of the source); "problem" is used.
      question: fields.string("problem"),
      a: numberedSteps(fields.responseList("eval_solution_A")),
      b: numberedSteps(fields.responseList("eval_solution_B")),
      label: fields.oneOf("chosen_position", ["A", "B"]),
      group: problemId,
      meta: { problemId, level: fields.has("level") ? fields.integer("level") : null },
    }];
  }, "problem_id", "problem", options);
}

const SCORING =
  "Official score: a problem counts only if its chosen solution beats all its rejected ones (one lost pair, tie or " +
  "missing verdict loses the problem); parts: mrr (mean reciprocal rank of the chosen solution) and pairs (share of " +
  "pairs won). Category = subject. The shared copy is a 2-problem sample; the full set (483 problems) is RewardMATH/RewardMATH.";

export const rewardmath: Benchmark = {
  name: "rewardmath",
  description:
    "RewardMATH direct format: one row per solution, 1 chosen and 9 rejected per problem, turned into 9 pairs chosen " +
    "(A) vs rejected (B) grouped by problem; steps shown as a numbered list. Protocol: one seeded random order per pair. " +
    SCORING,
  protocol: "shuffle",
  load: loadDirect,
  score: (items, decisions, options) => scoreBenchmark("rewardmath", rewardMathScore, items, decisions, options),
};

export const rewardmathPairwise: Benchmark = {
  name: "rewardmath-pairwise",
  description:
    "RewardMATH pairwise format: eval_solution_A / eval_solution_B with chosen_position A|B, grouped by problem_id. " +
    "Protocol: the pair as given. " +
    SCORING,
  protocol: "as-is",
  load: loadPairwise,
  score: (items, decisions, options) => scoreBenchmark("rewardmath-pairwise", rewardMathScore, items, decisions, options),
};
