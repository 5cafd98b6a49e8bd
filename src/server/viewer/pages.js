// The runs list (with the paper's table), a run page (the report's own benchmark sections: scaling
// curves, categories, uniform metrics; then the item browser) and two runs compared on the same items.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { benchmarkEntries, scoreTable, worstItems } from "/viewer/eval/report/summary.js";
import { benchmarkSection, worstItemHtml } from "/viewer/eval/report/html-benchmark.js";
import { points } from "/viewer/eval/report/format.js";
import { downloadExport, getJson } from "/viewer/api.js";

const html = htm.bind(h);
const PAGE = 50;
/** Reports fetched for the paper's table on the runs list; beyond them the table says how many are left out. */
const TABLE_RUNS = 12;

/** Fetches `path` (re-fetched when it changes): [data, error]. */
export function useJson(path) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    setState({ data: undefined, error: undefined });
    getJson(path, controller.signal).then(
      (data) => setState({ data, error: undefined }),
      (error) => controller.signal.aborted || setState({ data: undefined, error }),
    );
    return () => controller.abort();
  }, [path]);
  return [state.data, state.error];
}

export function Problem({ error }) {
  const hint = error.status === 401 ? " Enter the token j1 serve was started with (top right)." : "";
  return html`<p class="error" role="alert">${error.message}${hint}</p>`;
}

const enc = encodeURIComponent;
const hashOf = (parts, query = {}) => {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined && value !== "" && value !== null)).toString();
  return `#/${parts.map(enc).join("/")}${search ? `?${search}` : ""}`;
};

export function RunsPage() {
  const [runs, error] = useJson("/v1/runs");
  const [reports, setReports] = useState(undefined);
  const [picked, setPicked] = useState([]);
  useEffect(() => {
    if (!runs) return;
    const scored = runs.filter((run) => run.kind === "eval" && run.itemsJudged > 0).slice(0, TABLE_RUNS);
    Promise.all(scored.map((run) => getJson(`/v1/runs/${enc(run.id)}/report`).catch(() => undefined))).then((all) => setReports(all.filter(Boolean)));
  }, [runs]);
  if (error) return html`<${Problem} error=${error} />`;
  if (!runs) return html`<p class="muted">Loading runs…</p>`;
  const toggle = (id) => setPicked(picked.includes(id) ? picked.filter((other) => other !== id) : [...picked, id].slice(-2));
  return html`<h1>Runs</h1>
    <p class="subtitle">${runs.length} run${runs.length === 1 ? "" : "s"} in the store</p>
    ${reports ? html`<${PaperTable} reports=${reports} more=${Math.max(0, runs.filter((run) => run.kind === "eval").length - TABLE_RUNS)} />` : html`<p class="muted">Loading the scores…</p>`}
    <div class="toolbar">
      <a class=${picked.length === 2 ? "button" : "button disabled"} id="compare-picked" href=${picked.length === 2 ? hashOf(["compare", picked[0], picked[1]]) : undefined}>Compare the two ticked runs</a>
    </div>
    <table class="items runs"><thead><tr><th></th><th>Run</th><th>Label</th><th>Benchmark</th><th>Status</th><th>Items</th><th>Judgments</th><th>Created</th></tr></thead>
    <tbody>${runs.map(
      (run) => html`<tr data-run=${run.id}>
        <td><input type="checkbox" aria-label=${`pick ${run.id}`} checked=${picked.includes(run.id)} onChange=${() => toggle(run.id)} /></td>
        <td class="mono"><a href=${hashOf(["run", run.id])}>${run.id}</a></td><td>${run.label}</td><td>${run.benchmark}</td><td>${run.status}</td>
        <td>${run.items ?? "—"}</td><td>${run.judgments}</td><td>${run.createdAt.replace("T", " ").slice(0, 19)}</td></tr>`,
    )}</tbody></table>`;
}

/** The J1 paper's table (rows runs, columns benchmarks, then Overall), from the report's own scoreTable. */
function PaperTable({ reports, more }) {
  if (reports.length === 0) return html`<p class="muted">No scored runs yet.</p>`;
  const table = scoreTable(reports);
  return html`<table class="scores paper"><thead><tr><th>Run</th>${table.benchmarks.map((name) => html`<th>${name}</th>`)}${table.showOverall ? html`<th class="overall">Overall</th>` : null}</tr></thead>
    <tbody>${table.rows.map(
      (row) => html`<tr><td><a href=${hashOf(["run", row.runId])}>${row.label}</a>${table.rows.filter((other) => other.label === row.label).length > 1 ? html` <span class="mono muted">${row.runId}</span>` : null}</td>${row.scores.map((score) => html`<td>${points(score)}</td>`)}${table.showOverall ? html`<td class="overall">${points(row.overall)}</td>` : null}</tr>`,
    )}</tbody></table>${more > 0 ? html`<p class="muted">${more} older runs not in the table.</p>` : null}`;
}

