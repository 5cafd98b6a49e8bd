import { Template } from "@huggingface/jinja";
import { joinSegments } from "./chat-format.js";
import { J1Error, errorMessage } from "./errors.js";
import type { ReasoningFormat } from "./reasoning-format.js";
import type { ChatPrompt, PromptSegment } from "./template.js";

/**
 * Renders a judge prompt with the model's own Jinja chat template (@huggingface/jinja, the renderer
 * transformers.js uses), keeping judged text as untrusted segments through the render: each untrusted
 * segment enters the template as a sentinel, and the rendered text is cut at the sentinels again, so the
 * template's scaffolding is trusted and the judged text is not, whatever the template does around it.
 */
export interface JinjaChatTemplate {
  template: string;
  bosToken?: string;
  eosToken?: string;
}

/** Plane-15 private-use characters: never in real text; stripped from judged text before the render. */
const OPEN = "\u{F0000}";
const CLOSE = "\u{F0001}";
const SENTINEL = /\u{F0000}(\d+)\u{F0001}/gu;
const SENTINEL_CHARS = /[\u{F0000}\u{F0001}]/gu;

/**
 * Variables that templates switch thinking with: Qwen3 and GLM read `enable_thinking`, DeepSeek V3.1 and
 * Granite `thinking`, some `enable_reasoning`. j1 always thinks, so each is rendered on.
 */
export const THINKING_SWITCHES = ["enable_thinking", "thinking", "enable_reasoning"] as const;

