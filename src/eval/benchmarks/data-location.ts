import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { badInput } from "../../core/errors.js";

/**
 * The project root: the nearest folder above this module whose package.json is j1's. Found by walking up
 * rather than by a fixed "../../.." so it holds both for compiled code (dist/src/...) and for sources.
 */
export function projectRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "j1-judge") return folder;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
}

/**
 * Where the real benchmark files live: `$J1_BENCHMARKS_DIR` when set, else `../shared/benchmarks` next to
 * the project (the copies the project is developed and tested against; never copied into the project).
 */
export function sharedBenchmarksDir(): string {
  const fromEnv = process.env.J1_BENCHMARKS_DIR;
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  return resolve(projectRoot(), "../shared/benchmarks");
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The data to load: `options.data` when given (it must exist), else the default under the shared
 * benchmarks folder; when neither exists the error says how to pass --data.
 */
export function resolveData(benchmark: string, data: string | undefined, defaultRelative: string, expected: string): string {
  if (data !== undefined) {
    const path = resolve(data);
    if (!existsSync(path)) throw badInput(`--data for ${benchmark} does not exist`, { file: path });
    return path;
  }
  const path = join(sharedBenchmarksDir(), defaultRelative);
  if (!existsSync(path)) {
    throw badInput(`no data for ${benchmark}: the default ${path} does not exist; pass --data with ${expected}`, { file: path });
  }
  return path;
}

/** The --data entries of a benchmark as a list (one string, several, or none). */
export function dataList(data: string | string[] | undefined): string[] {
  if (data === undefined) return [];
  return typeof data === "string" ? [data] : data;
}

/**
 * Every path to read, in order: each --data entry (each must exist; the same one twice is refused), else
 * the default under the shared benchmarks folder.
 */
export function resolveDataPaths(benchmark: string, data: string | string[] | undefined, defaultRelative: string, expected: string): string[] {
  const entries = dataList(data);
  if (entries.length === 0) return [resolveData(benchmark, undefined, defaultRelative, expected)];
  const paths = entries.map((entry) => resolveData(benchmark, entry, defaultRelative, expected));
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path)) throw badInput(`--data for ${benchmark} names this file twice`, { file: path, field: "--data" });
    seen.add(path);
  }
  return paths;
}

/**
 * The prefix of ids made from row numbers in the index-th --data entry: none for the first (so a run on
 * one file keeps its ids), "data2/", "data3/", ... after it, so rows 1 of two files stay two items.
 */
export function dataPrefix(index: number): string {
  return index === 0 ? "" : `data${index + 1}/`;
}
