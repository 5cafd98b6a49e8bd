import path from "node:path";
import type { Command } from "commander";
import { J1Error, badInput, errorMessage } from "../../core/errors.js";
import { ALL_SHAPED_FAMILY_IDS, type ShapedFamilyId } from "../../engines/shaped/families.js";
import { ensureShapedModel, SHAPED_MODEL_NOTE, writeShapedModel } from "../../engines/shaped/shaped-model.js";
import { ensureTinyModel, TINY_MODEL_NOTE, writeTinyModel } from "../../engines/tiny/tiny-model.js";
import { positiveInt } from "../engine-flags.js";
import { addAliasedOption } from "../output-flags.js";
import { checkOutputFile } from "../output-file.js";

const OUTPUT = { flags: "-o, --output <file>", description: "where to write it (default: the j1 cache, reused if present)", aliases: ["--out"] } as const;

export function registerModel(program: Command): void {
  const model = program.command("model").description("Models j1 makes or manages.");
  addAliasedOption(model.command("tiny").description("Write the tiny test model (a GGUF whose behaviour is a known next-token table; its verdicts mean nothing)."), OUTPUT)
    .option("--force", "with --output: overwrite an existing file", false)
    .action(async (flags: { output?: string; force: boolean }) => {
      if (flags.force && !flags.output) throw badInput("--force goes with --output FILE", { field: "--force" });
      if (flags.output) {
        const out = checkOutputFile(flags.output, "--output", { replace: flags.force });
        await writing(out, () => writeTinyModel(out));
        console.log(out);
      } else {
        console.log(await ensureTinyModel());
      }
      console.error(`j1: ${TINY_MODEL_NOTE}`);
    });
  const shaped = model
    .command("shaped")
    .description(
      "Write a test model shaped after a real family: its real tokenizer and chat template, with the tiny model's " +
        "constructed weights (a known next-token table; its verdicts mean nothing).",
    )
    .requiredOption("--family <family>", `the family: ${ALL_SHAPED_FAMILY_IDS.join(" | ")}`);
  addAliasedOption(shaped, OUTPUT)
    .option("--force", "with --output: overwrite an existing file", false)
    .option("--width <n>", "embedding width (default 64; e.g. 512 for a model whose cost is real matrix products)", positiveInt("--width"))
    .option("--layers <n>", "layers (default 2)", positiveInt("--layers"))
    .option("--tokenizer-dir <dir>", "a directory with a Hugging Face tokenizer.json + tokenizer_config.json (default: the family's @lenml/tokenizer-* dev dependency)")
    .action(async (flags: { family: string; output?: string; force: boolean; width?: number; layers?: number; tokenizerDir?: string }) => {
      if (!(ALL_SHAPED_FAMILY_IDS as readonly string[]).includes(flags.family)) {
        throw new J1Error("bad-input", `--family: "${flags.family}" is not one of ${ALL_SHAPED_FAMILY_IDS.join(", ")}`, { context: { field: "--family" } });
      }
      if (flags.force && !flags.output) throw badInput("--force goes with --output FILE", { field: "--force" });
      const out = flags.output === undefined ? undefined : checkOutputFile(flags.output, "--output", { replace: flags.force });
      const options = {
        family: flags.family as ShapedFamilyId,
        width: flags.width,
        layers: flags.layers,
        tokenizerDir: flags.tokenizerDir === undefined ? undefined : path.resolve(flags.tokenizerDir),
      };
      if (out !== undefined) {
        await writing(out, () => writeShapedModel(out, options));
        console.log(out);
      } else {
        console.log(await ensureShapedModel(options));
      }
      console.error(`j1: ${SHAPED_MODEL_NOTE}`);
    });
}

/** A model file j1 cannot write where --output says (a folder, a read-only place) is refused naming the path. */
async function writing(file: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string" && ["EISDIR", "ENOTDIR", "EEXIST", "EACCES", "EPERM", "EROFS", "ENOENT"].includes(code)) {
      throw badInput(`cannot write the model here (${errorMessage(error)})`, { file, field: "--output" });
    }
    throw error;
  }
}
