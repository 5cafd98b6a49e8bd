import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { CHAT_FORMATS, isChatFormatName } from "../../core/chat-format.js";
import { badInput } from "../../core/errors.js";
import { DEFAULT_PAIRWISE_TEMPLATE, type JudgeTemplate } from "../../core/template.js";
import { writeOpenRlhfJsonl } from "../../data/export-openrlhf.js";
import { writeVerlParquet } from "../../data/export-verl.js";
import { buildRlExamples } from "../../data/rl-examples.js";
import { PAIR_BENCHMARK_NAMES, preferencePairs } from "../../data/pair-source.js";
import { integerFlag } from "../engine-flags.js";
import { collectFieldMap, parseFieldMap } from "../field-map.js";
import { readTemplateFile } from "../../judge/template-file.js";

interface DataRlFlags {
  input?: string;
  bench?: string;
  data?: string;
  map?: string;
  openrlhf?: string;
  verl?: string;
  template?: string;
  chatFormat: string;
  pairLabels: boolean;
  dataSource?: string;
  ability: string;
  split: string;
  limit?: number;
  force: boolean;
}

/** --map renames the columns of a pairs file: with a benchmark loader other than pairs it would do nothing. */
export function refuseIdleMap(map: string | undefined, bench: string | undefined): void {
  if (map !== undefined && bench !== undefined && bench !== "pairs") throw badInput(`renames the columns of a pairs file (--input, or --bench pairs); ${bench} is read by its own loader`, { field: "--map" });
}

/** The `data` group is shared with other data commands (`j1 data sft`): find it or create it. */
export function dataCommand(program: Command): Command {
  return program.commands.find((command) => command.name() === "data") ?? program.command("data").description("Build training data for the judge: SFT traces, RL prompts with labels.");
}

export function registerDataRl(program: Command): void {
  dataCommand(program)
    .command("rl")
    .description("RL prompts with labels from preference pairs: both orders of every pair (balanced A/B), rendered with the judge template, for OpenRLHF (JSONL) and verl (Parquet).")
    .option("-i, --input <file>", "pairs: JSONL, JSON array, CSV or Parquet with question, a, b, label (A or B), optional id, context, category (--map renames)")
    .option("--bench <name>", `or take the pairs from a benchmark loader (ties are skipped): ${PAIR_BENCHMARK_NAMES.join(", ")} (pairs: with --data and --map)`)
    .option("--data <path>", "with --bench: the benchmark's local file or folder")
    .option("--map <mapping>", "with --input or --bench pairs: field mapping, e.g. question=prompt,a=chosen,b=rejected,label=label (repeatable)", collectFieldMap)
    .option("--openrlhf <file>", "write OpenRLHF JSONL ({input, label, ...}; train with --data.input_key input --data.label_key label)")
    .option("--verl <file>", "write verl Parquet (data_source, prompt, ability, reward_model, extra_info)")
    .option("--template <file>", "judge template JSON (default: j1's pairwise template)")
    .option("--chat-format <name>", `chat format of the OpenRLHF prompt text: ${CHAT_FORMATS.join(", ")}`, "chatml")
    .option("--pair-labels", 'OpenRLHF labels as {"verdict","pair","order"} (for j1 reward serve --consistency)', false)
    .option("--data-source <name>", "verl data_source (default: j1/<bench> or j1/pairs)")
    .option("--ability <name>", "verl ability tag", "judge")
    .option("--split <name>", "verl extra_info.split", "train")
    .option("--limit <n>", "use only the first n pairs", integerFlag("--limit", 1))
    .option("--force", "overwrite existing output files", false)
    .addHelpText(
      "after",
      `
Examples:
  j1 data rl --input pairs.jsonl --openrlhf rl.jsonl --verl rl.parquet
  j1 data rl --bench judgebench --verl judgebench-rl.parquet --limit 100`,
    )
    .action(async (flags: DataRlFlags, self: Command) => {
      await runDataRl(flags, (name) => self.getOptionValueSource(name) === "cli");
    });
}

