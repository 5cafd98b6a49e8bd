import type { ChatPrompt, PromptSegment } from "./template.js";

/**
 * A judge prompt for an engine that takes chat messages (a chat-only API such as an AI SDK model): the
 * system and user turns are kept apart, not rendered into one text. The segments carry them between the
 * judge and the engine: a trusted marker segment opens each turn, and the engine splits only at those
 * segments, never by searching the text, so a judged response that contains the marker text stays text.
 */
const SYSTEM = "\u0000j1:system\u0000";
const USER = "\u0000j1:user\u0000";

export function encodeMessages(prompt: ChatPrompt): PromptSegment[] {
  return [{ text: SYSTEM, trusted: true }, ...prompt.system, { text: USER, trusted: true }, ...prompt.user];
}

export interface ChatMessages {
  system: string;
  user: string;
}

/** The turns of `encodeMessages` segments; undefined when the segments were not encoded that way. */
export function decodeMessages(segments: readonly PromptSegment[]): ChatMessages | undefined {
  const at = (marker: string) => segments.findIndex((segment) => segment.trusted && segment.text === marker);
  const system = at(SYSTEM);
  const user = at(USER);
  if (system !== 0 || user < 0) return undefined;
  const join = (part: readonly PromptSegment[]) => part.map((segment) => segment.text).join("");
  return { system: join(segments.slice(1, user)), user: join(segments.slice(user + 1)) };
}

/** The prompt's text as a reader sees it (for traces): the turns labelled, the markers left out. */
export function messagesText(messages: ChatMessages): string {
  return `[system]\n${messages.system}\n[user]\n${messages.user}`;
}

/** A rendered prompt's text for the trace: the turns of a messages prompt, else the segments as written. */
export function promptDisplayText(segments: readonly PromptSegment[]): string {
  const messages = decodeMessages(segments);
  return messages ? messagesText(messages) : segments.map((segment) => segment.text).join("");
}
