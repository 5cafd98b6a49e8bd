import type { SweepPoint, WorstItem, WorstPass } from "../report-types.js";
import { escapeHtml, seriesColor } from "./escape.js";
import { CACHE_DEPENDENT_LABEL } from "./reproducible.js";
import { METRIC_HEADERS, metricCells, points, probability, settingLabel, tokens } from "./format.js";
import { sortedSweep, trendSentence, worstItems, type BenchmarkEntry } from "./summary.js";
import { svgScalingCurve, type CurveSeries } from "./svg-curve.js";
import { tokenCount, traceHtml } from "./trace-html.js";
import { svgTrajectory } from "./svg-trajectory.js";

/**
 * One benchmark's section of the HTML page: score chips, the scaling curve beside the sweep tables, the
 * official parts, per-category bars and the uniform metrics, then the worst items with their traces.
 * Runs keep one colour everywhere (by their position in the report), so the legend is learnt once.
 */
export function benchmarkSection(benchmark: string, entries: readonly BenchmarkEntry[], options: { worstLimit: number; anchor: string }): string {
  const multi = entries.length > 1;
  const out: string[] = [`<section class="benchmark" id="${escapeHtml(options.anchor)}">`, `<h2>${escapeHtml(benchmark)}</h2>`];
  out.push(
    `<div class="chips">${entries
      .map(({ run, runIndex, bench }) => `<span class="chip">${swatch(runIndex)}${multi ? `${escapeHtml(run.label)}: ` : bench.partial ? "" : "official score "}<b>${points(bench.score.score)}</b>${bench.partial ? ` (partial: ${escapeHtml(bench.partial.text)})` : ""}</span>`)
      .join("")}</div>`,
  );
  const curve = curveCard(benchmark, entries);
  const sweeps = entries.filter(({ bench }) => (bench.sweep?.length ?? 0) > 0);
  if (curve) {
    const note = `<p class="muted">Thinking and evaluated: mean tokens per judgment. Evaluated tokens are cache-dependent: they count what the engine's prefix cache did not hold, so a resumed run may differ.</p>`;
    out.push(`<div class="grid curve-row">${curve}<div class="card">${sweeps.map((entry) => sweepTable(entry, multi)).join("")}${note}</div></div>`);
  }
  for (const entry of entries) {
    const card = frontierCard(benchmark, entry, multi);
    if (card) out.push(card);
    const trajectories = trajectoryCard(entry, multi);
    if (trajectories) out.push(trajectories);
  }

  const parts = partsTable(entries);
  const bars = categoryBars(entries);
  const rule = entries.map(({ bench }) => bench.score.rule).find((text) => text !== undefined);
  if (rule !== undefined) out.push(`<p class="rule">Scoring rule: ${escapeHtml(rule)}.</p>`);
  out.push(`<div class="grid">${bars ? `<div class="card"><h3>Categories</h3>${bars}</div>` : ""}${parts ? `<div class="card"><h3>Official parts</h3>${parts}</div>` : ""}</div>`);
  out.push(`<h3>Uniform metrics</h3>${metricsTable(entries)}`);
  out.push(`<p class="muted">All in points (0–100). The interval is a 95% bootstrap interval of the official score; ECE is the expected calibration error over 10 confidence bins.</p>`);

  const worst = entries.map((entry) => worstSection(entry, benchmark, options.worstLimit, multi)).filter((html) => html.length > 0);
  if (worst.length) {
    out.push(
      `<h3>Worst items</h3><p class="legend-key">Wrong or errored, most confident first. In traces: prompt folded, model thinking as plain text, <mark class="injected">⟦Wait⟧</mark> = injected by j1, <span class="answer">answer</span> = where the verdict was read.</p>`,
      ...worst,
    );
  }
  out.push("</section>");
  return out.join("\n");
}

export function swatch(runIndex: number): string {
  return `<span class="swatch" style="background:${seriesColor(runIndex)}"></span>`;
}

/**
 * The scaling curve. X is mean thinking tokens on a log2 axis (the unit the trend's slope is in), unless
 * tokens do not vary or some point thought 0 tokens (no place on a log axis); then the setting value.
 */
