import path from "node:path";
import type { Command } from "commander";
import { ensureTinyModel, TINY_MODEL_NOTE, writeTinyModel } from "../../engines/tiny/tiny-model.js";

export function registerModel(program: Command): void {
  const model = program.command("model").description("Models j1 makes or manages.");
  model
    .command("tiny")
    .description("Write the tiny test model (a GGUF whose behaviour is a known next-token table; its verdicts mean nothing).")
    .option("--out <file>", "where to write it (default: the j1 cache, reused if present)")
    .action(async (flags: { out?: string }) => {
      if (flags.out) {
        await writeTinyModel(path.resolve(flags.out));
        console.log(path.resolve(flags.out));
      } else {
        console.log(await ensureTinyModel());
      }
      console.error(`j1: ${TINY_MODEL_NOTE}`);
    });
}
