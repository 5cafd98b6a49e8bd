/**
 * Whether node-llama-cpp's samplers run one at a time (docs/engine-facts.md, "Batched sampling race").
 *
 * node-llama-cpp 3.21.1 samples the sequences of one batch concurrently, one libuv pool job each, and the
 * first logits read of each job runs llama.cpp's `output_reorder()`, which swaps rows of the batch's logits
 * in place with no lock: concurrent samplers read rows mid-swap, or swap them back. With one pool thread
 * the jobs run one after another and every sequence reads its own row. The pool is sized from
 * UV_THREADPOOL_SIZE when it first starts, which for an ES module program is before its first line runs;
 * `bin/j1` (CommonJS) sets it in time. No dependencies: the CLI reads it without loading the engine.
 */
export function samplersSerialised(): boolean {
  return process.env.UV_THREADPOOL_SIZE === "1";
}

/** What to do about it, for the engine's warning (one place, so the CLI and the library say the same). */
export const SAMPLING_RACE_ADVICE =
  "node-llama-cpp 3.21.1 samples batched sequences on parallel libuv threads, and llama.cpp's unlocked logits reorder then hands some sequences wrong tokens (measured on a 151,936-token vocabulary); run through the j1 command (bin/j1 starts Node with one pool thread), or start Node with UV_THREADPOOL_SIZE=1 in its environment (setting process.env inside an ES module program is too late), or use one sequence";
