/**
 * Finding the judge's own output inside what a trainer sends. OpenRLHF's remote reward client sends
 * `query` = the prompt and response token ids decoded together *with* special tokens, and `prompts` = the
 * prompt text from the dataset. Usually the prompt is an exact prefix of the query; it is not when the
 * tokenizer's round trip changes the text or the trainer cut the prompt from the left to fit its length.
 */

/** Where an assistant turn begins, per chat format (longest first, so the full form wins). */
const ASSISTANT_MARKERS = [
  "<|start_header_id|>assistant<|end_header_id|>\n\n", // Llama 3
  "<|start_header_id|>assistant<|end_header_id|>",
  "<|im_start|>assistant\n", // ChatML (Qwen, j1's default)
  "<|im_start|>assistant",
  "<start_of_turn>model\n", // Gemma
  "<｜Assistant｜>", // DeepSeek R1 / V3
  "<|assistant|>\n", // Phi-3, Zephyr
  "<|assistant|>",
  "[/INST]", // Llama 2, Mistral
];

/** Tokens that end a turn or a sequence; a decoded response often ends with one or more of them. */
const END_TOKENS = [
  "<|im_end|>",
  "<|eot_id|>",
  "<|end_of_text|>",
  "<|endoftext|>",
  "</s>",
  "<end_of_turn>",
  "<eos>",
  "<｜end▁of▁sentence｜>",
  "<|end|>",
  "<|eom_id|>",
  "<pad>",
  "<|pad|>",
];

export type ResponseSource = "prompt-prefix" | "prompt-marker" | "last-marker" | "whole-query";

export interface ExtractedResponse {
  response: string;
  /** How the response was found (for logs: anything but "prompt-prefix" deserves a look once). */
  source: ResponseSource;
}

const markerPattern = new RegExp(ASSISTANT_MARKERS.map(escapeRegExp).join("|"), "g");

/**
 * The response part of `query`:
 * 1. `prompt` is a prefix of `query`: the rest (the common case).
 * 2. Otherwise, if the prompt holds k assistant markers and the query at least k: the text after the
 *    query's k-th marker. Counting keeps a marker written inside a judged response, which appears in both
 *    texts, from moving the cut, and a marker in the response itself (after the k-th) from moving it too.
 * 3. Otherwise (the prompt was cut from the left, or not sent): after the query's last marker.
 * 4. No marker at all: the whole query (a client that sends the response alone).
 * Then end-of-turn tokens at the end are stripped. Only trailing ones: a real end token stops generation,
 * so one in the middle was written as text, and what follows it is still the judge's output.
 */
export function extractResponse(query: string, prompt: string | undefined): ExtractedResponse {
  const found = locateResponse(query, prompt);
  return { response: stripEndTokens(found.response), source: found.source };
}

function locateResponse(query: string, prompt: string | undefined): ExtractedResponse {
  if (prompt !== undefined && prompt.length > 0 && hasPrefix(query, prompt)) {
    return { response: query.slice(prompt.length), source: "prompt-prefix" };
  }
  const queryMarkerEnds = markerEnds(query);
  if (prompt !== undefined && prompt.length > 0) {
    const promptMarkers = markerEnds(prompt).length;
    if (promptMarkers > 0 && queryMarkerEnds.length >= promptMarkers) {
      return { response: query.slice(queryMarkerEnds[promptMarkers - 1]), source: "prompt-marker" };
    }
  }
  if (queryMarkerEnds.length > 0) return { response: query.slice(queryMarkerEnds[queryMarkerEnds.length - 1]), source: "last-marker" };
  return { response: query, source: "whole-query" };
}

/** `text.startsWith(prefix)`, but V8 compares a sliced string for equality dozens of times faster than startsWith walks a long prefix. */
function hasPrefix(text: string, prefix: string): boolean {
  return text.length >= prefix.length && text.slice(0, prefix.length) === prefix;
}

function markerEnds(text: string): number[] {
  const ends: number[] = [];
  for (const match of text.matchAll(markerPattern)) ends.push((match.index ?? 0) + match[0].length);
  return ends;
}

export function stripEndTokens(text: string): string {
  let end = text.length;
  for (;;) {
    while (end > 0 && /\s/.test(text[end - 1])) end--;
    const token = END_TOKENS.find((candidate) => text.startsWith(candidate, end - candidate.length) && end >= candidate.length);
    if (!token) break;
    end -= token.length;
  }
  return text.slice(0, end);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
