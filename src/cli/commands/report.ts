import type { Command } from "commander";
import { badInput } from "../../core/errors.js";
import { checkOutputFile, writeOutputFile } from "../output-file.js";
import { renderHtml, renderJson, renderMarkdown, renderTerminal } from "../../eval/report/index.js";
import { buildRunReport } from "../../eval/run-report.js";
import { defaultStorePath, openExistingStore } from "../../store/run-store.js";
import type { RunStore } from "../../store/types.js";
import type { RunReport } from "../../eval/report-types.js";

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
      // The outputs are checked before any report is built: a report is rewritten in place (replace), but
      // never into a folder or a folder that is not there.
      const plan = (outputs: ReadonlyArray<readonly [string, string | undefined, (reports: RunReport[]) => string]>) =>
        outputs.filter(([, file]) => file !== undefined).map(([flag, file, render]) => ({ flag, file: checkOutputFile(file as string, flag, { replace: true }), render }));
      const pages = plan([
        ["--html", flags.html, renderHtml],
        ["--md", flags.md, renderMarkdown],
      ]);
      const store = openExistingStore(flags.store);
      try {
        // A --json value that names a run is that run (and --json the switch): with no other run given, or
        // when it is a run of the store. Only a value that names none is a file to write.
        const valueIsRun = jsonValue !== undefined && (given.length === 0 || namesRun(store, jsonValue));
        const ids = valueIsRun ? [jsonValue, ...given] : given;
        const jsonFile = valueIsRun ? undefined : jsonValue;
        const jsonToStdout = flags.json !== undefined && jsonFile === undefined;
        const planned = [...pages, ...plan([["--json", jsonFile, renderJson]])];
        const same = planned.find((output, index) => planned.findIndex((other) => other.file === output.file) !== index);
        if (same) throw badInput("two reports would be written to the same file", { file: same.file, field: same.flag });
        const runs = ids.map((id) => store.getRun(id).id);
        const twice = runs.find((run, index) => runs.indexOf(run) !== index);
        if (twice) throw badInput(`run ${twice} is named twice`, { field: "runs" });
        const reports = runs.map((id) => buildRunReport(store, id, { soFar: flags.soFar }));
        const written: string[] = [];
        for (const { flag, file, render } of planned) {
          await writeOutputFile(file, flag, render(reports));
          written.push(file);
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
