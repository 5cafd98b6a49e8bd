import { writeFile } from "node:fs/promises";
import { parquetWriteBuffer } from "hyparquet-writer";
import { badInput, errorMessage } from "../core/errors.js";
import type { RlExample } from "./rl-examples.js";

/**
 * verl's RL data: Parquet with one row per prompt and the columns its RLHFDataset and reward managers read:
 * - data_source: string, handed to compute_score (verl's built-in scorers dispatch on it);
 * - prompt: list<struct<role, content>>, the chat messages verl renders with the model's chat template;
 * - ability: string, a free-form task tag;
 * - reward_model: struct<style, ground_truth>, style "rule" and the right verdict ("A" / "B");
 * - extra_info: struct<index, id, pair_id, order, category, split>, handed to compute_score as a dict.
 * Written with an explicit nested schema (the standard 3-level list), so pyarrow and datasets read
 * `prompt` as a list of structs, as verl's own preprocessing scripts produce it.
 */
export interface VerlExportOptions {
  dataSource: string;
  ability: string;
  split: string;
}

export interface VerlRow {
  data_source: string;
  prompt: Array<{ role: string; content: string }>;
  ability: string;
  reward_model: { style: "rule"; ground_truth: string };
  extra_info: { index: bigint; id: string; pair_id: string; order: string; category: string; split: string };
}

/** The writer's own schema type (hyparquet-writer carries its own copy of hyparquet). */
type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]["schema"]>[number];

const utf8 = (name: string): SchemaElement => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" });

export const VERL_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: 5 },
  utf8("data_source"),
  { name: "prompt", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  { name: "element", repetition_type: "REQUIRED", num_children: 2 },
  utf8("role"),
  utf8("content"),
  utf8("ability"),
  { name: "reward_model", repetition_type: "REQUIRED", num_children: 2 },
  utf8("style"),
  utf8("ground_truth"),
  { name: "extra_info", repetition_type: "REQUIRED", num_children: 6 },
  { name: "index", type: "INT64", repetition_type: "REQUIRED" },
  utf8("id"),
  utf8("pair_id"),
  utf8("order"),
  utf8("category"),
  utf8("split"),
];

export function verlRow(example: RlExample, options: VerlExportOptions): VerlRow {
  return {
    data_source: options.dataSource,
    prompt: example.messages.map((message) => ({ role: message.role, content: message.content })),
    ability: options.ability,
    reward_model: { style: "rule", ground_truth: example.label },
    extra_info: {
      index: BigInt(example.index),
      id: example.id,
      pair_id: example.pairId,
      order: example.order,
      category: example.category ?? "",
      split: options.split,
    },
  };
}

export async function writeVerlParquet(file: string, examples: readonly RlExample[], options: VerlExportOptions, overwrite = false): Promise<void> {
  const rows = examples.map((example) => verlRow(example, options));
  const columns = ["data_source", "prompt", "ability", "reward_model", "extra_info"] as const;
  const buffer = parquetWriteBuffer({
    schema: VERL_SCHEMA,
    columnData: columns.map((name) => ({ name, data: rows.map((row) => row[name]) })),
    createdBy: "j1 data rl",
  });
  try {
    await writeFile(file, new Uint8Array(buffer), { flag: overwrite ? "w" : "wx" });
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
    throw badInput(exists ? "exists already (use --force to overwrite)" : `cannot write (${errorMessage(error)})`, { file });
  }
}
