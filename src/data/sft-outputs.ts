import { existsSync, mkdirSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { badInput } from "../core/errors.js";
import { SFT_FORMATS, datasetInfoEntry, defaultFileName, rowsFor, writeDatasetInfo, writeJsonl, type OpenRlhfInput, type SftFormat } from "./sft-export.js";
import type { SftStats } from "./sft-stats.js";
import type { SftExample } from "./sft-trace.js";

/**
 * Where a `j1 data sft` build writes: one format to one file (`--output`), or every chosen format into a
 * folder (`--output-dir`: sft-<format>.jsonl, LLaMA-Factory's dataset_info.json, sft-stats.json).
 */
export interface SftOutputRequest {
  out?: string;
  outDir?: string;
  /** "all" or one format; default: all with outDir, openrlhf with out. */
  format?: string;
  stats?: string;
  datasetName: string;
  openRlhfInput: OpenRlhfInput;
  force: boolean;
}

export interface SftOutputPlan {
  files: Array<{ format: SftFormat; file: string }>;
  /** Merged into (or created) when the sharegpt file goes to a folder. */
  datasetInfo?: { file: string; name: string; fileName: string };
  /** With --output and sharegpt: the dataset_info.json entry to show the user instead. */
  datasetInfoSnippet?: string;
  stats: string[];
  openRlhfInput: OpenRlhfInput;
  overwrite: boolean;
}

export function planOutputs(request: SftOutputRequest): SftOutputPlan {
  if ((request.out === undefined) === (request.outDir === undefined)) throw badInput("give exactly one of --output FILE (one format) or --output-dir DIR (every chosen format)", { field: "--output / --output-dir" });
  const format = request.format ?? (request.outDir !== undefined ? "all" : "openrlhf");
  if (format !== "all" && !(SFT_FORMATS as readonly string[]).includes(format)) throw badInput(`unknown format "${format}"; known: ${SFT_FORMATS.join(", ")}, all`, { field: "--format" });
  if (request.openRlhfInput !== "text" && request.openRlhfInput !== "messages") throw badInput(`must be text or messages, got "${request.openRlhfInput}"`, { field: "--openrlhf-input" });
  const formats: SftFormat[] = format === "all" ? [...SFT_FORMATS] : [format as SftFormat];
  const plan: SftOutputPlan = { files: [], stats: [], openRlhfInput: request.openRlhfInput, overwrite: request.force };
  if (request.out !== undefined) {
    if (formats.length > 1) throw badInput("--output writes one format: name it with --format openrlhf|sharegpt|trl, or use --output-dir for all", { field: "--format" });
    const file = path.resolve(request.out);
    plan.files.push({ format: formats[0], file });
    if (formats[0] === "sharegpt") plan.datasetInfoSnippet = JSON.stringify({ [request.datasetName]: datasetInfoEntry(path.basename(file)) }, null, 2);
  } else {
    const dir = path.resolve(request.outDir as string);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw badInput("is not a folder", { file: dir, field: "--output-dir" });
    for (const one of formats) plan.files.push({ format: one, file: path.join(dir, defaultFileName(one)) });
    if (formats.includes("sharegpt")) plan.datasetInfo = { file: path.join(dir, "dataset_info.json"), name: request.datasetName, fileName: defaultFileName("sharegpt") };
    plan.stats.push(path.join(dir, "sft-stats.json"));
  }
  if (request.stats !== undefined) plan.stats.push(path.resolve(request.stats));
  return plan;
}

/** Checked before the judging, so a long build does not end in "exists already". */
export function checkWritable(plan: SftOutputPlan): void {
  if (plan.overwrite) return;
  for (const file of [...plan.files.map((entry) => entry.file), ...plan.stats]) {
    if (existsSync(file)) throw badInput("exists already (use --force to overwrite)", { file });
  }
}

/** Writes every planned file; returns the paths written. */
export async function writeOutputs(plan: SftOutputPlan, examples: readonly SftExample[], stats: SftStats): Promise<string[]> {
  const written: string[] = [];
  for (const { format, file } of plan.files) {
    mkdirSync(path.dirname(file), { recursive: true });
    await writeJsonl(file, rowsFor(format, examples, plan.openRlhfInput), plan.overwrite);
    written.push(file);
  }
  if (plan.datasetInfo !== undefined) {
    await writeDatasetInfo(plan.datasetInfo.file, plan.datasetInfo.name, plan.datasetInfo.fileName);
    written.push(plan.datasetInfo.file);
  }
  for (const file of plan.stats) {
    mkdirSync(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(stats, null, 2)}\n`, { encoding: "utf8", flag: plan.overwrite ? "w" : "wx" });
    written.push(file);
  }
  return written;
}
