import { createWriteStream, existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { badInput, errorMessage } from "../core/errors.js";
import type { SftExample } from "./sft-trace.js";

/**
 * SFT exports for three trainers. Every format carries the same example: the judge prompt (system + user,
 * or the rendered text) and the completion `<think>…</think>[[A]]`.
 *
 * - OpenRLHF (`openrlhf`): JSONL {"input", "output", ...}. OpenRLHF's SFT dataset reads the prompt from
 *   the input key and the response from the output key; the loss covers the response only.
 *   - `text` input (default): the prompt as j1 renders it (chat format included, up to the assistant
 *     header), so training and j1's inference see the same text byte for byte. Train with
 *     `--input_key input --output_key output --input_template "{}"` and WITHOUT --apply_chat_template
 *     ("{}" keeps the text unchanged; the default template would wrap it in "User: …\nAssistant: ").
 *     OpenRLHF appends the tokenizer's EOS after the output.
 *   - `messages` input: [{role: system}, {role: user}] and output [{role: assistant}] (OpenRLHF joins the
 *     two lists, so the output is a list too). Train with `--input_key input --output_key output
 *     --apply_chat_template`; the tokenizer's chat template renders them.
 *   Releases with dotted flags (v0.10.2+) take the same keys as --data.input_key, --data.output_key, ...
 *   The other fields (id, pair, order, verdict, reflective, waits) are for people; OpenRLHF drops them.
 * - LLaMA-Factory (`sharegpt`): JSONL {"conversations": [{from: system|human|gpt, value}]} and a
 *   dataset_info.json entry with formatting "sharegpt" (a leading "system" turn is read as the system
 *   prompt).
 * - TRL (`trl`): JSONL {"messages": [{role: system|user|assistant, content}]}, SFTTrainer's conversational
 *   format. Train on the assistant turn only with `assistant_only_loss=True` (needs a chat template with
 *   generation markers), or the loss covers the prompt as well.
 */
export type SftFormat = "openrlhf" | "sharegpt" | "trl";
export const SFT_FORMATS: readonly SftFormat[] = ["openrlhf", "sharegpt", "trl"];
export type OpenRlhfInput = "text" | "messages";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export function chatMessages(example: SftExample): ChatMessage[] {
  return [
    { role: "system", content: example.system },
    { role: "user", content: example.user },
    { role: "assistant", content: example.completion },
  ];
}

export interface OpenRlhfSftRow {
  input: string | ChatMessage[];
  output: string | ChatMessage[];
  id: string;
  pair: string;
  order: string;
  verdict: string;
  reflective: boolean;
  waits: number;
}

export function openRlhfSftRow(example: SftExample, input: OpenRlhfInput): OpenRlhfSftRow {
  const [system, user, assistant] = chatMessages(example);
  return {
    input: input === "text" ? example.promptText : [system, user],
    output: input === "text" ? example.completion : [assistant],
    id: example.id,
    pair: example.pairId,
    order: example.order,
    verdict: example.verdict,
    reflective: example.reflection.reflective,
    waits: example.waitsUsed,
  };
}

const SHAREGPT_ROLES = { system: "system", user: "human", assistant: "gpt" } as const;

export interface SharegptRow {
  conversations: Array<{ from: "system" | "human" | "gpt"; value: string }>;
}

export function sharegptRow(example: SftExample): SharegptRow {
  return { conversations: chatMessages(example).map((message) => ({ from: SHAREGPT_ROLES[message.role], value: message.content })) };
}

export interface TrlRow {
  messages: ChatMessage[];
}

export function trlRow(example: SftExample): TrlRow {
  return { messages: chatMessages(example) };
}

/** LLaMA-Factory's dataset_info.json entry for the sharegpt file (tags spelled out, though they are the defaults). */
export function datasetInfoEntry(fileName: string): Record<string, unknown> {
  return {
    file_name: fileName,
    formatting: "sharegpt",
    columns: { messages: "conversations" },
    tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt", system_tag: "system" },
  };
}

/**
 * Adds (or replaces) this dataset's entry in a dataset_info.json, keeping the other entries: the file is
 * usually LLaMA-Factory's own data/dataset_info.json, which lists many datasets.
 */
export async function writeDatasetInfo(file: string, name: string, fileName: string): Promise<void> {
  let info: Record<string, unknown> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      throw badInput(`not valid JSON (${errorMessage(error)}); fix or remove it`, { file });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badInput("must hold a JSON object of datasets", { file });
    info = parsed as Record<string, unknown>;
  }
  info[name] = datasetInfoEntry(fileName);
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`, "utf8");
}

export function rowsFor(format: SftFormat, examples: readonly SftExample[], openRlhfInput: OpenRlhfInput): unknown[] {
  if (format === "openrlhf") return examples.map((example) => openRlhfSftRow(example, openRlhfInput));
  if (format === "sharegpt") return examples.map(sharegptRow);
  return examples.map(trlRow);
}

/** The file name a format gets in an output folder. */
export function defaultFileName(format: SftFormat): string {
  return `sft-${format}.jsonl`;
}

/** Writes JSONL; refuses to overwrite unless asked, so a long build never clobbers earlier data by accident. */
export async function writeJsonl(file: string, rows: readonly unknown[], overwrite: boolean): Promise<void> {
  const stream = createWriteStream(file, { encoding: "utf8", flags: overwrite ? "w" : "wx" });
  try {
    await once(stream, "open");
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
    throw badInput(exists ? "exists already (use --force to overwrite)" : `cannot write (${errorMessage(error)})`, { file: path.resolve(file) });
  }
  for (const row of rows) {
    if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, "drain");
  }
  stream.end();
  await once(stream, "finish");
}
