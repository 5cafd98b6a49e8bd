/**
 * The worker thread behind cli-in-process.ts: runs `main` (src/cli/main.ts) for each invocation it is sent,
 * one at a time, and answers with the exit code (process.exitCode), what was written to stdout and stderr,
 * and any exception thrown outside main's promise (an unhandled 'error' event, say) with its stack.
 *
 * A thread of its own, so the capture sees only the CLI's output (the test runner reports through the
 * test process's stdout) and a SIGTERM sent to stop a service that started reaches only the CLI's
 * listeners (the test runner ends its process on one).
 */
import { parentPort } from "node:worker_threads";
import { main } from "../../src/cli/main.js";

export interface CliRun {
  args: string[];
  /** process.exitCode when main resolved (0 when unset). */
  code: number;
  stdout: string;
  stderr: string;
  /** Still running after the time limit (a server that started, say): stopped with SIGTERM. */
  timedOut: boolean;
  /** An exception thrown outside main's promise while it ran. */
  crash?: string;
}

async function runNow(args: string[], timeoutMs: number): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  let crash: string | undefined;
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (append: (text: string) => void) =>
    function (chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };
  const onCrash = (error: unknown) => {
    crash = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  };
  process.stdout.write = capture((text) => (stdout += text)) as typeof process.stdout.write;
  process.stderr.write = capture((text) => (stderr += text)) as typeof process.stderr.write;
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  process.exitCode = undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const finished = main(["node", "j1", ...args]).then(() => "done" as const);
    const limit = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs)));
    if ((await Promise.race([finished, limit])) === "late") {
      timedOut = true;
      // A server or a run that started: stop it as the user would (serve and long runs honour SIGTERM).
      process.emit("SIGTERM", "SIGTERM");
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    // Let errors thrown on the next turns (stream 'error' events) surface while the capture is on.
    await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    clearTimeout(timer);
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
  const code = typeof process.exitCode === "number" ? process.exitCode : Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { args, code, stdout, stderr, timedOut, ...(crash === undefined ? {} : { crash }) };
}

let queue: Promise<unknown> = Promise.resolve();
parentPort?.on("message", (message: { id: number; args: string[]; timeoutMs: number }) => {
  queue = queue.then(async () => {
    const run = await runNow(message.args, message.timeoutMs).catch((error: unknown) => ({ args: message.args, code: -1, stdout: "", stderr: "", timedOut: false, crash: String((error as Error)?.stack ?? error) }));
    parentPort?.postMessage({ id: message.id, run });
  });
});
