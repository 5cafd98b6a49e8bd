import { encodeMessages } from "../core/chat-messages.js";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { CHAT_FORMATS, isChatFormatName, renderChat, type ChatFormatName } from "../core/chat-format.js";
import { J1Error, errorMessage } from "../core/errors.js";
import { checkChatTemplate, defaultSystemTeachesThinking, generationThinking, renderJinjaChat, thinkingSwitchesOf, type JinjaChatTemplate } from "../core/jinja-chat.js";
import { DEFAULT_THINKING_INSTRUCTIONS, detectReasoningFormat, reasoningFormatByName, REASONING_FORMATS, THINK_FORMAT, type ReasoningFormat } from "../core/reasoning-format.js";
import type { ChatPrompt, JudgeTemplate, PromptSegment } from "../core/template.js";
import { describeSampling, recommendedSampling } from "../core/recommended-sampling.js";
import type { Engine, SamplingOptions } from "../engines/engine.js";

/** `--chat-format`: the model's own template (auto, the default) or one of j1's named formats. */
export type ChatFormatChoice = ChatFormatName | "auto";

export const CHAT_FORMAT_CHOICES: readonly ChatFormatChoice[] = ["auto", ...CHAT_FORMATS];

export function isChatFormatChoice(name: string): name is ChatFormatChoice {
  return name === "auto" || isChatFormatName(name);
}

/**
 * How a judge prompt becomes the model's text: which chat template renders it and which reasoning format
 * the thinking uses. Resolved once per engine (`resolvePromptFormat`); `id` enters judgment keys, so a
 * changed template is a different computation.
 */
export interface PromptFormat {
  /** "auto:<source>" or a named format. */
  name: string;
  id: string;
  /** Undefined for the named formats: they keep the judge template's own delimiters. */
  reasoning?: ReasoningFormat;
  render(prompt: ChatPrompt): PromptSegment[];
  /** The family's recommended truncation when sampling (from its model card), applied unless one is given. */
  recommendedSampling?: SamplingOptions;
  /** What the user should know (a fallback taken, a format guessed). */
  notes: string[];
  /** What the recommended truncation does, said only when the judgments sample (greedy ones never use it). */
  samplingNote?: string;
}

/** The format's notes for a run at this temperature: the sampling note only when it samples. */
export function formatNotes(format: Pick<PromptFormat, "notes" | "samplingNote">, temperature: number): string[] {
  return temperature > 0 && format.samplingNote ? [...format.notes, format.samplingNote] : format.notes;
}

/**
 * For an engine that takes chat messages: the system and user turns as messages (the provider applies the
 * model's own template), thinking in <think>…</think> (or the provider's own reasoning field).
 */
export function messagesPromptFormat(): PromptFormat {
  const reasoning = THINK_FORMAT;
  return { name: "messages (the provider's own chat template)", id: "messages", reasoning, render: (prompt) => encodeMessages(prompt), notes: [] };
}

export function namedPromptFormat(name: ChatFormatName): PromptFormat {
  return { name, id: name, render: (prompt) => renderChat(prompt, name), notes: [] };
}

export interface ResolveFormatOptions {
  /** A Jinja file, or a tokenizer_config.json with `chat_template` (for a server that does not tell). */
  chatTemplateFile?: string;
  /** Overrides the detected reasoning format: think, harmony, bracket-think, think-text. */
  reasoning?: string;
}

/** `general.architecture` values of the Gemma families, whose turns j1's `gemma` format writes. */
const GEMMA_ARCHITECTURES = new Set(["gemma", "gemma2", "gemma3", "gemma3n"]);

