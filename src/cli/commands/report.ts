import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { renderHtml, renderJson, renderMarkdown, renderTerminal } from "../../eval/report/index.js";
import { buildRunReport } from "../../eval/run-report.js";
import { defaultStorePath, openExistingStore } from "../../store/run-store.js";

export function registerReport(program: Command): void {
  program
    .command("report <runs...>")
    .description("Reports of runs: the paper's table (rows = runs), breakdowns, scaling curves, worst items with traces.")
    .option("--store <file>", "run store (SQLite)", defaultStorePath())
    .option("--html <file>", "one self-contained HTML page with SVG scaling curves")
    .option("--md <file>", "markdown")
    // A switch like every other --json (the JSON on stdout, in place of the table); a file name still writes there.
    .option("--json [file]", "JSON: on stdout (no value, or -), or into FILE")
    .option("--so-far", 'an unfinished run: score the items judged so far, labelled "N of M items judged so far"', false)
    .action(async (ids: string[], flags: { store: string; html?: string; md?: string; json?: string | boolean; soFar: boolean }) => {
      const store = openExistingStore(flags.store);
      try {
        const reports = ids.map((id) => buildRunReport(store, store.getRun(id).id, { soFar: flags.soFar }));
        const written: string[] = [];
        if (flags.html) {
          await writeFile(flags.html, renderHtml(reports));
          written.push(flags.html);
        }
        if (flags.md) {
          await writeFile(flags.md, renderMarkdown(reports));
          written.push(flags.md);
        }
        const jsonToStdout = flags.json === true || flags.json === "-";
        if (typeof flags.json === "string" && !jsonToStdout) {
          await writeFile(flags.json, renderJson(reports));
          written.push(flags.json);
        }
        process.stdout.write(jsonToStdout ? renderJson(reports) : `${renderTerminal(reports)}\n`);
        if (written.length) console.error(`j1: wrote ${written.join(", ")}`);
      } finally {
        store.close();
      }
    });
}
