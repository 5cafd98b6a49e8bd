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
    <div class="live trace" id="live" data-sequence=${sequence.current.join(",")}>${pieces.map((piece) =>
      piece.source === "generated" || piece.source === "answer"
        ? html`<span class=${piece.source === "answer" ? "answer" : "thinking"} data-order=${piece.order}>${piece.text}</span>`
        : html`<mark class=${`injected injected-${piece.source === "forced-end" ? "think-end" : piece.source}`} title=${`${piece.source}, injected by j1`}>⟦${piece.text.trim()}⟧</mark>`,
    )}</div>
    ${judgment
      ? html`<p class="verdict-box" id="verdict">Verdict <b>${judgment.verdict ?? "none"}</b> · ${judgment.status}${judgment.confidence === undefined ? "" : ` · confidence ${judgment.confidence.toFixed(3)}`} · ${judgment.usage.thinkingTokens} thinking tokens, ${judgment.waitsUsed} waits</p>`
      : null}`;
}
