import { Command, CommanderError } from "commander";
import { J1Error, errorMessage } from "../core/errors.js";
import { VERSION } from "../index.js";
import { registerCommands } from "./commands/index.js";

/**
 * The j1 CLI: each command lives in its own file under commands/ and only parses flags, calls the library
 * and prints; the work is in the library. Errors end with a message that says what to do and a non-zero
 * exit code (process.exitCode, so pending output is flushed).
 */
export async function main(argv: string[]): Promise<void> {
  // `j1 runs export RUN | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const program = new Command()
    .name("j1")
    .description("Thinking LLM judges with simple test-time scaling (budget forcing), after J1 (Chan et al., 2025).")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.exitCode = error instanceof J1Error && error.code === "bad-input" ? 2 : 1;
    console.error(`j1: ${errorMessage(error)}`);
    if (process.env.J1_DEBUG && error instanceof Error) console.error(error.stack);
  }
}
