import { J1Error } from "../../core/errors.js";
import { REWARDBENCH2_SUBSETS } from "../scoring/rewardbench2-score.js";
import type { SourceRow } from "./read-rows.js";
import { describeValue } from "./row-fields.js";

/**
 * One RewardBench 2 row, checked against the hub's schema (allenai/reward-bench-2, the dataset card's
 * `dataset_info.features`): id (string), prompt (string), chosen / rejected (lists of strings),
 * num_correct / num_incorrect / total_completions (int64), models (list of strings), subset (string),
 * additional_metadata (a struct of nullable fields). A bad field is an error naming the file, the row
 * (1-based; and its line, for JSON Lines), the row's id once it is known, and the field.
 */
export interface RewardBench2Row {
  id: string;
  prompt: string;
  chosen: string[];
  rejected: string[];
  subset: string;
}

export class RowProblem {
  id: string | undefined;

  constructor(readonly source: SourceRow) {}

  fault(field: string, problem: string): J1Error {
    const { file, row, line } = this.source;
    const where = [`${file}: row ${row}${line === undefined ? "" : ` (line ${line})`}`, this.id === undefined ? undefined : `id ${JSON.stringify(this.id)}`, `field "${field}"`];
    return new J1Error("bad-input", `${where.filter(Boolean).join(": ")}: ${problem}`, { context: { file, row, line, id: this.id, field } });
  }
}

function record(source: SourceRow): Record<string, unknown> {
  const value = source.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const { file, row, line } = source;
    throw new J1Error("bad-input", `${file}: row ${row}${line === undefined ? "" : ` (line ${line})`}: each row must be an object, found ${describeValue(value)}`, {
      context: { file, row, line },
    });
  }
  return value as Record<string, unknown>;
}

function present(fields: Record<string, unknown>, field: string, problem: RowProblem): unknown {
  if (!(field in fields) || fields[field] === undefined) throw problem.fault(field, "missing");
  return fields[field];
}

function text(fields: Record<string, unknown>, field: string, problem: RowProblem): string {
  const value = present(fields, field, problem);
  if (typeof value !== "string") throw problem.fault(field, `must be a string, found ${describeValue(value)}`);
  return value;
}

function texts(fields: Record<string, unknown>, field: string, problem: RowProblem): string[] {
  const value = present(fields, field, problem);
  if (!Array.isArray(value)) throw problem.fault(field, `must be a list of strings, found ${describeValue(value)}`);
  value.forEach((entry, index) => {
    if (typeof entry !== "string") throw problem.fault(`${field}[${index}]`, `must be a string, found ${describeValue(entry)}`);
  });
  return value as string[];
}

/** Answers to judge: strings with text in them (the official data has no empty answer). */
function responses(fields: Record<string, unknown>, field: string, problem: RowProblem): string[] {
  const list = texts(fields, field, problem);
  list.forEach((entry, index) => {
    if (entry.trim().length === 0) throw problem.fault(`${field}[${index}]`, entry.length === 0 ? "is empty: a response to judge must have text" : "holds only whitespace: a response to judge must have text");
  });
  return list;
}

function count(fields: Record<string, unknown>, field: string, problem: RowProblem): number {
  const value = present(fields, field, problem);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw problem.fault(field, `must be a non-negative integer, found ${describeValue(value)}`);
  return value;
}

/** The row's fields, checked; `problem.id` is set as soon as the id is read, so later faults name it. */
export function readRewardBench2Row(source: SourceRow, problem: RowProblem): RewardBench2Row {
  const fields = record(source);
  const rawId = present(fields, "id", problem);
  // The hub's id is a string ("ref:12" in Ties); an integer is taken as its digits (a re-export).
  if (!((typeof rawId === "string" && rawId.length > 0) || (typeof rawId === "number" && Number.isInteger(rawId)))) {
    throw problem.fault("id", `must be a non-empty string, found ${describeValue(rawId)}`);
  }
  problem.id = String(rawId);
  const row = {
    id: problem.id,
    prompt: text(fields, "prompt", problem),
    chosen: responses(fields, "chosen", problem),
    rejected: responses(fields, "rejected", problem),
    subset: text(fields, "subset", problem),
  };
  // An unknown subset would become a seventh term of the leaderboard mean: refused.
  if (!(REWARDBENCH2_SUBSETS as readonly string[]).includes(row.subset)) throw problem.fault("subset", `${JSON.stringify(row.subset)} is not a RewardBench 2 subset (known: ${REWARDBENCH2_SUBSETS.join(", ")})`);
  const numCorrect = count(fields, "num_correct", problem);
  const numIncorrect = count(fields, "num_incorrect", problem);
  const total = count(fields, "total_completions", problem);
  // The official Ties scoring splits chosen + rejected at num_correct (`process_single_model`), and the
  // best-of-N scripts regroup rows by total_completions: both must agree with the lists.
  if (numCorrect !== row.chosen.length) throw problem.fault("num_correct", `is ${numCorrect}, but "chosen" holds ${row.chosen.length}`);
  if (numIncorrect !== row.rejected.length) throw problem.fault("num_incorrect", `is ${numIncorrect}, but "rejected" holds ${row.rejected.length}`);
  if (total !== numCorrect + numIncorrect) throw problem.fault("total_completions", `is ${total}, but num_correct + num_incorrect is ${numCorrect + numIncorrect}`);
  texts(fields, "models", problem);
  const metadata = present(fields, "additional_metadata", problem);
  if (metadata !== null && (typeof metadata !== "object" || Array.isArray(metadata))) {
    throw problem.fault("additional_metadata", `must be an object (or null), found ${describeValue(metadata)}`);
  }
  return row;
}
