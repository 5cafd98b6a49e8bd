/**
 * Where a model family's thinking starts and ends, and what its template writes between the end of
 * thinking and the answer. Budget forcing watches `thinkEnd`; the judge prefills `thinkStart` and, once
 * thinking is over, injects `afterThinkEnd` before the answer prefix ("[[").
 */
export interface ReasoningFormat {
  name: "think" | "harmony" | "bracket-think" | "think-text";
  thinkStart: string;
  thinkEnd: string;
  afterThinkEnd: string;
  /**
   * How j1's instructions name the thinking in this format: `inside` replaces "inside <think> and
   * </think>", `after` replaces "After </think>," (harmony's are channels, not tags: naming its tokens in
   * trusted text would write them as real control tokens).
   */
  instructions: { inside: string; after: string };
}

const TAG_INSTRUCTIONS = { inside: "inside <think> and </think>", after: "After </think>," };

/** Qwen3, DeepSeek-R1 and its distills, QwQ, …: `<think>…</think>` then "\n\n" and the answer. */
export const THINK_FORMAT: ReasoningFormat = { name: "think", thinkStart: "<think>\n", thinkEnd: "</think>", afterThinkEnd: "\n\n", instructions: TAG_INSTRUCTIONS };

/** gpt-oss (harmony): the analysis channel, then a new assistant message on the final channel. */
export const HARMONY_FORMAT: ReasoningFormat = {
  name: "harmony",
  thinkStart: "<|channel|>analysis<|message|>",
  thinkEnd: "<|end|>",
  afterThinkEnd: "<|start|>assistant<|channel|>final<|message|>",
  instructions: { inside: "in your analysis channel", after: "Then, in your final channel," },
};

/** Magistral-style `[THINK]…[/THINK]`. */
export const BRACKET_THINK_FORMAT: ReasoningFormat = {
  name: "bracket-think",
  thinkStart: "[THINK]",
  thinkEnd: "[/THINK]",
  afterThinkEnd: "",
  instructions: { inside: "inside [THINK] and [/THINK]", after: "After [/THINK]," },
};

/**
 * A template with no thinking format of its own (Llama 3.1, the tiny model's ChatML): j1's `<think>` as
 * plain text, as the named formats have always used it.
 */
export const TEXT_THINK_FORMAT: ReasoningFormat = { name: "think-text", thinkStart: "<think>\n", thinkEnd: "</think>", afterThinkEnd: "", instructions: TAG_INSTRUCTIONS };

/** How j1's default instructions name the thinking (the `<think>` formats' wording). */
export const DEFAULT_THINKING_INSTRUCTIONS = TAG_INSTRUCTIONS;

export const REASONING_FORMATS: readonly ReasoningFormat[] = [THINK_FORMAT, HARMONY_FORMAT, BRACKET_THINK_FORMAT, TEXT_THINK_FORMAT];

/**
 * The family's format, from what its chat template writes: harmony channels, `[THINK]`, or `<think>`.
 * `fallback` says which one j1 uses when the template shows none (for the message the user sees).
 */
export function detectReasoningFormat(chatTemplate: string): { format: ReasoningFormat; fallback?: string } {
  if (chatTemplate.includes("<|channel|>")) return { format: HARMONY_FORMAT };
  if (chatTemplate.includes("[THINK]")) return { format: BRACKET_THINK_FORMAT };
  if (chatTemplate.includes("</think>") || chatTemplate.includes("<think>")) return { format: THINK_FORMAT };
  return { format: TEXT_THINK_FORMAT, fallback: "the chat template has no thinking format of its own: j1 uses <think>…</think> as plain text" };
}

export function reasoningFormatByName(name: string): ReasoningFormat | undefined {
  return REASONING_FORMATS.find((format) => format.name === name);
}
