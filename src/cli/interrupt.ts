/**
 * Ctrl-C (or SIGTERM) on a long run: the first stops taking new work and lets the judgments in flight finish (each is
 * committed, so `--resume` continues from there); the second quits at once.
 */
export function stopOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error("\nj1: stopping after the judgments in flight (Ctrl-C again to quit now); resume with --resume");
    controller.abort();
  };
  // SIGTERM (a scheduler, `timeout`, docker stop) is honoured the same way: finish what is in flight, stop.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