function curveCard(benchmark: string, entries: readonly BenchmarkEntry[]): string | undefined {
  const swept = entries.filter(({ bench }) => (bench.sweep?.length ?? 0) > 0);
  if (swept.length === 0) return undefined;
  const all = swept.flatMap(({ bench }) => bench.sweep ?? []);
  const byTokens = all.every((point) => point.meanThinkingTokens > 0) && new Set(all.map((point) => point.meanThinkingTokens)).size > 1;
  const settings = [...new Set(all.map((point) => point.setting))];
  const series: CurveSeries[] = swept.map(({ run, bench }) => ({
    label: run.label,
    points: sortedSweep(bench).map((point: SweepPoint) => ({
      x: byTokens ? point.meanThinkingTokens : point.value,
      y: point.score.score,
      label: settingLabel(point.setting, point.value),
    })),
  }));
  const svg = svgScalingCurve(series, {
    xScale: byTokens ? "log2" : "linear",
    xLabel: byTokens ? "mean thinking tokens per judgment (log₂ scale)" : settings.join(" / "),
    yLabel: "official score",
    yClamp: [0, 100],
    title: `${benchmark}: official score against ${byTokens ? "thinking tokens" : settings.join(" / ")}`,
    colors: swept.map(({ runIndex }) => seriesColor(runIndex)),
  });
  const trends = swept
    .map(({ run, runIndex, bench }) => {
      const sentence = trendSentence(bench);
      return sentence ? `<p class="trend">${swatch(runIndex)}${swept.length > 1 ? `<b>${escapeHtml(run.label)}</b>: ` : ""}${escapeHtml(sentence)}</p>` : "";
    })
    .join("");
  return `<div class="card"><h3>Scaling curve</h3>${svg}${trends}</div>`;
}

/**
 * The compute–accuracy frontier: every swept setting of one run on the same axes (official score against
 * mean thinking tokens per judgment, the probes an adaptive policy paid included), and what it saved.
 */
export function frontierCard(benchmark: string, { run, bench }: BenchmarkEntry, named: boolean): string | undefined {
  const frontier = bench.frontier;
  if (!frontier) return undefined;
  const series: CurveSeries[] = frontier.series.map((entry) => ({
    label: `${entry.setting}${entry.adaptive ? " (adaptive)" : " (fixed)"}`,
    points: entry.points.map((point) => ({ x: point.cost, y: point.score, label: settingLabel(entry.setting, point.value) })),
  }));
  const svg = svgScalingCurve(series, {
    xScale: "linear",
    xLabel: "mean thinking tokens per judgment, probes included",
    yLabel: "official score",
    yClamp: [0, 100],
    title: `${benchmark}: compute–accuracy frontier`,
    colors: frontier.series.map((_, index) => seriesColor(index)),
    legend: true,
  });
  const rows = frontier.series
    .flatMap((entry) => entry.points.map((point) => `<tr><td>${escapeHtml(settingLabel(entry.setting, point.value))}</td><td>${points(point.score)}</td><td>${tokens(point.cost)}</td><td>${tokens(point.probeTokens)}</td></tr>`))
    .join("");
  const table = `<table><thead><tr><th>Point</th><th>Score</th><th title="thinking + probe tokens per judgment">Cost</th><th>Probes</th></tr></thead><tbody>${rows}</tbody></table>`;
  const sentence = frontier.sentence ? `<p class="trend frontier-sentence">${escapeHtml(frontier.sentence)}</p>` : "";
  return `<div class="grid curve-row frontier"><div class="card"><h3>Compute–accuracy frontier${named ? `: ${escapeHtml(run.label)}` : ""}</h3>${svg}${sentence}</div><div class="card">${table}<p class="muted">Measured on these items with this judge; the gain of adaptive scaling on another judge must be measured on that judge.</p></div></div>`;
}

