import type { RunReport } from "../report-types.js";
import { trajectoryText } from "./svg-trajectory.js";
import { CACHE_DEPENDENT_LABEL } from "./reproducible.js";
import { METRIC_HEADERS, metricCells, MISSING, points, probability, tokens } from "./format.js";
import { benchmarkEntries, scoreTable, sortedSweep, trendSentence, worstItems, type BenchmarkEntry } from "./summary.js";

/**
 * The report as GitHub-flavoured markdown: the J1 paper's table first (what a reader compares), then per
 * benchmark the breakdown behind each number. Tables have one row per run so runs compare side by side.
 */
export function renderMarkdown(reports: readonly RunReport[], options: { worstLimit?: number } = {}): string {
  const worstLimit = options.worstLimit ?? 5;
  const table = scoreTable(reports);
  const out: string[] = ["# j1 report", ""];

  const header = ["Run", ...table.benchmarks, ...(table.showOverall ? ["Overall"] : [])];
  const rows = table.rows.map((row) => [row.label, ...row.scores.map(points), ...(table.showOverall ? [points(row.overall)] : [])]);
  out.push(markdownTable(header, rows, ["left"]), "");

  out.push("Runs:", "");
  for (const run of reports) out.push(`- ${runLine(run)}`);
  out.push("");

  for (const benchmark of table.benchmarks) {
    const entries = benchmarkEntries(reports, benchmark);
    const partial = entries.map(({ bench }) => bench.partial?.text).find((text) => text !== undefined);
    out.push(`## ${inline(benchmark)}${partial === undefined ? "" : ` (partial: ${inline(partial)})`}`, "");
    const rule = entries.map(({ bench }) => bench.score.rule).find((text) => text !== undefined);
    if (rule !== undefined) out.push(`Scoring rule: ${inline(rule)}.`, "");
    out.push(...partsSection(entries), ...categorySection(entries), ...metricsSection(entries));
    for (const entry of entries) out.push(...sweepSection(entry, entries.length > 1));
    for (const entry of entries) out.push(...frontierSection(entry), ...trajectorySection(entry));
    for (const entry of entries) out.push(...worstSection(entry, benchmark, worstLimit, entries.length > 1));
  }
  return `${out.join("\n").trimEnd()}\n`;
}

function frontierSection({ bench }: BenchmarkEntry): string[] {
  const frontier = bench.frontier;
  if (!frontier) return [];
  const rows = frontier.series.flatMap((entry) => entry.points.map((point) => [`${entry.setting}=${point.value}${entry.adaptive ? " (adaptive)" : ""}`, points(point.score), tokens(point.cost), tokens(point.probeTokens)]));
  return ["### Compute–accuracy frontier", "", markdownTable(["Point", "Score", "Mean tokens (thinking + probes)", "Mean probe tokens"], rows, ["left"]), "", ...(frontier.sentence ? [frontier.sentence, ""] : [])];
}

function trajectorySection({ bench }: BenchmarkEntry): string[] {
  const summary = bench.trajectories;
  if (!summary) return [];
  const rows = summary.items.map((trajectory) => [trajectory.itemId, trajectory.label, trajectoryText(trajectory), trajectory.turn ? `turned ${trajectory.turn}` : "moved"]);
  return [
    "### Verdict trajectories",
    "",
    `Of ${summary.probed} items read at every attempted end, the verdict moved on ${summary.moved}: ${summary.turnedRight} turned right, ${summary.turnedWrong} turned wrong.`,
    "",
    ...(rows.length ? [markdownTable(["Item", "Label", "Verdict, P(label) at each probe", ""], rows, ["left", "left", "left", "left"]), ""] : []),
  ];
}

function runLine(run: RunReport): string {
  const errors = Object.entries(run.judgments.errors).filter(([, count]) => count > 0);
  const errorText = errors.length ? ` (${errors.map(([kind, count]) => `${count} ${inline(kind)}`).join(", ")})` : "";
  const warnings = (run.warnings ?? []).map((warning) => `\n  - warning: ${inline(warning)}`).join("");
  return `**${inline(run.label)}** — run \`${inline(run.runId)}\`, ${inline(run.createdAt)}, ${run.judgments.total.toLocaleString("en-US")} judgments${errorText}${warnings}`;
}

