import { Option, type Command } from "commander";

/**
 * Output flags read one way in every command (README, "Output files"): `-o, --output <file>` is a
 * command's one output file, `--output-dir <dir>` a folder it fills, and a command that writes several
 * formats at once takes a flag per format (`j1 report --html/--md/--json`, `j1 data rl --openrlhf/--verl`,
 * `j1 data sft --stats`). The spellings j1 had before (`--out`, `--out-dir`, `reward check --output`) stay
 * as hidden aliases, so nobody's script breaks; a spelling given together with its alias is refused
 * (exit 2), naming both, rather than one of them silently winning.
 */
export interface AliasedOptionSpec {
  /** The flag as shown in --help, e.g. "-o, --output <file>". */
  flags: string;
  description: string;
  /** Earlier long spellings that still work, hidden from --help, e.g. ["--out"]. */
  aliases?: readonly string[];
  /** Refused when neither the flag nor an alias is given (commander's own "required option" message). */
  required?: boolean;
}

export function addAliasedOption(command: Command, spec: AliasedOptionSpec): Command {
  const main = new Option(spec.flags, spec.description);
  command.addOption(main);
  const argument = /\s([<[].*)$/.exec(spec.flags)?.[1] ?? "";
  // commander checks conflicts before any hook runs, so two spellings given together never reach the action.
  const aliases = (spec.aliases ?? []).map((alias) => new Option(`${alias} ${argument}`.trim()).hideHelp().conflicts(main.attributeName()));
  for (const alias of aliases) command.addOption(alias);
  command.hook("preAction", (self) => {
    for (const alias of aliases) {
      const key = alias.attributeName();
      if (self.getOptionValueSource(key) !== "cli") continue;
      // The value moves to the flag's own name (source "cli", as if written so) and the alias is cleared:
      // the action reads one name, and `--resume` logic that asks "was it given?" sees it.
      self.setOptionValueWithSource(main.attributeName(), self.getOptionValue(key), "cli");
      self.setOptionValue(key, undefined);
    }
    if (spec.required && self.getOptionValue(main.attributeName()) === undefined) {
      self.error(`error: required option '${main.flags}' not specified`, { code: "commander.missingMandatoryOptionValue" });
    }
  });
  return command;
}
