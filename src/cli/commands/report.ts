import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { renderHtml, renderJson, renderMarkdown, renderTerminal } from "../../eval/report/index.js";
import { buildRunReport } from "../../eval/run-report.js";
import { defaultStorePath, openExistingStore } from "../../store/run-store.js";
import type { RunStore } from "../../store/types.js";

export function registerReport(program: Command): void {
  program
    // Optional to commander only so that `--json RUN` can give the run (see the action); one is required.
    .command("report [runs...]")
    .usage("[options] <runs...>")
    .description("Reports of runs: the paper's table (rows = runs), breakdowns, scaling curves, worst items with traces.")
    .option("--store <file>", "run store (SQLite)", defaultStorePath())
    // One flag per format: this command writes several at once (README, "Output files").
    .option("--html <file>", "one self-contained HTML page with SVG scaling curves")
    .option("--md <file>", "markdown")
    // A switch like every other --json (the JSON on stdout, in place of the table); a file name still writes there.
    .option("--json [file]", "the JSON on stdout, in place of the table (- too); with a FILE that names no run, into FILE")
    .option("--so-far", 'an unfinished run: score the items judged so far, labelled "N of M items judged so far"', false)
    .action(async (given: string[], flags: { store: string; html?: string; md?: string; json?: string | boolean; soFar: boolean }, command: Command) => {
      // commander gives an optional value the next word, so `--json RUN` reads as a file named RUN.
      const jsonValue = typeof flags.json === "string" && flags.json !== "-" ? flags.json : undefined;
      if (given.length === 0 && jsonValue === undefined) command.error("error: missing required argument 'runs'");
      const store = openExistingStore(flags.store);
      try {
        // A --json value that names a run is that run (and --json the switch): with no other run given, or
        // when it is a run of the store. Only a value that names none is a file to write.
        const valueIsRun = jsonValue !== undefined && (given.length === 0 || namesRun(store, jsonValue));
        const ids = valueIsRun ? [jsonValue, ...given] : given;
        const jsonFile = valueIsRun ? undefined : jsonValue;
        const jsonToStdout = flags.json !== undefined && jsonFile === undefined;
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
        if (jsonFile !== undefined) {
          await writeFile(jsonFile, renderJson(reports));
          written.push(jsonFile);
        }
        process.stdout.write(jsonToStdout ? renderJson(reports) : `${renderTerminal(reports)}\n`);
        if (written.length) console.error(`j1: wrote ${written.join(", ")}`);
      } finally {
        store.close();
      }
    });
}

function namesRun(store: RunStore, id: string): boolean {
  try {
    store.getRun(id);
    return true;
  } catch {
    return false;
  }
}
