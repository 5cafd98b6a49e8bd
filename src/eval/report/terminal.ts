import type { RunReport } from "../report-types.js";
import { points } from "./format.js";
import { benchmarkEntries, scoreTable, trendSentence } from "./summary.js";

/**
 * The CLI's human output: the paper's table in aligned plain text (no colour, no box drawing, so it
 * survives logs and copy-paste), then one line per swept benchmark with its trend.
 */
export function renderTerminal(reports: readonly RunReport[]): string {
  const table = scoreTable(reports);
  const header = ["Run", ...table.benchmarks, ...(table.showOverall ? ["Overall"] : [])];
  const rows = table.rows.map((row) => [row.label, ...row.scores.map(points), ...(table.showOverall ? [points(row.overall)] : [])]);
  const lines = alignColumns([header, ...rows]);
  lines.splice(1, 0, "-".repeat(Math.max(...lines.map((line) => line.length))));

  const trends: string[] = [];
  for (const benchmark of table.benchmarks) {
    const entries = benchmarkEntries(reports, benchmark);
    for (const { run, bench } of entries) {
      const sentence = trendSentence(bench);
      if (sentence) trends.push(`${benchmark}${entries.length > 1 ? ` [${run.label}]` : ""}: ${sentence}`);
    }
  }
  // A benchmark without an official scorer says which rule made its figure, and the other one.
  for (const benchmark of table.benchmarks) {
    for (const { run, bench } of benchmarkEntries(reports, benchmark)) {
      if (bench.score.rule === undefined) continue;
      const others = Object.entries(bench.score.parts).map(([name, value]) => `${name}: ${points(value)}`).join("; ");
      trends.push(`${benchmark}${reports.length > 1 ? ` [${run.label}]` : ""}: ${bench.score.rule}${others ? ` (${others})` : ""}`);
    }
  }
  const warnings = reports.flatMap((report) => (report.warnings ?? []).map((warning) => `warning (${report.label}): ${warning}`));
  return `${[...lines, ...(trends.length ? ["", ...trends] : []), ...(warnings.length ? ["", ...warnings] : [])].join("\n")}\n`;
}

/** First column left-aligned (labels), the rest right-aligned (numbers), two spaces apart. */
function alignColumns(rows: string[][]): string[] {
  // Widths in code points, not UTF-16 units, so a label with "—" or an emoji does not shift its row.
  const length = (text: string) => [...text].length;
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => length(row[column] ?? ""))));
  const pad = (cell: string, column: number) => " ".repeat(widths[column] - length(cell));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell + pad(cell, column) : pad(cell, column) + cell))
      .join("  ")
      .trimEnd(),
  );
}
