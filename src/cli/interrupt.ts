/**
 * Ctrl-C on a long run: the first stops taking new work and lets the judgments in flight finish (each is
 * committed, so `--resume` continues from there); the second quits at once.
 */
export function stopOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error("\nj1: stopping after the judgments in flight (Ctrl-C again to quit now); resume with --resume");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onSignal) };
}
