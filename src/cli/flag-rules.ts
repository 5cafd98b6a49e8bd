import type { Command } from "commander";
import { badInput } from "../core/errors.js";

/**
 * `--resume RUN` continues a stored run with the settings it started with, so any other setting typed with
 * it would be silently ignored (a --waits the user believes changed the run). Only the flags in `allowed`
 * (attribute names: the store, how to run, where to write) may come with it; any other is refused, naming it.
 */
export function refuseOnResume(command: Command, allowed: ReadonlySet<string>): void {
  for (const option of command.options) {
    const name = option.attributeName();
    if (allowed.has(name) || command.getOptionValueSource(name) !== "cli") continue;
    throw badInput(`a resumed run keeps the settings it started with; leave ${option.long} out (or start a new run without --resume)`, { field: option.long });
  }
}
