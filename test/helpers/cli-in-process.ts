/**
 * The j1 CLI run through its own entry (`main` from src/cli/main.ts) without a child process, for matrices
 * of invocations that would take minutes as child processes (a spawn is mostly Node starting up). The
 * invocations run one at a time in one worker thread (cli-worker.ts), which shares this process's working
 * folder and the environment as it was when the first invocation was sent.
 *
 *   const run = await runCli(["judge", "--waits", "x"]);   // { code: 2, stdout, stderr, timedOut, crash? }
 *   await stopCli();                                         // in an after() hook
 *
 * What a child process would show and this cannot: a `process.exit` (the CLI calls it only on a second
 * Ctrl-C and on EPIPE) ends the worker, reported as a crash. What it shows that a child process would hide:
 * an exception thrown outside main's promise (an unhandled 'error' event) is caught and reported as
 * `crash`, with its stack.
 */
import { Worker } from "node:worker_threads";
import type { CliRun } from "./cli-worker.js";

export type { CliRun } from "./cli-worker.js";

let worker: Worker | undefined;
let next = 0;
const waiting = new Map<number, { resolve: (run: CliRun) => void; args: string[] }>();

function started(): Worker {
  if (worker) return worker;
  const created = new Worker(new URL("./cli-worker.js", import.meta.url));
  created.on("message", ({ id, run }: { id: number; run: CliRun }) => {
    waiting.get(id)?.resolve(run);
    waiting.delete(id);
    // Idle, the worker does not keep the test process alive.
    if (waiting.size === 0) created.unref();
  });
  // The worker ended (a process.exit in the CLI): what was waiting is answered as a crash.
  created.on("exit", (code) => {
    for (const { resolve, args } of waiting.values()) resolve({ args, code, stdout: "", stderr: "", timedOut: false, crash: `the CLI ended the process (exit ${code})` });
    waiting.clear();
    if (worker === created) worker = undefined;
  });
  created.unref();
  worker = created;
  return created;
}

/** Runs `j1 ARGS`; calls are queued, never overlapped. */
export function runCli(args: string[], options: { timeoutMs?: number } = {}): Promise<CliRun> {
  const id = ++next;
  return new Promise((resolve) => {
    waiting.set(id, { resolve, args });
    started().ref();
    started().postMessage({ id, args, timeoutMs: options.timeoutMs ?? 30_000 });
  });
}

export async function stopCli(): Promise<void> {
  await worker?.terminate();
  worker = undefined;
}

/** A Node stack frame in text ("    at foo (file.js:1:2)"): what a user must never be shown. */
export const STACK_FRAME = /\n\s+at .+(:\d+:\d+\)?|\(native\)|\(node:[^)]*\))\s*(\n|$)/;
