import type { Command } from "commander";
import { badInput } from "../../core/errors.js";
import { checkOutputFile, writeOutputFile } from "../output-file.js";
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
    .action(async (ids: string[], flags: { store: string; html?: string; md?: string; json?: string | boolean }) => {
      const jsonToStdout = flags.json === true || flags.json === "-";
      // Every output checked before the store is read: a report is rewritten in place (replace), but never
      // into a folder or a folder that is not there.
      const outputs = [
        ["--html", flags.html, renderHtml],
        ["--md", flags.md, renderMarkdown],
        ["--json", typeof flags.json === "string" && !jsonToStdout ? flags.json : undefined, renderJson],
      ] as const;
      const planned = outputs.filter(([, file]) => file !== undefined).map(([flag, file, render]) => ({ flag, file: checkOutputFile(file as string, flag, { replace: true }), render }));
      const same = planned.find((output, index) => planned.findIndex((other) => other.file === output.file) !== index);
      if (same) throw badInput("two reports would be written to the same file", { file: same.file, field: same.flag });
      const store = openExistingStore(flags.store);
      try {
        const runs = ids.map((id) => store.getRun(id).id);
        const twice = runs.find((run, index) => runs.indexOf(run) !== index);
        if (twice) throw badInput(`run ${twice} is named twice`, { field: "runs" });
        const reports = runs.map((id) => buildRunReport(store, id));
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
