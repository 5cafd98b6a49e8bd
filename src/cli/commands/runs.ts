import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { badInput, errorMessage } from "../../core/errors.js";
import { buildRunReport } from "../../eval/run-report.js";
import { renderTerminal } from "../../eval/report/index.js";
import { mergeShards } from "../../eval/shard-merge.js";
import { defaultStorePath, openExistingStore, openRunStore, type RunStore } from "../../store/run-store.js";

/**
 * These commands only read: a --store path that does not exist is refused (a typo must not leave an
 * empty store behind, nor answer "no run" from one), except by `runs list`, which says there are none.
 */

/** Opens the export file before anything is written to it, so a path that cannot be written is refused with its name. */
function openOutput(file: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(file);
    stream.once("open", () => resolve(stream));
    stream.once("error", (error) => reject(badInput(`cannot write the export (${errorMessage(error)})`, { file: path.resolve(file), field: "--output" })));
  });
}

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("Runs in the run store: list, show, export, merge.");
  const storeOption = ["--store <file>", "run store (SQLite)", defaultStorePath()] as const;

  runs
    .command("list")
    .description("All runs, newest first.")
    .option(...storeOption)
    .option("--json", "as JSON", false)
    .action((flags: { store: string; json: boolean }) => {
      if (!existsSync(flags.store)) {
        if (flags.json) process.stdout.write("[]\n");
        else console.log(`no runs: there is no run store at ${path.resolve(flags.store)} (start one with: j1 eval --bench harmless --model tiny --limit 20)`);
        return;
      }
      const store = openRunStore(flags.store);
      try {
        const listing = store.listRuns();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
          return;
        }
        if (listing.length === 0) {
          console.log(`no runs in ${store.file} (start one with: j1 eval --bench harmless --model tiny --limit 20)`);
          return;
        }
        for (const run of listing) {
          console.log(`${run.id}  ${run.status.padEnd(11)} ${run.benchmark.padEnd(24)} ${String(run.itemsJudged).padStart(6)}/${String(run.items ?? "?").padEnd(6)} ${run.label}`);
        }
      } finally {
        store.close();
      }
    });

  runs
    .command("show <run>")
    .description("A run's settings and scores (the id or a unique prefix).")
    .option(...storeOption)
    .option("--json", "as JSON", false)
    .action((id: string, flags: { store: string; json: boolean }) => {
      const store = openExistingStore(flags.store);
      try {
        const run = store.getRun(id);
        // Eval runs are scored; other runs (data sft) are shown with their counts and summary only.
        const report = Array.isArray(run.settings.benchmarks) ? buildRunReport(store, run.id) : undefined;
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ run, report }, null, 2)}\n`);
          return;
        }
        console.log(`run ${run.id} (${run.status}, ${run.benchmark}), created ${run.createdAt}, ${run.items ?? "?"} items${run.skipped ? `, ${run.skipped} rows skipped` : ""}`);
        console.log(`settings: ${JSON.stringify({ ...run.settings, template: (run.settings.template as { name?: string } | undefined)?.name })}`);
        if (report) console.log(renderTerminal([report]));
        else if (run.summary !== undefined) console.log(`summary: ${JSON.stringify(run.summary)}`);
      } finally {
        store.close();
      }
    });

  runs
    .command("export <run>")
    .description("Every judgment of a run as JSON lines (with traces).")
    .option(...storeOption)
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (id: string, flags: { store: string; output?: string }) => {
      const store = openExistingStore(flags.store);
      try {
        // The run first: an unknown id must not truncate an earlier export at --output.
        const run = store.getRun(id);
        const out = flags.output ? await openOutput(flags.output) : process.stdout;
        let count = 0;
        for (const row of store.exportRun(run.id)) {
          if (!out.write(`${JSON.stringify(row)}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
          count++;
        }
        if (flags.output) {
          await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
          console.error(`j1: ${count} judgments -> ${flags.output}`);
        }
      } finally {
        store.close();
      }
    });

  runs
    .command("merge <shards...>")
    .description("Join the shards of one eval run (j1 eval --shard i/n, each in its own store) into one run whose report is the unsharded run's. A shard is STORE (its one finished shard run) or STORE@RUN.")
    .option("--store <file>", "the store the merged run is written to (created when missing)", defaultStorePath())
    .option("--label <text>", "the merged run's name (default: the shards' label without the shard)")
    .option("--json", "print the merged report as JSON", false)
    .action((shards: string[], flags: { store: string; label?: string; json: boolean }) => {
      const stores = new Map<string, RunStore>();
      const open = (file: string, create: boolean) => {
        const key = path.resolve(file);
        let store = stores.get(key);
        if (!store) {
          store = create ? openRunStore(file) : openExistingStore(file);
          stores.set(key, store);
        }
        return store;
      };
      try {
        const target = open(flags.store, true);
        const sources = shards.map((spec) => {
          const at = spec.lastIndexOf("@");
          const file = at > 0 ? spec.slice(0, at) : spec;
          const store = open(file, false);
          if (at > 0) return { store, run: store.getRun(spec.slice(at + 1)) };
          const candidates = store.listRuns().filter((run) => run.kind === "eval" && run.status === "done" && (run.summary as { shard?: unknown } | undefined)?.shard !== undefined);
          if (candidates.length !== 1) {
            throw badInput(candidates.length === 0 ? "holds no finished shard run (j1 eval --shard i/n)" : `holds ${candidates.length} finished shard runs (${candidates.map((run) => run.id).join(", ")}): name one as ${file}@RUN`, { file: path.resolve(file), field: "shards" });
          }
          return { store, run: store.getRun(candidates[0].id) };
        });
        const merged = mergeShards(sources, target, flags.label);
        const report = buildRunReport(target, merged.runId);
        target.saveReport(merged.runId, report);
        if (flags.json) process.stdout.write(`${JSON.stringify({ ...report, merged }, null, 2)}\n`);
        else process.stdout.write(`${renderTerminal([report])}\n`);
        console.error(`j1: merged ${merged.shards} shards into run ${merged.runId}: ${merged.items} items, ${merged.judgments} judgments in ${target.file}`);
      } finally {
        for (const store of stores.values()) store.close();
      }
    });
}
