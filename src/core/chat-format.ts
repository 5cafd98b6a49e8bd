import { J1Error } from "./errors.js";
import type { ChatPrompt, PromptSegment } from "./template.js";

/**
 * Chat formats render a judge prompt into one raw text that ends inside the assistant turn (after the
 * thinking prefill). j1 renders on its own side, for both engines, because budget forcing continues a raw
 * text: a chat API would close the assistant turn or rewrite `<think>`.
 */
export type ChatFormatName = "chatml" | "llama3" | "gemma" | "plain";

export const CHAT_FORMATS: readonly ChatFormatName[] = ["chatml", "llama3", "gemma", "plain"];

interface ChatFormat {
  /** Text before the system message, between turns, etc. Each piece is trusted scaffolding. */
  systemOpen: string;
  systemClose: string;
  userOpen: string;
  userClose: string;
  assistantOpen: string;
  /** Formats without a system role fold the system text into the user turn. */
  foldSystem?: boolean;
}

const FORMATS: Record<ChatFormatName, ChatFormat> = {
  // Qwen2.5/Qwen3 (the J1 base model family) and many others.
  chatml: {
    systemOpen: "<|im_start|>system\n",
    systemClose: "<|im_end|>\n",
    userOpen: "<|im_start|>user\n",
    userClose: "<|im_end|>\n",
    assistantOpen: "<|im_start|>assistant\n",
  },
  llama3: {
    systemOpen: "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n",
    systemClose: "<|eot_id|>",
    userOpen: "<|start_header_id|>user<|end_header_id|>\n\n",
    userClose: "<|eot_id|>",
    assistantOpen: "<|start_header_id|>assistant<|end_header_id|>\n\n",
  },
  gemma: {
    systemOpen: "",
    systemClose: "\n\n",
    userOpen: "<start_of_turn>user\n",
    userClose: "<end_of_turn>\n",
    assistantOpen: "<start_of_turn>model\n",
    foldSystem: true,
  },
  plain: {
    systemOpen: "",
    systemClose: "\n\n",
    userOpen: "",
    userClose: "\n\n",
    assistantOpen: "Judge:\n",
  },
};

export function isChatFormatName(name: string): name is ChatFormatName {
  return (CHAT_FORMATS as readonly string[]).includes(name);
}

export function renderChat(prompt: ChatPrompt, formatName: ChatFormatName = "chatml"): PromptSegment[] {
  const format = FORMATS[formatName];
  if (!format) throw new J1Error("unsupported", `unknown chat format "${formatName}"; known: ${CHAT_FORMATS.join(", ")}`);
  const trusted = (text: string): PromptSegment => ({ text, trusted: true });
  const segments: PromptSegment[] = [];
  if (format.foldSystem) {
    segments.push(trusted(format.userOpen), ...prompt.system, trusted(format.systemClose), ...prompt.user, trusted(format.userClose));
  } else {
    segments.push(trusted(format.systemOpen), ...prompt.system, trusted(format.systemClose));
    segments.push(trusted(format.userOpen), ...prompt.user, trusted(format.userClose));
  }
  segments.push(trusted(format.assistantOpen + prompt.assistantPrefix));
  return joinSegments(segments);
}

export function joinSegments(segments: PromptSegment[]): PromptSegment[] {
  const joined: PromptSegment[] = [];
  for (const segment of segments) {
    if (segment.text.length === 0) continue;
    const previous = joined[joined.length - 1];
    if (previous && previous.trusted === segment.trusted) previous.text += segment.text;
    else joined.push({ ...segment });
  }
  return joined;
}

export function segmentsText(segments: readonly PromptSegment[]): string {
  return segments.map((segment) => segment.text).join("");
}