export function RunPage({ runId, query }) {
  const [report, error] = useJson(`/v1/runs/${enc(runId)}/report`);
  const [runs] = useJson("/v1/runs");
  const [exportError, setExportError] = useState(undefined);
  const others = (runs ?? []).filter((run) => run.id !== runId && run.kind === (report?.kind ?? run.kind));
  return html`<h1>Run <span class="mono">${runId}</span></h1>
    ${error ? html`<${Problem} error=${error} />` : null}
    ${report ? html`<p class="subtitle" id="run-label">${report.label} · ${report.judgments?.total ?? 0} judgments${report.partial ? html` · <strong class="partial">partial: ${report.partial}</strong>` : null}${runInfo(runs, runId)}</p>` : null}
    <div class="toolbar">
      <button type="button" id="export" onClick=${() => downloadExport(runId).catch(setExportError)}>Export JSONL</button>
      ${others.length ? html`<label>Compare with <select id="compare-with" onChange=${(event) => event.currentTarget.value && (location.hash = hashOf(["compare", runId, event.currentTarget.value]))}>
        <option value="">a run…</option>${others.map((run) => html`<option value=${run.id}>${run.id} · ${run.label}</option>`)}</select></label>` : null}
      ${exportError ? html`<${Problem} error=${exportError} />` : null}
    </div>
    ${/* What matters first: the scores, curves and tables; then the items; then the worst items' traces. */ ""}
    ${report ? html`<div id="run-report">${report.benchmarks.map((bench, index) => html`<div dangerouslySetInnerHTML=${{ __html: benchmarkSection(bench.benchmark, benchmarkEntries([report], bench.benchmark), { worstLimit: 0, anchor: `bench-${index}` }) }} />`)}</div>` : error ? null : html`<p class="muted">Loading the report…</p>`}
    <${ItemBrowser} runId=${runId} query=${query} />
    ${report ? html`<div id="run-worst">${report.benchmarks.map((bench) => {
      const worst = worstItems(report, bench.benchmark, 5);
      return worst.length ? html`<section><h2>Worst items${report.benchmarks.length > 1 ? ` · ${bench.benchmark}` : ""}</h2><p class="muted">Wrong or errored, most confident first; each pass says which order the model was shown.</p><div dangerouslySetInnerHTML=${{ __html: worst.map((item) => worstItemHtml(item, false)).join("") }} /></section>` : null;
    })}</div>` : null}`;
}

/** What tells a run from another with the same label: when it was made, and its benchmark. */
function runInfo(runs, runId) {
  const run = (runs ?? []).find((candidate) => candidate.id === runId);
  return run ? ` · ${run.benchmark} · made ${run.createdAt.replace("T", " ").slice(0, 19)}` : "";
}

const FILTERS = [["", "all"], ["wrong", "wrong"], ["errors", "errors"], ["inconsistent", "inconsistent"], ["low-confidence", "low confidence"]];

/** The item list: filter, search, point, paged from the server (50 a page), so a 10,000-item run loads one page. */
function ItemBrowser({ runId, query }) {
  const filter = query.get("filter") ?? "";
  const q = query.get("q") ?? "";
  const point = query.get("point") ?? "";
  const offset = Number(query.get("offset") ?? 0);
  const [search, setSearch] = useState(q);
  const params = new URLSearchParams(Object.entries({ filter, q, point, offset: String(offset), limit: String(PAGE) }).filter(([, value]) => value !== ""));
  const [page, error] = useJson(`/v1/runs/${enc(runId)}/items?${params}`);
  const go = (change) => (location.hash = hashOf(["run", runId], { filter, q, point, offset: 0, ...change }));
  return html`<section class="item-browser"><h2>Items</h2>
    <form class="toolbar" onSubmit=${(event) => (event.preventDefault(), go({ q: search.trim() }))}>
      <label>Filter <select id="filter" value=${filter} onChange=${(event) => go({ filter: event.currentTarget.value })}>${FILTERS.map(([value, name]) => html`<option value=${value}>${name}</option>`)}</select></label>
      ${page?.points?.length > 1 ? html`<label>Point <select id="point" value=${page.point} onChange=${(event) => go({ point: event.currentTarget.value })}>${page.points.map((name) => html`<option value=${name}>${name}</option>`)}</select></label>` : null}
      <input type="search" id="search" placeholder="search the items' text" value=${search} onInput=${(event) => setSearch(event.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
    ${error ? html`<${Problem} error=${error} />` : null}
    ${page
      ? html`<p class="muted" id="item-count">${page.total} item${page.total === 1 ? "" : "s"}${page.filter ? ` (${page.filter})` : ""}${page.q ? ` matching “${page.q}”` : ""} at ${page.point}</p>
        <table class="items"><thead><tr><th>Item</th><th>Category</th><th>Label</th><th>Verdict</th><th>Status</th><th>Confidence</th><th>Thinking tokens</th></tr></thead>
        <tbody>${page.items.map(
          (item) => html`<tr class=${item.verdict === item.label ? "right" : "wrong"} data-item=${item.itemId}>
            <td><a href=${hashOf(["run", runId, "item", item.itemId], { point: page.point })}>${item.itemId}</a></td><td>${item.category}</td><td>${item.label}</td>
            <td class="verdict-cell">${item.verdict ?? "—"}</td><td>${item.status}</td><td>${item.confidence === undefined ? "—" : item.confidence.toFixed(3)}</td><td>${item.thinkingTokens}</td></tr>`,
        )}</tbody></table>
        <div class="pager">
          <button type="button" disabled=${offset === 0} onClick=${() => go({ offset: Math.max(0, offset - PAGE) })}>Previous</button>
          <span>${page.total === 0 ? 0 : offset + 1}–${Math.min(page.total, offset + PAGE)} of ${page.total}</span>
          <button type="button" id="next-page" disabled=${offset + PAGE >= page.total} onClick=${() => go({ offset: offset + PAGE })}>Next</button>
        </div>`
      : error ? null : html`<p class="muted">Loading items…</p>`}
  </section>`;
}