export async function resolvePromptFormat(choice: ChatFormatChoice, engine: Engine, options: ResolveFormatOptions = {}): Promise<PromptFormat> {
  if (choice !== "auto") return namedPromptFormat(choice);
  if (engine.capabilities.takesMessages) return messagesPromptFormat();
  const chat = options.chatTemplateFile ? await readChatTemplateFile(options.chatTemplateFile) : await engine.chatTemplate?.();
  if (!chat) {
    // A Gemma without a template (the 270M GGUF has none) still expects Gemma's turns, not ChatML's.
    const architecture = await engine.architecture?.();
    const gemma = architecture !== undefined && GEMMA_ARCHITECTURES.has(architecture);
    const format = namedPromptFormat(gemma ? "gemma" : "chatml");
    format.notes.push(
      gemma
        ? `${engine.name}: the model carries no chat template; its general.architecture is "${architecture}", so j1 uses its named gemma format (pass --chat-template FILE for another)`
        : `${engine.name}: the model's chat template is not known here (pass --chat-template FILE); using j1's chatml format`,
    );
    return format;
  }
  const detected = detectReasoningFormat(chat.template);
  let reasoning = detected.format;
  const notes: string[] = [];
  if (options.reasoning !== undefined) {
    const chosen = reasoningFormatByName(options.reasoning);
    if (!chosen) throw new J1Error("bad-input", `unknown reasoning format "${options.reasoning}"; known: ${REASONING_FORMATS.map((format) => format.name).join(", ")}`, { context: { field: "--reasoning-format" } });
    reasoning = chosen;
  } else if (detected.fallback) {
    notes.push(detected.fallback);
  }
  const id = `auto:${createHash("sha256").update(chat.template).update("\u0000").update(chat.bosToken ?? "").update("\u0000").update(reasoning.name).digest("hex").slice(0, 16)}`;
  const recommended = recommendedSampling(chat.template);
  let recommendedTruncation: SamplingOptions | undefined;
  if (recommended) {
    recommendedTruncation = { topP: recommended.topP, topK: recommended.topK, minP: recommended.minP };
  }
  // Said (and stored with a run) only where judgments sample: a greedy run never truncates.
  const samplingNote = recommended && recommendedTruncation ? `when sampling, the thinking uses ${recommended.family}'s recommended ${describeSampling(recommendedTruncation)} (${recommended.source}; it suggests temperature ${recommended.temperature}); --top-p/--top-k/--min-p override` : undefined;
  // What the template does around the thinking, and what j1 renders for it (said, not silently done).
  const switches = thinkingSwitchesOf(chat.template);
  if (switches.length > 0) notes.push(`the chat template switches thinking with ${switches.map((name) => `\`${name}\``).join(" and ")}: j1 renders it on`);
  const foldSystem = defaultSystemTeachesThinking(chat, reasoning);
  if (foldSystem) notes.push(`the chat template's default system prompt teaches its thinking format (${reasoning.thinkStart.trim()}…${reasoning.thinkEnd.trim()}): it is kept, and j1's instructions go in the user turn`);
  const generation = generationThinking(chat, reasoning, { foldSystem });
  if (generation === "opened-by-template") notes.push(`the chat template's generation prompt already opens the thinking: kept as written`);
  if (generation === "closed-block-replaced") notes.push(`the chat template's generation prompt closes the thinking (an empty block or a lone ${reasoning.thinkEnd.trim()}): j1 cuts it and opens the thinking instead, so the model never sees a closed block reopened`);
  const renderOptions = { foldSystem };
  return { name: `auto (${chat.source}, ${reasoning.name})`, id, reasoning, recommendedSampling: recommendedTruncation, render: (prompt) => renderJinjaChat(prompt, chat, reasoning, renderOptions), notes, samplingNote };
}

/**
 * The judge template as this format runs it: a detected reasoning format sets where thinking starts and
 * ends and what comes before the verdict ("</think>\n\n[["), unless the judge template chose its own
 * delimiters.
 */
export function applyReasoning(template: JudgeTemplate, reasoning: ReasoningFormat | undefined, defaults: JudgeTemplate): JudgeTemplate {
  if (!reasoning) return template;
  const ownDelimiters = template.thinkStart !== defaults.thinkStart || template.thinkEnd !== defaults.thinkEnd;
  if (ownDelimiters) return template;
  // The instructions name the format's own delimiters ([THINK], harmony's channels), not always <think>.
  const name = (text: string) => text.replaceAll(DEFAULT_THINKING_INSTRUCTIONS.inside, reasoning.instructions.inside).replaceAll(DEFAULT_THINKING_INSTRUCTIONS.after, reasoning.instructions.after);
  return {
    ...template,
    system: name(template.system),
    user: name(template.user),
    thinkStart: reasoning.thinkStart,
    thinkEnd: reasoning.thinkEnd,
    answerPrefix: reasoning.afterThinkEnd + template.answerPrefix,
  };
}

export async function readChatTemplateFile(file: string): Promise<JinjaChatTemplate & { source: string }> {
  const chat = await readChatTemplateText(file);
  try {
    checkChatTemplate(chat);
  } catch (error) {
    throw new J1Error("bad-template", `${file}: field "--chat-template": ${errorMessage(error)}`, { context: { file, field: "--chat-template" }, cause: error });
  }
  return chat;
}

async function readChatTemplateText(file: string): Promise<JinjaChatTemplate & { source: string }> {
  let text: string;
  try {
    text = (await readFile(file, "utf8")).replace(/^\uFEFF/, "");
  } catch (error) {
    throw new J1Error("bad-input", `${file}: cannot read the chat template (${errorMessage(error)})`, { context: { file, field: "--chat-template" }, cause: error });
  }
  if (!file.endsWith(".json")) return { template: text, source: file };
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new J1Error("bad-input", `${file}: not valid JSON (${errorMessage(error)})`, { context: { file, field: "--chat-template" } });
  }
  const raw = config.chat_template;
  // tokenizer_config.json holds one template, or a list of named ones ("default", "tool_use", …).
  const template = typeof raw === "string" ? raw : Array.isArray(raw) ? (raw.find((entry) => entry?.name === "default")?.template as string | undefined) : undefined;
  if (typeof template !== "string") throw new J1Error("bad-input", `${file}: field "chat_template" must be a string (or a list with a "default" entry)`, { context: { file, field: "chat_template" } });
  const token = (value: unknown) => (typeof value === "string" ? value : typeof (value as { content?: unknown })?.content === "string" ? ((value as { content: string }).content) : undefined);
  return { template, bosToken: token(config.bos_token), eosToken: token(config.eos_token), source: file };
}
