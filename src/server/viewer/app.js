// The viewer's shell: a hash router (so every view has a link and the server serves one page), the token
// box, and the report's stylesheet reused from the compiled report modules.
import { h, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { REPORT_CSS } from "/viewer/eval/report/html-style.js";
import { token } from "/viewer/api.js";
import { ComparePage, RunPage, RunsPage } from "/viewer/pages.js";
import { ItemPage } from "/viewer/trace.js";
import { JudgePage } from "/viewer/judge-form.js";

const html = htm.bind(h);

document.head.append(Object.assign(document.createElement("style"), { textContent: REPORT_CSS }));

/** "#/run/abc?filter=wrong" -> { parts: ["run", "abc"], query: URLSearchParams }. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

function TokenBox({ onChange }) {
  const [value, setValue] = useState(token.get());
  const save = (event) => {
    event.preventDefault();
    token.set(value.trim());
    onChange();
  };
  return html`<form class="token" onSubmit=${save}>
    <label>Token <input type="password" name="token" autocomplete="off" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} placeholder="j1 serve --token" /></label>
    <button type="submit">Use</button>
  </form>`;
}

function App() {
  const [route, setRoute] = useState(parseHash());
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const [first, second, third, fourth] = route.parts;
  const key = `${location.hash}|${epoch}`;
  let page;
  if (first === "run" && second && third === "item" && fourth) page = html`<${ItemPage} key=${key} runId=${second} itemId=${fourth} query=${route.query} />`;
  else if (first === "run" && second) page = html`<${RunPage} key=${key} runId=${second} query=${route.query} />`;
  else if (first === "compare" && second && third) page = html`<${ComparePage} key=${key} a=${second} b=${third} query=${route.query} />`;
  else if (first === "judge") page = html`<${JudgePage} key=${epoch} />`;
  else page = html`<${RunsPage} key=${key} />`;
  return html`<header class="top"><a class="brand" href="#/">j1</a><nav><a href="#/">Runs</a><a href="#/judge">Judge a pair</a></nav><${TokenBox} onChange=${() => setEpoch(epoch + 1)} /></header>
    <main>${page}</main>`;
}

const root = document.getElementById("app");
// Preact renders beside what is there, so the "Loading…" placeholder goes first.
root.textContent = "";
render(html`<${App} />`, root);
