export const HUMAN_TURN = "\n\nHuman:";
export const ASSISTANT_TURN = "\n\nAssistant:";

/** An HH-RLHF pair split into the shared conversation and the two final assistant turns. */
export interface SplitTranscript {
  /** Earlier turns, as in the transcript ("Human: ...\n\nAssistant: ..."), without the leading blank line. */
  context?: string;
  /** The last human turn of the shared prefix. */
  question: string;
  chosen: string;
  rejected: string;
}

function commonPrefixLength(first: string, second: string): number {
  const limit = Math.min(first.length, second.length);
  let index = 0;
  while (index < limit && first.charCodeAt(index) === second.charCodeAt(index)) index++;
  return index;
}

/** The text after a turn marker, without the single space the transcripts put after "Human:"/"Assistant:". */
function afterMarker(text: string): string {
  return text.startsWith(" ") ? text.slice(1) : text;
}

/**
 * Splits a chosen/rejected transcript pair at the last "\n\nAssistant:" the two share. Not simply the last
 * one of each: in a few rows the final assistant turn itself contains "\n\nAssistant:" (the model
 * role-played both sides), and splitting there would give the two responses different prompts. The
 * shared prefix's last human turn is the question; the turns before it are context. Returns a reason
 * string when the pair cannot be split.
 */
export function splitTranscripts(chosen: string, rejected: string): SplitTranscript | { problem: string; field: string } {
  const shared = commonPrefixLength(chosen, rejected);
  const split = chosen.lastIndexOf(ASSISTANT_TURN, shared - ASSISTANT_TURN.length);
  if (split < 0 || shared < ASSISTANT_TURN.length) {
    const field = chosen.includes(ASSISTANT_TURN) ? "rejected" : "chosen";
    return { problem: `the chosen and rejected transcripts share no "\\n\\nAssistant:" turn`, field };
  }
  const prompt = chosen.slice(0, split);
  const humanAt = prompt.lastIndexOf(HUMAN_TURN);
  if (humanAt < 0) return { problem: `no "\\n\\nHuman:" turn before the final assistant turn`, field: "chosen" };
  const earlier = prompt.slice(0, humanAt).replace(/^\n\n/, "");
  return {
    context: earlier.length > 0 ? earlier : undefined,
    question: afterMarker(prompt.slice(humanAt + HUMAN_TURN.length)),
    chosen: afterMarker(chosen.slice(split + ASSISTANT_TURN.length)),
    rejected: afterMarker(rejected.slice(split + ASSISTANT_TURN.length)),
  };
}

/** The transcript a split came from (for checks): context, question and one response put back together. */
export function joinTranscript(split: Pick<SplitTranscript, "context" | "question">, response: string): string {
  const context = split.context === undefined ? "" : `\n\n${split.context}`;
  return `${context}${HUMAN_TURN} ${split.question}${ASSISTANT_TURN} ${response}`;
}
