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
 * The answer region: the text after the last end-of-thinking span that is not part of the prompt. Returns
 * undefined when thinking never ended (then no verdict can be read at all).
 */
export function answerRegion(spans: readonly TraceSpan[], thinkEnd: string): { text: string; spans: TraceSpan[] } | undefined {
  let lastEnd = -1;
  for (let index = spans.length - 1; index >= 0; index--) {
    const span = spans[index];
    if (span.source !== "prompt" && span.role === "think-end") {
      lastEnd = index;
      break;
    }
    // A generated span may carry the delimiter inside its text (an engine that could not stop on it).
    if (span.source === "generated" && span.text.includes(thinkEnd)) {
      const after = span.text.slice(span.text.lastIndexOf(thinkEnd) + thinkEnd.length);
      const rest = spans.slice(index + 1);
      return { text: after + rest.map((s) => s.text).join(""), spans: [{ ...span, text: after }, ...rest] };
    }
  }
  if (lastEnd < 0) return undefined;
  const rest = spans.slice(lastEnd + 1);
  return { text: rest.map((s) => s.text).join(""), spans: rest };
}

export function traceText(spans: readonly TraceSpan[], sources?: readonly SpanSource[]): string {
  return spans
    .filter((span) => sources === undefined || sources.includes(span.source))
    .map((span) => span.text)
    .join("");
}
