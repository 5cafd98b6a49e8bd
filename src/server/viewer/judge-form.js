// Judge one pair through POST /v1/judgments with the thinking streamed in as it is generated; injected
// parts (waits, a forced end, the answer prefix) are marked as they arrive, then the verdict.
import { h } from "preact";
import { useRef, useState } from "preact/hooks";
import htm from "htm";
import { streamJudgment } from "/viewer/api.js";
import { Problem } from "/viewer/pages.js";

const html = htm.bind(h);

export function JudgePage() {
  const [pieces, setPieces] = useState([]);
  const [judgment, setJudgment] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [busy, setBusy] = useState(false);
  // The order events arrived in, kept on the page (data-sequence) so what was shown first can be checked.
  const sequence = useRef([]);
  const controller = useRef(undefined);

  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { question: form.get("question"), a: form.get("a"), b: form.get("b"), waits: Number(form.get("waits") || 0), swap: form.get("swap") === "on" };
    const maxThinking = Number(form.get("maxThinking") || 0);
    if (maxThinking > 0) body.maxThinking = maxThinking;
    setPieces([]);
    setJudgment(undefined);
    setError(undefined);
    setBusy(true);
    sequence.current = [];
    controller.current = new AbortController();
    try {
      await streamJudgment(
        body,
        (name, data) => {
          sequence.current.push(name === "thinking" ? data.source : name);
          if (name === "thinking") setPieces((list) => [...list, data]);
          else if (name === "judgment") setJudgment(data);
          else if (name === "error") setError(new Error(data.error));
        },
        controller.current.signal,
      );
    } catch (caught) {
      if (caught.name !== "AbortError") setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return html`<h1>Judge a pair</h1>
    <form class="judge" onSubmit=${submit}>
      <label>Question <textarea name="question" required>2+2?</textarea></label>
      <label>Response A <textarea name="a" required>4</textarea></label>
      <label>Response B <textarea name="b" required>5</textarea></label>
      <div class="toolbar">
        <label>Waits <input type="number" name="waits" min="0" max="64" defaultValue="1" /></label>
        <label>Max thinking <input type="number" name="maxThinking" min="0" placeholder="default" /></label>
        <label><input type="checkbox" name="swap" /> both orders</label>
        <button type="submit" id="judge" disabled=${busy}>Judge</button>
        ${busy ? html`<button type="button" onClick=${() => controller.current?.abort()}>Stop</button>` : null}
      </div>
    </form>
    ${error ? html`<${Problem} error=${error} />` : null}
    <h3>Thinking</h3>
    <div class="passes-live" id="live" data-sequence=${sequence.current.join(",")}>${passesOf(pieces).map(
      (pass) => html`<div class="pass-live" data-order=${pass.order} data-sample=${pass.sample}>
        <h4>${passTitle(pass, pieces)}</h4>
        <div class="live trace">${pass.pieces.map((piece) =>
          piece.source === "generated" || piece.source === "answer"
            ? html`<span class=${piece.source === "answer" ? "answer" : "thinking"} data-order=${piece.order}>${piece.text}</span>`
            : html`<mark class=${`injected injected-${piece.source === "forced-end" ? "think-end" : piece.source}`} title=${`${piece.source}, injected by j1`}>⟦${piece.text.trim()}⟧</mark>`,
        )}</div>${passResult(judgment, pass)}</div>`,
    )}</div>
    ${judgment ? html`<p class="verdict-box" id="verdict">${verdictLine(judgment)}</p>` : null}`;
}

/** The streamed pieces grouped by pass (order × sample), in the order each pass first spoke. */
function passesOf(pieces) {
  const passes = new Map();
  for (const piece of pieces) {
    const key = `${piece.order ?? "AB"}#${piece.sample ?? 0}`;
    if (!passes.has(key)) passes.set(key, { order: piece.order ?? "AB", sample: piece.sample ?? 0, pieces: [] });
    passes.get(key).pieces.push(piece);
  }
  return [...passes.values()];
}

/** Once judged: what a pass wrote in its own labels and what that is in the pair's. */
function passResult(judgment, pass) {
  const run = judgment?.runs?.find((candidate) => candidate.order === pass.order && candidate.sample === pass.sample);
  if (!run) return null;
  return html`<p class="muted pass-result">It wrote ${run.rawVerdict === null ? "no verdict" : `[[${run.rawVerdict}]]`}, which is <b>${run.verdict ?? "no verdict"}</b> in your labels.</p>`;
}

function passTitle(pass, pieces) {
  const samples = new Set(pieces.map((piece) => piece.sample ?? 0)).size;
  const which = pass.order === "BA" ? "BA: shown swapped (the model's Response A is your B)" : "AB: shown as you wrote it";
  return samples > 1 ? `${which}, sample ${pass.sample + 1}` : which;
}

/**
 * The result in the pair's own labels, pass by pass: "verdict none · inconsistent: AB gave A, BA gave B ·
 * 28 thinking tokens · 4 waits injected (2 per pass)".
 */
export function verdictLine(judgment) {
  const runs = judgment.runs ?? [];
  const gave = runs.length > 1 ? `: ${runs.map((run) => `${run.order}${runs.some((other) => other.sample > 0) ? `#${run.sample + 1}` : ""} gave ${run.verdict ?? "no verdict"}`).join(", ")}` : "";
  const injected = runs.reduce((sum, run) => sum + run.trace.filter((span) => span.source === "injected" && span.role === "wait").length, 0);
  const perPass = runs.length > 1 ? ` (${runs.map((run) => run.waitsUsed).join(" + ")} by pass)` : "";
  const confidence = judgment.confidence === undefined ? "" : ` · confidence ${judgment.confidence.toFixed(3)}`;
  return `Verdict ${judgment.verdict ?? "none"} · ${judgment.status}${gave}${confidence} · ${judgment.usage.thinkingTokens} thinking tokens · ${injected} wait${injected === 1 ? "" : "s"} injected${perPass}`;
}
