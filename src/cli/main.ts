import { Command, CommanderError, type Option } from "commander";
import { J1Error, badInput, errorMessage } from "../core/errors.js";
import { VERSION } from "../version.js";
import { isRunRefusal, isStorePathRefusal } from "../store/store-error.js";
import { registerCommands } from "./commands/index.js";
import { rangeHelp } from "./engine-flags.js";
import { collectFieldMap } from "./field-map.js";
import { parseProgressMode } from "./progress.js";

/** Exit codes (README): 0 done, 2 bad input (a usage error, a bad flag value, file, row or field), 1 anything else. */
export const EXIT_BAD_INPUT = 2;

/**
 * The j1 CLI: each command lives in its own file under commands/ and only parses flags, calls the library
 * and prints; the work is in the library. Errors end with a message that says what to do and a non-zero
 * exit code (process.exitCode, so pending output is flushed).
 */
export async function main(argv: string[]): Promise<void> {
  // Once per process: main may be called many times in one (tests run the CLI in process), and a
  // listener per call would pile up on stdout.
  if (!process.stdout.listeners("error").includes(onStdoutError)) process.stdout.on("error", onStdoutError);
  const program = new Command()
    .name("j1")
    .description("Thinking LLM judges with simple test-time scaling (budget forcing), after J1 (Chan et al., 2025).")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    // Commander's own messages (unknown option, missing argument, bad choice) read like j1's.
    .configureOutput({ outputError: (text, write) => write(`j1: ${text}`) })
    .exitOverride();
  registerCommands(program);
  applySharedFlagRules(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    // Commander has printed its message (and the help hint) already.
    if (error instanceof CommanderError) return;
    console.error(`j1: ${errorMessage(error)}`);
    if (process.env.J1_DEBUG && error instanceof Error) console.error(error.stack);
  }
}

/** `j1 runs export RUN | head` closes the pipe early: that is the reader's choice, not an error. */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
}

/**
 * 0 for --help and --version; 2 for every usage error commander finds (unknown option or command, a
 * missing argument, a value outside a flag's choices, no subcommand) and for every error the user's input
 * caused: bad-input, a template file that is not a template, a run id the store does not hold (or holds
 * ambiguously, or with other items), a --store path that is no SQLite file j1 can open; 1 for the rest.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  if (!(error instanceof J1Error)) return 1;
  if (error.code === "bad-input" || error.code === "bad-template") return EXIT_BAD_INPUT;
  if (error.code === "store" && (isRunRefusal(error) || isStorePathRefusal(error))) return EXIT_BAD_INPUT;
  return 1;
}

/**
 * Flags that several commands share by name read the same way in all of them: `--progress` is one of the
 * progress modes, repeated `--map` flags add up (so a name mapped twice is refused), and every numeric
 * flag's --help states the range its parser enforces. A command whose flag already has a parser of its
 * own keeps it.
 */
function applySharedFlagRules(command: Command, path = ""): void {
  for (const option of command.options) {
    if (option.parseArg === undefined && option.long === "--progress") option.argParser((text: string) => parseProgressMode(text));
    if (option.parseArg === undefined && option.long === "--map") option.argParser(collectFieldMap);
    const range = rangeHelp(option.parseArg);
    if (range && !option.description.endsWith(range)) option.description += range;
    if ((option.required || option.optional) && !BLANK_ALLOWED.has(`${path} ${option.long}`)) refuseBlank(option);
  }
  for (const sub of command.commands) applySharedFlagRules(sub, `${path} ${sub.name()}`.trim());
}

/**
 * Where an empty value means something: the judge output `reward check` scores (an empty output is a
 * malformed one), and reflection markers (none, so only continued waits count).
 */
const BLANK_ALLOWED = new Set(["reward check --judge-output", "reward check --output", "data sft --reflection-markers"]);

/**
 * A flag given an empty or blank value (`--store ""`, `--label " "`, an unset shell variable) is refused,
 * naming the flag: taken as given it named the current folder, a file called " ", no label or no text.
 */
function refuseBlank(option: Option): void {
  const parse = option.parseArg as ((text: string, previous: unknown) => unknown) | undefined;
  const checked = (text: string, previous: unknown) => {
    if (text.trim() === "") throw badInput("must not be empty", { field: option.long });
    return parse ? parse(text, previous) : text;
  };
  // The range a numeric parser carries (for --help) stays readable on the wrapper.
  option.argParser(Object.assign(checked, { rule: (parse as { rule?: unknown } | undefined)?.rule }));
}