/** How often thinking changed the verdict, and a small line per item that moved (P(label) at each probe). */
export function trajectoryCard({ run, bench }: BenchmarkEntry, named: boolean): string | undefined {
  const summary = bench.trajectories;
  if (!summary) return undefined;
  const rows = summary.items
    .map((trajectory) => `<tr><td class="mono">${escapeHtml(trajectory.itemId)}</td><td>${escapeHtml(trajectory.label)}</td><td>${svgTrajectory(trajectory)}</td><td>${escapeHtml(trajectory.turn === "right" ? "turned right" : trajectory.turn === "wrong" ? "turned wrong" : "moved")}</td></tr>`)
    .join("");
  const counts = `Of ${summary.probed} items read at every attempted end, the verdict moved on ${summary.moved}: ${summary.turnedRight} turned right, ${summary.turnedWrong} turned wrong.`;
  const table = rows ? `<table class="trajectories"><thead><tr><th>Item</th><th>Label</th><th title="P(label) at each attempted end of thinking; green: the verdict read was the label">Trajectory</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : "";
  return `<div class="card"><h3>Verdict trajectories${named ? `: ${escapeHtml(run.label)}` : ""}</h3><p>${escapeHtml(counts)}</p>${table}</div>`;
}

function sweepTable({ run, runIndex, bench }: BenchmarkEntry, named: boolean): string {
  const sweep = sortedSweep(bench);
  const rows = sweep
    .map((point) => `<tr><td>${escapeHtml(String(point.value))}</td><td>${points(point.score.score)}</td><td>${tokens(point.meanThinkingTokens)}</td><td>${tokens(point.meanEvaluatedTokens)}</td></tr>`)
    .join("");
  const title = named ? `<h4>${swatch(runIndex)}${escapeHtml(run.label)}</h4>` : `<h3>Sweep</h3>`;
  return `${title}<table><thead><tr><th>${escapeHtml(sweep[0].setting)}</th><th>Score</th><th title="mean generated thinking tokens per judgment">Thinking</th><th title="mean tokens the engine evaluated per judgment; depends on the engine's cache">Evaluated ${escapeHtml(CACHE_DEPENDENT_LABEL)}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function partsTable(entries: readonly BenchmarkEntry[]): string | undefined {
  const names: string[] = [];
  for (const { bench } of entries) for (const name of Object.keys(bench.score.parts)) if (!names.includes(name)) names.push(name);
  if (names.length === 0) return undefined;
  // Parts as rows, runs as columns: part names are long ("Chat Hard"), runs are few.
  const header = entries.map(({ run, runIndex }) => `<th>${swatch(runIndex)}${entries.length > 1 ? escapeHtml(run.label) : "Score"}</th>`).join("");
  const rows = names
    .map((name) => `<tr><td>${escapeHtml(name)}</td>${entries.map(({ bench }) => `<td>${points(bench.score.parts[name])}</td>`).join("")}</tr>`)
    .join("");
  return `<table><thead><tr><th>Part</th>${header}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** One row per category, one bar per run (scores are in [0, 100], so the bar width is the score). */
function categoryBars(entries: readonly BenchmarkEntry[]): string | undefined {
  const categories: string[] = [];
  for (const { bench } of entries) for (const category of bench.score.categories) if (!categories.includes(category.category)) categories.push(category.category);
  if (categories.length === 0) return undefined;
  const rows = categories.map((name) => {
    const found = entries.map((entry) => ({ entry, category: entry.bench.score.categories.find((category) => category.category === name) }));
    const counts = [...new Set(found.flatMap(({ category }) => (category ? [category.items] : [])))];
    const lines = found
      .map(({ entry, category }) => {
        const width = category ? Math.max(0, Math.min(100, category.score)) : 0;
        return `<div class="bar-line" title="${escapeHtml(`${entry.run.label}: ${points(category?.score)}`)}"><div class="bar"><span style="width:${width.toFixed(2)}%;background:${seriesColor(entry.runIndex)}"></span></div><span class="bar-value">${points(category?.score)}</span></div>`;
      })
      .join("");
    return `<tr><td class="cat" title="${escapeHtml(name)}">${escapeHtml(name)}</td><td class="muted">${counts.join(" / ")}</td><td>${lines}</td></tr>`;
  });
  return `<table class="bars"><thead><tr><th>Category</th><th>Items</th><th>Score</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function metricsTable(entries: readonly BenchmarkEntry[]): string {
  const header = ["Run", ...METRIC_HEADERS];
  const rows = entries.map(({ run, runIndex, bench }) => {
    const cells = metricCells(bench.score.metrics);
    const skipped = bench.score.skipped > 0 ? ` <span class="muted">(${bench.score.skipped} rows skipped)</span>` : "";
    return `<tr><td>${swatch(runIndex)}${escapeHtml(run.label)}${skipped}</td>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${header.map((name) => `<th>${name}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function worstSection({ run, runIndex }: BenchmarkEntry, benchmark: string, limit: number, named: boolean): string {
  const items = worstItems(run, benchmark, limit);
  if (items.length === 0) return "";
  const title = named ? `<h4>${swatch(runIndex)}${escapeHtml(run.label)}</h4>` : "";
  return `${title}${items.map((item) => worstItemHtml(item, true)).join("\n")}`;
}

/**
 * One failure: what it was (label, verdict, status, confidence) in the summary, the trace in the body.
 * Open by default, so the traces are shown (and printed); the reader can fold the ones already read.
 */
export function worstItemHtml(item: WorstItem, open: boolean): string {
  const errored = item.status !== "ok";
  const badge = errored ? `<span class="badge error">${escapeHtml(item.status)}</span>` : `<span class="badge">wrong</span>`;
  const verdict = item.verdict ?? "none";
  const confidence = item.confidence === undefined ? "" : ` · confidence ${probability(item.confidence)}`;
  const summary = `${badge} <span class="mono">${escapeHtml(item.itemId)}</span> <span class="tag">${escapeHtml(item.category)}</span> <span class="muted">label</span> <b>${escapeHtml(item.label)}</b> <span class="muted">verdict</span> <b>${escapeHtml(verdict)}</b> <span class="muted">(the item's labels)</span>${passesSummary(item)}<span class="muted">${escapeHtml(confidence)}</span>`;
  // The summary already says label, verdict and confidence; the body adds what the trace cost.
  const generated = item.trace.reduce((sum, span) => sum + (span.source === "generated" ? tokenCount(span.tokens) : 0), 0);
  const waits = item.trace.filter((span) => span.source === "injected" && span.role === "wait").length;
  const facts = [
    `status <b>${escapeHtml(item.status)}</b>`,
    `<b>${escapeHtml(generated.toLocaleString("en-US"))}</b> generated tokens`,
    `<b>${waits}</b> wait${waits === 1 ? "" : "s"} injected`,
  ];
  // Each pass's trace under a line that says which order it was shown in and what its verdict means in
  // the item's labels (reports made before passes were kept show the one trace they have).
  const traces = item.passes && item.passes.length > 0
    ? item.passes.map((pass, index) => `<p class="order-note${pass.order === "BA" ? " swapped" : ""}">${escapeHtml(passSentence(pass, index, item.passes!.length))}</p>${traceHtml(pass.trace)}`).join("")
    : traceHtml(item.trace);
  return `<details class="item"${open ? " open" : ""}><summary>${summary}</summary><div class="body"><div class="verdict muted">${facts.map((fact) => `<span>${fact}</span>`).join("")}</div>${traces}</div></details>`;
}

/** "AB gave A, BA gave B": each pass's verdict in the item's labels, when there is more than one pass. */
function passesSummary(item: WorstItem): string {
  if (!item.passes || item.passes.length < 2) return item.passes?.[0]?.order === "BA" ? ` <span class="muted">· shown swapped</span>` : "";
  return ` <span class="muted">· ${escapeHtml(passesText(item.passes))}</span>`;
}

/** Each pass's verdict in the item's labels: "AB gave A, BA gave B". */
export function passesText(passes: readonly WorstPass[]): string {
  const sampled = passes.some((pass) => pass.sample > 0);
  return passes.map((pass) => `${pass.order}${sampled ? `#${pass.sample + 1}` : ""} gave ${pass.verdict ?? "no verdict"}`).join(", ");
}

/** Which order a pass was shown in, and its verdict in the model's labels and in the item's. */
export function passSentence(pass: WorstPass, index: number, count: number): string {
  const name = count > 1 ? `Pass ${index + 1} (${pass.order}${pass.sample > 0 ? `, sample ${pass.sample + 1}` : ""}): ` : "";
  const written = pass.rawVerdict === null ? "no verdict" : `[[${pass.rawVerdict}]]`;
  const mapped = pass.verdict ?? "no verdict";
  if (pass.order === "BA") return `${name}shown swapped (the model's "Response A" was the item's B); it wrote ${written}, which is ${mapped} in the item's labels.`;
  return `${name}shown in the item's order; it wrote ${written}, which is ${mapped} in the item's labels.`;
}