/** The switches a template reads as bare variables (not `message.thinking`, a message's own field). */
export function thinkingSwitchesOf(template: string): string[] {
  return THINKING_SWITCHES.filter((name) => new RegExp(`(?<![.\\w'"\\[])${name}\\b(?!\\s*=(?!=)|\\s*\\()`).test(template.replace(/\{#[\s\S]*?#\}/g, "")));
}

/** What the template's generation prompt does with the thinking, and what j1 did about it. */
export type GenerationThinking =
  /** It does not open the thinking: j1 adds the format's start. */
  | "opened-by-j1"
  /** It opens the thinking itself (DeepSeek-R1's "<think>\n"): kept as written. */
  | "opened-by-template"
  /** It writes a closed (empty) block or a lone end (thinking off): cut, and the thinking opened instead. */
  | "closed-block-replaced";

export interface JinjaRenderOptions {
  /**
   * Fold j1's system text into the user turn (the template's own default system prompt, which teaches its
   * thinking format, is then kept): see `defaultSystemTeachesThinking`.
   */
  foldSystem?: boolean;
}

/** Throws the bad-template error `parseTemplate` would, at once (a template read from a file is checked when read). */
export function checkChatTemplate(chat: JinjaChatTemplate): void {
  parseTemplate(chat);
}

function parseTemplate(chat: JinjaChatTemplate): Template {
  try {
    return new Template(chat.template);
  } catch (error) {
    throw new J1Error("bad-template", `the chat template does not parse: ${errorMessage(error)}`);
  }
}

function baseVariables(chat: JinjaChatTemplate): Record<string, unknown> {
  const variables: Record<string, unknown> = { bos_token: chat.bosToken ?? "", eos_token: chat.eosToken ?? "" };
  for (const name of THINKING_SWITCHES) variables[name] = true;
  return variables;
}

/**
 * Renders a system and a user message; templates without a system role (Gemma's) raise on one, so the
 * system text is then folded into the user turn, as they expect (and always with `foldSystem`).
 */
function renderMessages(template: Template, variables: Record<string, unknown>, system: string, user: string, foldSystem: boolean): string {
  const folded = [{ role: "user", content: system.length > 0 ? `${system}\n\n${user}` : user }];
  if (foldSystem) return template.render({ ...variables, messages: folded });
  try {
    return template.render({ ...variables, messages: [{ role: "system", content: system }, { role: "user", content: user }] });
  } catch {
    return template.render({ ...variables, messages: folded });
  }
}

/**
 * The rendered text up to where the model answers, ending inside the thinking. The generation prompt is
 * what `add_generation_prompt` adds (the render with it less the render without it); in it:
 * - a thinking end (`</think>`: a closed empty block, or DeepSeek V3.1's lone end with thinking off) is cut
 *   with everything after it and the block's start, and the thinking opened in its place, so the model
 *   never sees a closed block reopened;
 * - an open thinking start ("<think>\n") is kept as the template wrote it;
 * - otherwise the format's start is added.
 */
function withThinkingOpen(full: string, withoutGeneration: string | undefined, reasoning: ReasoningFormat): { text: string; thinking: GenerationThinking } {
  if (withoutGeneration === undefined || !full.startsWith(withoutGeneration)) {
    // The generation prompt cannot be told apart: only complete a start the text already ends with.
    const prefill = thinkingPrefill(full, reasoning.thinkStart);
    return { text: full + prefill, thinking: prefill === reasoning.thinkStart ? "opened-by-j1" : "opened-by-template" };
  }
  const generationStart = withoutGeneration.length;
  const generation = full.slice(generationStart);
  const start = reasoning.thinkStart.trim();
  const end = reasoning.thinkEnd.trim();
  const endAt = end.length > 0 ? generation.lastIndexOf(end) : -1;
  if (endAt >= 0) {
    const startAt = start.length > 0 ? generation.lastIndexOf(start, endAt) : -1;
    const cut = generationStart + (startAt >= 0 ? startAt : endAt);
    return { text: full.slice(0, cut) + reasoning.thinkStart, thinking: "closed-block-replaced" };
  }
  const startAt = start.length > 0 ? generation.lastIndexOf(start) : -1;
  // Kept exactly as the template writes it ("<think>" alone, "<think>\n"): what the family was trained on.
  if (startAt >= 0 && generation.slice(startAt + start.length).trim().length === 0) return { text: full, thinking: "opened-by-template" };
  return { text: full + reasoning.thinkStart, thinking: "opened-by-j1" };
}

export function renderJinjaChat(prompt: ChatPrompt, chat: JinjaChatTemplate, reasoning: ReasoningFormat, options: JinjaRenderOptions = {}): PromptSegment[] {
  const template = parseTemplate(chat);
  const untrusted: PromptSegment[] = [];
  const content = (segments: readonly PromptSegment[]) =>
    segments
      .map((segment) => {
        const text = segment.text.replace(SENTINEL_CHARS, "\uFFFD");
        if (segment.trusted) return text;
        untrusted.push({ text, trusted: false });
        return `${OPEN}${untrusted.length - 1}${CLOSE}`;
      })
      .join("");
  const system = content(prompt.system);
  const user = content(prompt.user);
  const variables = baseVariables(chat);
  let full: string;
  let withoutGeneration: string | undefined;
  try {
    full = renderMessages(template, { ...variables, add_generation_prompt: true }, system, user, options.foldSystem ?? false);
  } catch (error) {
    throw new J1Error("bad-template", `the chat template failed to render a system and a user message: ${errorMessage(error)}`);
  }
  try {
    withoutGeneration = renderMessages(template, { ...variables, add_generation_prompt: false }, system, user, options.foldSystem ?? false);
  } catch {
    withoutGeneration = undefined;
  }
  const rendered = withThinkingOpen(full, withoutGeneration, reasoning).text;
  const segments: PromptSegment[] = [];
  const seen = new Set<number>();
  let last = 0;
  for (const match of rendered.matchAll(SENTINEL)) {
    const index = Number(match[1]);
    if (seen.has(index) || untrusted[index] === undefined) throw new J1Error("bad-template", "the chat template repeats a message's content: judged text would appear twice");
    seen.add(index);
    segments.push({ text: rendered.slice(last, match.index), trusted: true }, untrusted[index]);
    last = (match.index ?? 0) + match[0].length;
  }
  if (seen.size !== untrusted.length) throw new J1Error("bad-template", "the chat template dropped part of the judge prompt (a message's content is missing from its render)");
  segments.push({ text: rendered.slice(last), trusted: true });
  return joinSegments(segments);
}

/** What the template's generation prompt does with the thinking (for the prompt format's notes). */
export function generationThinking(chat: JinjaChatTemplate, reasoning: ReasoningFormat, options: JinjaRenderOptions = {}): GenerationThinking {
  const template = parseTemplate(chat);
  const variables = baseVariables(chat);
  const render = (generation: boolean) => renderMessages(template, { ...variables, add_generation_prompt: generation }, "j1 system probe", "j1 user probe", options.foldSystem ?? false);
  let without: string | undefined;
  try {
    without = render(false);
  } catch {
    without = undefined;
  }
  return withThinkingOpen(render(true), without, reasoning).thinking;
}

/**
 * Whether the template writes a default system prompt that teaches its thinking format (it names the
 * format's delimiters) when no system message is given, and drops it when one is: then j1 folds its
 * instructions into the user turn, so the family's own teaching is kept rather than silently replaced.
 */
export function defaultSystemTeachesThinking(chat: JinjaChatTemplate, reasoning: ReasoningFormat): boolean {
  const template = parseTemplate(chat);
  const variables = { ...baseVariables(chat), add_generation_prompt: false };
  const marks = [reasoning.thinkStart.trim(), reasoning.thinkEnd.trim()].filter((mark) => mark.length > 0);
  const before = (text: string) => text.slice(0, Math.max(0, text.indexOf("j1 user probe")));
  try {
    const alone = before(template.render({ ...variables, messages: [{ role: "user", content: "j1 user probe" }] }));
    if (!marks.some((mark) => alone.includes(mark))) return false;
    const withSystem = before(template.render({ ...variables, messages: [{ role: "system", content: "j1 system probe" }, { role: "user", content: "j1 user probe" }] }));
    return !marks.every((mark) => withSystem.split(mark).length >= alone.split(mark).length);
  } catch {
    return false;
  }
}

/**
 * What to add so the prompt ends inside the thinking: nothing when the generation prompt already opens it
 * (DeepSeek-R1's templates end with "<think>\n"), its rest when it opens it partly.
 */
function thinkingPrefill(rendered: string, thinkStart: string): string {
  for (let length = thinkStart.length; length > 0; length--) {
    if (rendered.endsWith(thinkStart.slice(0, length))) return thinkStart.slice(length);
  }
  return thinkStart;
}
