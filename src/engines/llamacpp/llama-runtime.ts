import type { Llama } from "node-llama-cpp";

/**
 * One llama.cpp runtime per process. CPU only and never building from source: the prebuilt binary that
 * ships in node-llama-cpp's package is what runs here (a build would need a network and a toolchain).
 */
let runtime: Promise<Llama> | undefined;

export function getRuntime(): Promise<Llama> {
  runtime ??= import("node-llama-cpp").then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false }),
  );
  return runtime;
}