function partsSection(entries: BenchmarkEntry[]): string[] {
  const names: string[] = [];
  for (const { bench } of entries) for (const name of Object.keys(bench.score.parts)) if (!names.includes(name)) names.push(name);
  if (names.length === 0) return [];
  const rows = entries.map(({ run, bench }) => [run.label, ...names.map((name) => points(bench.score.parts[name]))]);
  return ["### Parts", "", markdownTable(["Run", ...names], rows, ["left"]), ""];
}

function categorySection(entries: BenchmarkEntry[]): string[] {
  const categories: string[] = [];
  for (const { bench } of entries) for (const category of bench.score.categories) if (!categories.includes(category.category)) categories.push(category.category);
  if (categories.length === 0) return [];
  const rows = categories.map((name) => {
    const found = entries.map(({ bench }) => bench.score.categories.find((category) => category.category === name));
    // Runs with different limits see different item counts; show each distinct count rather than one.
    const counts = [...new Set(found.filter((category) => category !== undefined).map((category) => category.items))];
    return [name, counts.join(" / "), ...found.map((category) => points(category?.score))];
  });
  const header = ["Category", "Items", ...entries.map(({ run }) => (entries.length > 1 ? run.label : "Score"))];
  return ["### Categories", "", markdownTable(header, rows, ["left"]), ""];
}

function metricsSection(entries: BenchmarkEntry[]): string[] {
  const header = ["Run", ...METRIC_HEADERS];
  const rows = entries.map(({ run, bench }) => [run.label, ...metricCells(bench.score.metrics)]);
  const skipped = entries.filter(({ bench }) => bench.score.skipped > 0).map(({ run, bench }) => `${inline(run.label)}: ${bench.score.skipped}`);
  const note = skipped.length ? [`Rows skipped as malformed: ${skipped.join(", ")}.`, ""] : [];
  return ["### Uniform metrics", "", "All in points (0–100); the interval is a 95% bootstrap interval of the official score. Tie, error and parse-failure rates are per judged order (an item judged in both orders counts twice).", "", markdownTable(header, rows, ["left"]), "", ...note];
}

function sweepSection({ run, bench }: BenchmarkEntry, named: boolean): string[] {
  const sweep = sortedSweep(bench);
  if (sweep.length === 0) return [];
  const rows = sweep.map((point) => [String(point.value), points(point.score.score), tokens(point.meanThinkingTokens), tokens(point.meanEvaluatedTokens)]);
  const trend = trendSentence(bench);
  return [
    `### Sweep${named ? ` — ${inline(run.label)}` : ""}`,
    "",
    markdownTable([sweep[0].setting, "Score", "Mean thinking tokens", `Mean evaluated tokens ${CACHE_DEPENDENT_LABEL}`], rows, ["right"]),
    "",
    ...(trend ? [`Trend: ${trend}.`, ""] : []),
  ];
}

function worstSection(entry: BenchmarkEntry, benchmark: string, limit: number, named: boolean): string[] {
  const items = worstItems(entry.run, benchmark, limit);
  if (items.length === 0) return [];
  // The verdict in the item's labels, and per pass the order shown and what the model wrote in its own.
  const shown = (item: (typeof items)[number]) => (item.passes ?? []).map((pass) => `${pass.order}: ${pass.rawVerdict === null ? "none" : `[[${pass.rawVerdict}]]`} → ${pass.verdict ?? "none"}`).join(", ") || MISSING;
  const rows = items.map((item) => [item.itemId, item.category, item.label, item.verdict ?? MISSING, shown(item), item.status, probability(item.confidence)]);
  return [
    `### Worst items${named ? ` — ${inline(entry.run.label)}` : ""}`,
    "",
    markdownTable(["Item", "Category", "Label", "Verdict (item's labels)", "Passes (order shown: model wrote → item's labels)", "Status", "Confidence"], rows, ["left", "left", "left", "left", "left"]),
    "",
  ];
}

/**
 * A pipe table. Cells are escaped (a label with "|" would otherwise split the row); columns listed in
 * `align` are aligned as given, the rest right-aligned since they hold numbers.
 */
export function markdownTable(header: string[], rows: string[][], align: Array<"left" | "right"> = []): string {
  const rule = header.map((_, column) => ((align[column] ?? "right") === "left" ? ":--" : "--:"));
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), `| ${rule.join(" | ")} |`, ...rows.map(line)].join("\n");
}

function cell(text: string): string {
  return inline(text).replace(/\|/g, "\\|");
}

/** Text placed inline: one line, and no raw HTML (run labels and categories come from user input). */
function inline(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
