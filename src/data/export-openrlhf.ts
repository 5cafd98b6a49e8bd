import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { badInput, errorMessage } from "../core/errors.js";
import type { RlExample } from "./rl-examples.js";

/**
 * OpenRLHF's prompt data: JSONL, one prompt per line. OpenRLHF reads the prompt from `--data.input_key`
 * (default "input") and the label from `--data.label_key` (no default: pass `--data.label_key label`), and
 * hands the label to the reward service untouched. The prompt is already templated (chat format and the
 * `<think>` prefill), so train WITHOUT `--data.apply_chat_template`. The other fields are for people and
 * are ignored by OpenRLHF.
 */
export interface OpenRlhfExportOptions {
  /**
   * "plain" (default): label "A" / "B". "pair": {"verdict": "A", "pair": id, "order": "AB"}, which lets
   * `j1 reward serve --consistency` match the two orders of a pair when they arrive in one request.
   */
  labels: "plain" | "pair";
}

export interface OpenRlhfRow {
  input: string;
  label: string | { verdict: string; pair: string; order: string };
  id: string;
  pair: string;
  order: string;
  category?: string;
}

export function openRlhfRow(example: RlExample, options: OpenRlhfExportOptions): OpenRlhfRow {
  return {
    input: example.promptText,
    label: options.labels === "pair" ? { verdict: example.label, pair: example.pairId, order: example.order } : example.label,
    id: example.id,
    pair: example.pairId,
    order: example.order,
    ...(example.category === undefined ? {} : { category: example.category }),
  };
}

export async function writeOpenRlhfJsonl(file: string, examples: readonly RlExample[], options: OpenRlhfExportOptions, overwrite = false): Promise<void> {
  const stream = createWriteStream(file, { encoding: "utf8", flags: overwrite ? "w" : "wx" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
    throw badInput(exists ? "exists already (use --force to overwrite)" : `cannot write (${errorMessage(error)})`, { file });
  }
  for (const example of examples) {
    if (!stream.write(`${JSON.stringify(openRlhfRow(example, options))}\n`)) await once(stream, "drain");
  }
  stream.end();
  await once(stream, "finish");
}
