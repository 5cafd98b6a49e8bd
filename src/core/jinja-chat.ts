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

export function renderJinjaChat(prompt: ChatPrompt, chat: JinjaChatTemplate, reasoning: ReasoningFormat): PromptSegment[] {
  let template: Template;
  try {
    template = new Template(chat.template);
  } catch (error) {
    throw new J1Error("bad-template", `the chat template does not parse: ${errorMessage(error)}`);
  }
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
  const variables = { add_generation_prompt: true, enable_thinking: true, bos_token: chat.bosToken ?? "", eos_token: chat.eosToken ?? "" };
  let rendered: string;
  try {
    rendered = template.render({ ...variables, messages: [{ role: "system", content: system }, { role: "user", content: user }] });
  } catch (first) {
    // Templates without a system role (Gemma's) raise on one: fold it into the user turn, as they expect.
    try {
      rendered = template.render({ ...variables, messages: [{ role: "user", content: `${system}\n\n${user}` }] });
    } catch {
      throw new J1Error("bad-template", `the chat template failed to render a system and a user message: ${errorMessage(first)}`);
    }
  }
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
  segments.push({ text: thinkingPrefill(rendered, reasoning.thinkStart), trusted: true });
  return joinSegments(segments);
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
