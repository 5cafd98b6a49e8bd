// One item's judgment: each pass's trace with its provenance (the report's traceHtml: injected waits and
// forced ends marked ⟦…⟧), and the verdict both as the model wrote it, in the order it saw the pair, and
// in the item's own order, so "label A, verdict B" beside a trace ending in [[A]] says why.
import { h } from "preact";
import htm from "htm";
import { traceHtml } from "/viewer/eval/report/trace-html.js";
import { svgTrajectory, trajectoryText } from "/viewer/eval/report/svg-trajectory.js";
import { Problem, useJson } from "/viewer/pages.js";

const html = htm.bind(h);

/** What the model saw and what its written verdict means in the item's labelling. */
export function orderNote(run, kind) {
  const written = run.rawVerdict ?? "no verdict";
  const mapped = run.verdict ?? "no verdict";
  if (kind !== "pairwise") return { swapped: false, text: `The model wrote [[${written}]]; in the item's labels: ${mapped}.` };
  if (run.order === "BA") {
    return {
      swapped: true,
      text: `Shown swapped: the model saw the item's B as "Response A" and the item's A as "Response B". It wrote [[${written}]] in the order it saw, which is ${mapped} in the item's order.`,
    };
  }
  return { swapped: false, text: `Shown in the item's order ("Response A" is the item's A). It wrote [[${written}]], which is ${mapped} in the item's order too.` };
}

/**
 * A pass's verdict trajectory (the verdict read at each probe) in the item's labels, as the report draws
 * it: probes are written in the order the model saw, so a swapped pair's letters flip back.
 */
export function passTrajectory(run, item, kind) {
  if (!run.probes || run.probes.length === 0) return undefined;
  const flip = (letter) => (letter === "A" ? "B" : letter === "B" ? "A" : letter);
  const swapped = kind === "pairwise" && run.order === "BA";
  const label = item.label ?? "";
  const shownLabel = swapped ? flip(label) : label;
  return {
    itemId: item.id,
    label,
    points: run.probes.map((probe) => ({ waits: probe.waits, verdict: probe.verdict === null ? null : swapped ? flip(probe.verdict) : probe.verdict, pLabel: probe.probabilities?.[shownLabel] })),
    moved: false,
  };
}

/** What was judged, in the item's own order: the question, the context, and the responses. */
function ItemText({ text, unavailable, kind }) {
  if (!text) return html`<p class="muted" id="item-text-unavailable">The item's text: ${unavailable ?? "not available"}.</p>`;
  const block = (title, body, id) => html`<div class="item-field" id=${id}><h4>${title}</h4><div class="item-text">${body}</div></div>`;
  return html`<section class="card item-text-card" id="item-text"><h2>What was judged</h2>
    ${block("Question", text.question, "item-question")}
    ${text.context ? block("Context (earlier turns)", text.context, "item-context") : null}
    ${text.a !== undefined ? html`<div class="responses">${block("Response A (the item's A)", text.a, "item-a")}${block("Response B (the item's B)", text.b, "item-b")}</div>` : null}
    ${text.response !== undefined ? block("Response", text.response, "item-response") : null}
    ${text.responses ? html`<div class="responses">${text.responses.map((response, index) => block(`Response ${String.fromCharCode(65 + index)}`, response, `item-response-${index}`))}</div>` : null}
    ${kind === "pairwise" ? html`<p class="muted">Labels and verdicts below are in this order; a pass shown swapped says so.</p>` : null}
  </section>`;
}

export function ItemPage({ runId, itemId, query }) {
  const point = query.get("point");
  const [data, error] = useJson(`/v1/runs/${encodeURIComponent(runId)}/items/${encodeURIComponent(itemId)}${point ? `?point=${encodeURIComponent(point)}` : ""}`);
  if (error) return html`<${Problem} error=${error} />`;
  if (!data) return html`<p class="muted">Loading the trace…</p>`;
  const { item, judgment } = data;
  const injected = judgment.runs.reduce((sum, run) => sum + run.trace.filter((span) => span.source === "injected" && span.role === "wait").length, 0);
  return html`<p><a href=${`#/run/${encodeURIComponent(runId)}`}>← run ${runId}</a></p>
    <h1>Item <span class="mono">${item.id}</span></h1>
    <table class="scores item-summary"><tbody>
      <tr><td>Category</td><td>${item.category ?? "—"}</td></tr>
      <tr><td>Label (item's order)</td><td id="label">${item.label ?? "—"}</td></tr>
      <tr><td>Verdict (item's order)</td><td id="verdict">${judgment.verdict ?? "—"}</td></tr>
      <tr><td>Status</td><td>${judgment.status}${judgment.error ? ` (${judgment.error})` : ""}</td></tr>
      <tr><td>Confidence</td><td>${judgment.confidence === undefined ? "—" : judgment.confidence.toFixed(3)}</td></tr>
      <tr><td>Point</td><td>${data.point}</td></tr>
      <tr><td>Thinking / injected / evaluated tokens</td><td>${judgment.usage.thinkingTokens} / ${judgment.usage.injectedTokens} / ${judgment.usage.evaluatedTokens}</td></tr>
      <tr><td>Waits injected (all passes)</td><td id="waits">${injected}</td></tr>
    </tbody></table>
    <${ItemText} text=${data.text} unavailable=${data.textUnavailable} kind=${judgment.kind} />
    <p class="legend-key">In traces: prompt folded, model thinking as plain text, <mark class="injected">⟦Wait⟧</mark> = injected by j1, <span class="answer">answer</span> = where the verdict was read.</p>
    ${judgment.runs.map((run, index) => {
      const note = orderNote(run, judgment.kind);
      return html`<section class="card pass" data-order=${run.order}>
        <h3>Pass ${index + 1}: order ${run.order}, sample ${run.sample}${run.forcedEnd ? " · end of thinking forced" : ""} · ${run.waitsUsed} wait${run.waitsUsed === 1 ? "" : "s"}</h3>
        <p class=${note.swapped ? "order-note swapped" : "order-note"}>${note.text}</p>
        <p>Verdict as the model saw it: <b class="raw-verdict">[[${run.rawVerdict ?? "—"}]]</b> · in the item's order: <b class="item-verdict">${run.verdict ?? "—"}</b>${run.confidence === undefined ? "" : ` · confidence ${run.confidence.toFixed(3)}`}</p>
        ${(() => {
          const trajectory = passTrajectory(run, item, judgment.kind);
          if (!trajectory) return null;
          return html`<div class="trajectory-row"><span class="muted">Verdict at each attempted end (P(label ${trajectory.label})), ${run.probes.length} probe${run.probes.length === 1 ? "" : "s"}${run.thinkingEnd ? `, thinking ended: ${run.thinkingEnd}` : ""}:</span>
            <span dangerouslySetInnerHTML=${{ __html: svgTrajectory(trajectory) }} /> <span class="mono trajectory-text">${trajectoryText(trajectory)}</span></div>`;
        })()}
        <div dangerouslySetInnerHTML=${{ __html: traceHtml(run.trace) }} />
      </section>`;
    })}`;
}