const CHANGES = [["all", "all common items"], ["flipped", "flipped"], ["fixed", "fixed (wrong → right)"], ["broken", "broken (right → wrong)"]];

export function ComparePage({ a, b, query }) {
  const filter = query.get("filter") ?? "flipped";
  const offset = Number(query.get("offset") ?? 0);
  const params = new URLSearchParams(Object.entries({ filter: filter === "all" ? "" : filter, offset: String(offset), limit: String(PAGE) }).filter(([, value]) => value !== ""));
  const [data, error] = useJson(`/v1/runs/${enc(a)}/compare/${enc(b)}?${params}`);
  const go = (change) => (location.hash = hashOf(["compare", a, b], { filter, offset: 0, ...change }));
  if (error) return html`<${Problem} error=${error} />`;
  if (!data) return html`<p class="muted">Comparing…</p>`;
  const { summary, runs } = data;
  const mean = (total, count) => (count === 0 ? "—" : (total / count).toFixed(1));
  const pct = (count) => (summary.common === 0 ? "—" : `${((100 * count) / summary.common).toFixed(1)}%`);
  return html`<h1>Two runs on the same items</h1>
    <table class="scores compare-summary"><thead><tr><th></th><th>A: <a href=${hashOf(["run", runs.a.id])}>${runs.a.label}</a> <span class="mono muted">${runs.a.id}</span> (${runs.a.point})</th><th>B: <a href=${hashOf(["run", runs.b.id])}>${runs.b.label}</a> <span class="mono muted">${runs.b.id}</span> (${runs.b.point})</th></tr></thead>
    <tbody>
      <tr><td>Accuracy on the ${summary.common} common items</td><td>${pct(summary.correct.a)}</td><td>${pct(summary.correct.b)}</td></tr>
      <tr><td>Mean thinking tokens</td><td>${mean(summary.thinkingTokens.a, summary.common)}</td><td>${mean(summary.thinkingTokens.b, summary.common)}</td></tr>
      <tr><td>Mean thinking tokens on flipped items</td><td>${mean(summary.flippedThinkingTokens.a, summary.flipped)}</td><td>${mean(summary.flippedThinkingTokens.b, summary.flipped)}</td></tr>
    </tbody></table>
    <p id="flip-summary"><b>${summary.flipped}</b> verdict${summary.flipped === 1 ? "" : "s"} flipped from A to B: <span class="change-fixed">${summary.fixed} fixed</span>, <span class="change-broken">${summary.broken} broken</span>, ${summary.flipped - summary.fixed - summary.broken} other.</p>
    <div class="toolbar"><label>Show <select id="change" value=${filter} onChange=${(event) => go({ filter: event.currentTarget.value })}>${CHANGES.map(([value, name]) => html`<option value=${value}>${name}</option>`)}</select></label></div>
    <table class="items compare"><thead><tr><th>Item</th><th>Label</th><th>Verdict A</th><th>Verdict B</th><th>Change</th><th>Thinking A</th><th>Thinking B</th></tr></thead>
    <tbody>${data.items.map(
      (row) => html`<tr data-item=${row.itemId}><td>${row.itemId}</td><td>${row.label}</td>
        <td><a href=${hashOf(["run", runs.a.id, "item", row.itemId], { point: runs.a.point })}>${row.a.verdict ?? "—"}</a></td>
        <td><a href=${hashOf(["run", runs.b.id, "item", row.itemId], { point: runs.b.point })}>${row.b.verdict ?? "—"}</a></td>
        <td class=${row.change ? `change-${row.change}` : ""}>${row.change ?? "same"}</td><td>${row.a.thinkingTokens}</td><td>${row.b.thinkingTokens}</td></tr>`,
    )}</tbody></table>
    <div class="pager">
      <button type="button" disabled=${offset === 0} onClick=${() => go({ offset: Math.max(0, offset - PAGE) })}>Previous</button>
      <span>${data.total === 0 ? 0 : offset + 1}–${Math.min(data.total, offset + PAGE)} of ${data.total}</span>
      <button type="button" disabled=${offset + PAGE >= data.total} onClick=${() => go({ offset: offset + PAGE })}>Next</button>
    </div>`;
}
