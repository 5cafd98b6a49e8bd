import { renderChat, segmentsText, type ChatFormatName } from "../core/chat-format.js";
import type { Order } from "../core/judgment.js";
import { renderPairwise, type JudgeTemplate } from "../core/template.js";
import type { PreferencePair } from "./rl-pairs.js";

/**
 * RL examples for the judge: every preference pair in both orders (A/B as given, then B/A with the
 * responses swapped and the label flipped). Both orders do two jobs: the data is balanced by construction
 * (each pair gives one "A" and one "B" label, so a judge cannot profit from a position bias), and the two
 * orders of a pair can be checked against each other (the reward's consistency term).
 */
export interface RlExample {
  /** Position in the exported data, from 0. */
  index: number;
  /** `${pairId}:${order}`, unique. */
  id: string;
  pairId: string;
  order: Order;
  /** The right verdict in this order's labelling. */
  label: "A" | "B";
  category?: string;
  /** The judge's conversation: system and user turns (what verl's chat template will render). */
  messages: Array<{ role: "system" | "user"; content: string }>;
  /** The whole prompt rendered with a chat format, ending inside the assistant turn after `<think>` (what OpenRLHF reads). */
  promptText: string;
  /** A judged response holds text that looks like a special token (`<|im_end|>`, `</s>`, …). */
  specialTokenText: boolean;
}

export interface RlBuildOptions {
  template: JudgeTemplate;
  chatFormat: ChatFormatName;
  /** Stop after this many pairs (so 2 × limit examples). */
  limit?: number;
}

export interface RlSummary {
  pairs: number;
  examples: number;
  labels: { A: number; B: number };
  /** Examples whose judged text looks like special tokens: a trainer that tokenizes the prompt text with special tokens on will read them as real ones. */
  specialTokenText: number;
}

const SPECIAL_TOKEN_LOOKALIKE = /<\|[^|<>\s]{1,40}\|>|<\/?s>|<(?:start|end)_of_turn>|<｜[^｜]{1,40}｜>/;

export async function buildRlExamples(pairs: AsyncIterable<PreferencePair> | Iterable<PreferencePair>, options: RlBuildOptions): Promise<{ examples: RlExample[]; summary: RlSummary }> {
  const examples: RlExample[] = [];
  let pairCount = 0;
  for await (const pair of pairs) {
    if (options.limit !== undefined && pairCount >= options.limit) break;
    pairCount++;
    for (const order of ["AB", "BA"] as const) examples.push(renderExample(pair, order, examples.length, options));
  }
  const labels = { A: 0, B: 0 };
  for (const example of examples) labels[example.label]++;
  // Balance holds by construction; checked anyway, since trainers rely on it silently.
  if (labels.A !== labels.B) throw new Error(`internal: unbalanced RL labels (A ${labels.A}, B ${labels.B})`);
  return {
    examples,
    summary: { pairs: pairCount, examples: examples.length, labels, specialTokenText: examples.filter((example) => example.specialTokenText).length },
  };
}

function renderExample(pair: PreferencePair, order: Order, index: number, options: RlBuildOptions): RlExample {
  const swapped = order === "BA";
  const prompt = renderPairwise(options.template, {
    question: pair.question,
    context: pair.context,
    a: swapped ? pair.b : pair.a,
    b: swapped ? pair.a : pair.b,
  });
  const label = swapped ? (pair.label === "A" ? "B" : "A") : pair.label;
  const untrusted = [...prompt.system, ...prompt.user].filter((segment) => !segment.trusted);
  return {
    index,
    id: `${pair.id}:${order}`,
    pairId: pair.id,
    order,
    label,
    category: pair.category,
    messages: [
      { role: "system", content: segmentsText(prompt.system) },
      { role: "user", content: segmentsText(prompt.user) },
    ],
    promptText: segmentsText(renderChat(prompt, options.chatFormat)),
    specialTokenText: untrusted.some((segment) => SPECIAL_TOKEN_LOOKALIKE.test(segment.text)),
  };
}
