/**
 * A trace is the judge's whole text as a list of spans, each tagged with where it came from. Provenance is
 * what makes verdicts trustworthy: the verdict is read only from the answer region (spans after the last
 * end of thinking that the model generated or j1 injected), never from prompt text, so a judged response
 * that contains `</think>` or `[[A]]` cannot become a verdict.
 */
export type SpanSource = "prompt" | "generated" | "injected";

export interface TraceSpan {
  source: SpanSource;
  text: string;
  /** Tokens in this span as the engine counted them. */
  tokens: number;
  /** What the span is for, when it is not plain text: the wait text, the end of thinking, the answer prefix. */
  role?: "wait" | "think-end" | "answer-prefix" | "answer" | "thinking";
}

export class TraceBuilder {
  readonly spans: TraceSpan[] = [];

  add(span: TraceSpan): void {
    if (span.text.length === 0 && span.tokens === 0) return;
    this.spans.push(span);
  }

  /** A copy, so later additions (a sweep continuing after a read-out) do not change it. */
  snapshot(): TraceSpan[] {
    return this.spans.map((span) => ({ ...span }));
  }

  get length(): number {
    return this.spans.length;
  }

  truncate(length: number): void {
    this.spans.length = length;
  }
}

/**
 * Where thinking ended: the last end-of-thinking outside the prompt, scanning from the end. Either a span
 * (role "think-end", generated or injected), or a generated span that carries the delimiter inside its text
 * (an engine that could not stop on it): then `offset` is where the delimiter starts in that span's text.
 * Undefined when thinking never ended. The answer region and the thinking (for training data) both split
 * the trace here, so they can never disagree about it.
 */
export function thinkingEnd(spans: readonly TraceSpan[], thinkEnd: string): { index: number; offset?: number } | undefined {
  for (let index = spans.length - 1; index >= 0; index--) {
    const span = spans[index];
    if (span.source !== "prompt" && span.role === "think-end") return { index };
    if (span.source === "generated" && span.text.includes(thinkEnd)) return { index, offset: span.text.lastIndexOf(thinkEnd) };
  }
  return undefined;
}

/**
 * The answer region: the text after the last end of thinking that is not part of the prompt. Returns
 * undefined when thinking never ended (then no verdict can be read at all).
 */
export function answerRegion(spans: readonly TraceSpan[], thinkEnd: string): { text: string; spans: TraceSpan[] } | undefined {
  const end = thinkingEnd(spans, thinkEnd);
  if (end === undefined) return undefined;
  const rest = spans.slice(end.index + 1);
  const region = end.offset === undefined ? rest : [{ ...spans[end.index], text: spans[end.index].text.slice(end.offset + thinkEnd.length) }, ...rest];
  return { text: region.map((span) => span.text).join(""), spans: region };
}

export function traceText(spans: readonly TraceSpan[], sources?: readonly SpanSource[]): string {
  return spans
    .filter((span) => sources === undefined || sources.includes(span.source))
    .map((span) => span.text)
    .join("");
}
