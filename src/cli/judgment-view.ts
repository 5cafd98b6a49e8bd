import type { Judgment } from "../core/judgment.js";
import type { StopReason, VerdictProbe } from "../core/scaling/policy.js";
import type { ThinkingEvent } from "../judge/thinking-run.js";

/**
 * The human view of a judgment: thinking streams as it comes, the parts j1 injected are marked (⟦Wait⟧,
 * ⟦</think>⟧), then the verdict and what it cost.
 */
const color = (code: string, enabled: boolean) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);

export function streamPrinter(out: NodeJS.WriteStream = process.stdout): (event: ThinkingEvent) => void {
  const useColor = Boolean(out.isTTY) && !process.env.NO_COLOR;
  const dim = color("2", useColor);
  const marked = color("1;33", useColor);
  return (event) => {
    if (event.type === "thinking") out.write(dim(event.text));
    else if (event.type === "injected") out.write(marked(`⟦${event.text}⟧`));
    else if (event.type === "probe") out.write(marked(`⟦probe: ${probeText(event.probe)}⟧`));
    else out.write(event.text);
  };
}

export function formatJudgmentSummary(judgment: Judgment, options: { useColor?: boolean } = {}): string {
  const bold = color("1", options.useColor ?? false);
  const usage = judgment.usage;
  const lines: string[] = [];
  const outcome = judgment.kind === "pointwise" ? `score ${judgment.score ?? "none"}` : `verdict ${judgment.verdict ?? "none"}`;
  const status = judgment.status === "ok" ? "" : ` (${judgment.status}${judgment.error ? `: ${judgment.error}` : ""})`;
  const note = judgment.runs.find((run) => run.confidenceNote !== undefined)?.confidenceNote;
  const confidence = judgment.confidence !== undefined ? `, confidence ${judgment.confidence.toFixed(3)}` : note !== undefined ? `, no confidence: ${note}` : "";
  lines.push(bold(`${outcome}${status}${confidence}`));
  lines.push(`waits used ${judgment.waitsUsed}, thinking ended: ${endText(judgment)}, ${(judgment.wallMs / 1000).toFixed(2)} s`);
  lines.push(
    `tokens: prompt ${usage.promptTokens}, thinking ${usage.thinkingTokens}, injected ${usage.injectedTokens}, answer ${usage.answerTokens}; evaluated ${usage.evaluatedTokens}, cached ${usage.cachedTokens}`,
  );
  if (judgment.probes && judgment.probes.length > 0) {
    lines.push(`trajectory (verdict read at each attempted end, as the model saw it): ${judgment.probes.map((probe) => `${probe.waits}w ${probeText(probe)}`).join(" → ")}; probe tokens ${usage.probeTokens ?? 0}`);
  }
  if (judgment.samples) lines.push(`samples: ${judgment.samples.used} of ${judgment.samples.planned} drawn (early stop: ${judgment.samples.stop})`);
  if (judgment.votes) lines.push(`votes: A ${judgment.votes.A}, B ${judgment.votes.B}, tie ${judgment.votes.tie}, invalid ${judgment.votes.invalid}`);
  if (judgment.runs.length > 1) {
    for (const run of judgment.runs) {
      lines.push(`  ${run.order} sample ${run.sample}: ${run.verdict ?? run.status} (raw ${run.rawVerdict ?? "-"}), waits ${run.waitsUsed}${run.forcedEnd ? ", forced end" : ""}`);
    }
  }
  return lines.join("\n");
}

/** A probe in a few characters: the verdict read and its probability. */
export function probeText(probe: VerdictProbe): string {
  const p = probe.confidence === undefined ? "" : ` ${probe.confidence.toFixed(2)}`;
  return `${probe.verdict ?? "none"}${p}`;
}

const END_TEXT: Record<StopReason, string> = {
  model: "by the model",
  "waits-used": "by the model, after every wait",
  cap: "forced at the thinking cap",
  context: "forced: the context is full",
  confident: "confident enough (the stopping rule)",
  stable: "the verdict stopped changing (the stopping rule)",
};

function endText(judgment: Judgment): string {
  if (judgment.thinkingEnd) return END_TEXT[judgment.thinkingEnd];
  return judgment.forcedEnd ? "forced (cap)" : "by the model";
}
