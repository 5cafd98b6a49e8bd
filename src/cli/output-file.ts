import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { badInput, errorMessage } from "../core/errors.js";

/**
 * Where a command will write a file its flag names, checked before any work: a folder, a folder that is
 * not there, a path under a file, or (unless `replace`) a file that exists already is bad input naming the
 * flag and the path (exit 2), never an EISDIR or ENOENT from deep inside a write (exit 1). Returns the
 * absolute path.
 */
export function checkOutputFile(file: string, flag: string, options: { replace: boolean; forceFlag?: string }): string {
  const absolute = path.resolve(file);
  const where = { file: absolute, field: flag };
  const folder = path.dirname(absolute);
  if (!existsSync(folder)) throw badInput(`the folder ${folder} does not exist`, where);
  if (!statSync(folder).isDirectory()) throw badInput(`${folder} is a file, not a folder`, where);
  if (existsSync(absolute)) {
    if (statSync(absolute).isDirectory()) throw badInput("is a folder; name a file to write", where);
    if (!options.replace) throw badInput(`exists already (use ${options.forceFlag ?? "--force"} to overwrite)`, where);
  }
  return absolute;
}

/** A folder a command will write into (created when missing): it must be a folder, or its parent one. */
export function checkOutputFolder(dir: string, flag: string): string {
  const absolute = path.resolve(dir);
  if (existsSync(absolute)) {
    if (!statSync(absolute).isDirectory()) throw badInput("is a file, not a folder", { file: absolute, field: flag });
    return absolute;
  }
  const parent = path.dirname(absolute);
  if (!existsSync(parent)) throw badInput(`the folder ${parent} (where it would be created) does not exist`, { file: absolute, field: flag });
  if (!statSync(parent).isDirectory()) throw badInput(`${parent} is a file, not a folder`, { file: absolute, field: flag });
  return absolute;
}

/** Writes `text` to a checked output; a failure the user can fix (permissions, a full disk) is bad input too. */
export async function writeOutputFile(file: string, flag: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (error) {
    throw badInput(`cannot write (${errorMessage(error)})`, { file, field: flag });
  }
}