async function runDataRl(flags: DataRlFlags, given: (name: string) => boolean): Promise<void> {
  if ((flags.input === undefined) === (flags.bench === undefined)) throw badInput("give exactly one of --input FILE or --bench NAME", { field: "--input / --bench" });
  if (flags.data !== undefined && flags.bench === undefined) throw badInput("goes with --bench (an --input file is read directly)", { field: "--data" });
  for (const [flag, value] of [["--ability", flags.ability], ["--split", flags.split], ["--data-source", flags.dataSource]] as const) {
    if (value !== undefined && value.trim() === "") throw badInput("must not be empty (verl groups and filters rows by it)", { field: flag });
  }
  if (flags.openrlhf === undefined && flags.verl === undefined) throw badInput("give at least one output: --openrlhf FILE and/or --verl FILE", { field: "--openrlhf / --verl" });
  // A flag of the output not asked for would do nothing: refused, naming it.
  for (const [name, flag, output, present] of [
    ["dataSource", "--data-source", "--verl", flags.verl],
    ["ability", "--ability", "--verl", flags.verl],
    ["split", "--split", "--verl", flags.verl],
    ["pairLabels", "--pair-labels", "--openrlhf", flags.openrlhf],
    ["chatFormat", "--chat-format", "--openrlhf", flags.openrlhf],
  ] as const) {
    if (given(name) && present === undefined) throw badInput(`goes with ${output} FILE: it sets that output only`, { field: flag });
  }
  refuseIdleMap(flags.map, flags.bench);
  if (!isChatFormatName(flags.chatFormat)) throw badInput(`unknown chat format "${flags.chatFormat}"; known: ${CHAT_FORMATS.join(", ")}`, { field: "--chat-format" });
  const limit = flags.limit;
  const template: JudgeTemplate = flags.template ? await readTemplateFile(flags.template) : DEFAULT_PAIRWISE_TEMPLATE;
  if (template.kind !== "pairwise") throw badInput(`template "${template.name}" is ${template.kind}; RL pairs need a pairwise template`, { file: flags.template });

  for (const file of [flags.openrlhf, flags.verl]) {
    // Checked before the work, not only when writing, so a long build does not end in "exists already".
    if (file !== undefined && !flags.force && existsSync(file)) throw badInput("exists already (use --force to overwrite)", { file: path.resolve(file) });
  }

  const source = preferencePairs(flags.input !== undefined ? { input: path.resolve(flags.input), map: parseFieldMap(flags.map) } : { bench: flags.bench, data: flags.data, map: parseFieldMap(flags.map) });
  const skipped = source.skipped;
  const pairs = source.read();
  const { examples, summary } = await buildRlExamples(pairs, { template, chatFormat: flags.chatFormat, limit });
  if (examples.length === 0) throw badInput("no pairs to export", { file: flags.input ?? flags.data });

  if (flags.openrlhf !== undefined) {
    await writeOpenRlhfJsonl(path.resolve(flags.openrlhf), examples, { labels: flags.pairLabels ? "pair" : "plain" }, flags.force);
    console.log(path.resolve(flags.openrlhf));
  }
  if (flags.verl !== undefined) {
    const dataSource = flags.dataSource ?? `j1/${flags.bench ?? "pairs"}`;
    await writeVerlParquet(path.resolve(flags.verl), examples, { dataSource, ability: flags.ability, split: flags.split }, flags.force);
    console.log(path.resolve(flags.verl));
  }
  console.error(
    `j1: ${summary.pairs} pairs -> ${summary.examples} examples (both orders; labels A ${summary.labels.A}, B ${summary.labels.B})` +
      (skipped.ties > 0 ? `; ${skipped.ties} tie pairs skipped` : ""),
  );
  if (summary.specialTokenText > 0) {
    console.error(
      `j1: warning: in ${summary.specialTokenText} examples a judged response holds text that looks like a special token (<|im_end|>, </s>, ...); ` +
        "a trainer that tokenizes the prompt text with special tokens enabled will read it as a real one",
    );
  }
}

