import type { Llama } from "node-llama-cpp";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { J1Error, errorMessage } from "../../core/errors.js";

/**
 * One llama.cpp runtime per process, CPU only, never building from source (a build needs a toolchain and
 * ten minutes). Which binary: node-llama-cpp's prebuilt one, or the native local build that
 * `scripts/build-node-llama-cpp.sh` makes from the same llama.cpp source (this CPU's instruction sets,
 * AMX off; `bench/native-binding.ts` compares the two with llama-server). The script leaves a record,
 * `<node-llama-cpp>/llama/localBuilds/j1-native.json`, with the custom cmake options it built with;
 * node-llama-cpp names a local build's folder by a hash of those options and `getLlama({build: "never",
 * cmakeOptions})` loads that folder when it exists, else the prebuilt binary. So passing the record's
 * options is how j1 asks for the native build.
 *
 * `J1_LLAMA_BINDING` chooses: `auto` (default: the native build when its record is current, else the
 * prebuilt binary), `native` (refuse to run without it), `prebuilt` (never a local build). What actually
 * loaded is read back from node-llama-cpp (`llama.buildType`, the build's cmake options) and reported as
 * the engine's `binding` (`j1 judge --json`, a run's summary, `j1 serve`'s /health).
 */
let runtime: Promise<Llama> | undefined;
let loaded: RuntimeBinding | undefined;

/** scripts/build-node-llama-cpp.sh's `recipe`: a record of another recipe is not used. Keep in sync. */
export const NATIVE_BUILD_RECIPE = 1;
export const BINDING_ENV = "J1_LLAMA_BINDING";
export type BindingChoice = "auto" | "native" | "prebuilt";
/** The cmake option the build script adds (unused by cmake): marks a local build as j1's native one. */
const RECIPE_OPTION = "J1_NATIVE_RECIPE";
/**
 * For `prebuilt`: a custom cmake option no build has, so node-llama-cpp finds no local build folder and
 * loads its prebuilt binary (with `existingPrebuiltBinaryMustMatchBuildOptions` off, the default, the
 * prebuilt binary is chosen without regard to custom options). node-llama-cpp has no switch for "no
 * local builds"; this leaves node_modules untouched.
 */
const NO_LOCAL_BUILD = { J1_PREBUILT_ONLY: "1" };

export interface NativeBuildRecord {
  recipe: number;
  folderName: string;
  cmakeOptions: Record<string, string>;
  cpuFlags: string;
  built?: string;
  seconds?: number;
}

/** What j1 runs, as reported: "prebuilt", "native (local build)", or "local build" (one j1 did not make). */
export interface RuntimeBinding {
  binding: string;
  /** Why the native build was not used although one is recorded (another CPU, an older recipe). */
  bindingNote?: string;
}

export function bindingChoice(env: NodeJS.ProcessEnv = process.env): BindingChoice {
  const value = (env[BINDING_ENV] ?? "").trim() || "auto";
  if (value === "auto" || value === "native" || value === "prebuilt") return value;
  throw new J1Error("bad-input", `${BINDING_ENV}=${value}: expected auto, native or prebuilt`, { context: { field: BINDING_ENV } });
}

/** The node-llama-cpp package j1 imports. */
export function nodeLlamaCppDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))), "..");
}

export function nativeBuildRecordPath(): string {
  return path.join(nodeLlamaCppDir(), "llama", "localBuilds", "j1-native.json");
}

/** The `flags` line of /proc/cpuinfo, trimmed, as scripts/lib/ggml-cpu-options.sh reads it ("" off x86 Linux). */
export function cpuFlagsLine(): string {
  if (process.platform !== "linux" || process.arch !== "x64") return "";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((entry) => entry.startsWith("flags"));
    return line === undefined ? "" : line.slice(line.indexOf(":") + 1).trim();
  } catch {
    return "";
  }
}

/** The native build's record when it can be used on this machine; else why not (undefined: none made). */
export function readNativeBuild(file = nativeBuildRecordPath()): { record?: NativeBuildRecord; skipped?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  let record: NativeBuildRecord;
  try {
    record = JSON.parse(text) as NativeBuildRecord;
  } catch (error) {
    return { skipped: `${file} is not JSON (${errorMessage(error)})` };
  }
  if (typeof record.folderName !== "string" || typeof record.cmakeOptions !== "object" || record.cmakeOptions === null) return { skipped: `${file} is not a native build record` };
  if (record.recipe !== NATIVE_BUILD_RECIPE) return { skipped: `the native build is of recipe ${record.recipe}, this j1 uses recipe ${NATIVE_BUILD_RECIPE}: run scripts/build-node-llama-cpp.sh again` };
  if (record.cpuFlags !== cpuFlagsLine()) return { skipped: "the native build was made on a CPU with other instruction sets: run scripts/build-node-llama-cpp.sh on this machine" };
  return { record };
}

/** What node-llama-cpp loaded, read from the runtime itself. */
export function bindingOf(llama: Pick<Llama, "buildType" | "cmakeOptions">): string {
  if (llama.buildType === "prebuilt") return "prebuilt";
  return llama.cmakeOptions[RECIPE_OPTION] !== undefined ? "native (local build)" : "local build";
}

export function getRuntime(): Promise<Llama> {
  runtime ??= loadRuntime();
  return runtime;
}

/** The binding of the runtime loaded in this process (after `getRuntime()` resolved). */
export function runtimeBinding(): RuntimeBinding | undefined {
  return loaded && { ...loaded };
}

async function loadRuntime(): Promise<Llama> {
  const choice = bindingChoice();
  const native = choice === "prebuilt" ? {} : readNativeBuild();
  if (choice === "native" && !native.record) {
    throw new J1Error("engine", `${BINDING_ENV}=native, but there is no native build to use${native.skipped ? `: ${native.skipped}` : ": run scripts/build-node-llama-cpp.sh"}`);
  }
  const cmakeOptions = choice === "prebuilt" ? NO_LOCAL_BUILD : native.record?.cmakeOptions;
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, cmakeOptions, logLevel: LlamaLogLevel.error, progressLogs: false });
  const binding = bindingOf(llama);
  const wanted = choice === "native" ? "native (local build)" : choice === "prebuilt" ? "prebuilt" : undefined;
  if (wanted !== undefined && binding !== wanted) {
    await llama.dispose();
    throw new J1Error("engine", `${BINDING_ENV}=${choice}, but node-llama-cpp loaded the ${binding} binary${choice === "native" ? ` (is ${native.record?.folderName} complete? run scripts/build-node-llama-cpp.sh)` : ""}`);
  }
  const note = native.skipped ?? (native.record && binding !== "native (local build)" ? `the native build in ${native.record.folderName} did not load` : undefined);
  loaded = note === undefined ? { binding } : { binding, bindingNote: note };
  return llama;
}
