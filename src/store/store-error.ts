import { statSync } from "node:fs";
import { J1Error, errorMessage } from "../core/errors.js";

/**
 * Every failure below the repository interface becomes a J1Error("store") that names the store file and
 * what was being done, so "SQLITE_BUSY" or "disk I/O error" reaches the user with enough context to act.
 * Busy and locked databases are marked retryable: another process held the write lock longer than the
 * busy timeout.
 *
 * A store that cannot be opened because of the path the user gave (a folder, a file that is not SQLite,
 * one j1 may not read or write, a parent that is a file) is the user's input, not a failure of j1: it is
 * refused with the path and what to pass instead, and `isStorePathRefusal` tells it (the CLI exits 2).
 */
export function storeError(file: string, operation: string, cause: unknown): J1Error {
  if (cause instanceof J1Error) return cause;
  const sqliteCode = (cause as { code?: unknown } | null)?.code;
  const code = typeof sqliteCode === "string" ? sqliteCode : undefined;
  if (operation === "open" && code === "J1_NEWER_SCHEMA") {
    return new J1Error("store", `run store ${file}: ${errorMessage(cause)}`, { context: { file, operation, field: "--store", pathRefused: true }, cause });
  }
  if (operation === "open" && code !== undefined && PATH_CODES.has(code)) {
    return new J1Error("store", `run store ${file}: ${pathProblem(file, code, cause)}; pass --store (or $J1_STORE) a SQLite file j1 can read and write, or a new file in a writable folder`, {
      context: { file, operation, sqliteCode: code, field: "--store", pathRefused: true },
      cause,
    });
  }
  return new J1Error("store", `run store ${file}: ${operation} failed: ${errorMessage(cause)}`, {
    context: { file, operation, sqliteCode: code },
    retryable: code === "SQLITE_BUSY" || code === "SQLITE_LOCKED",
    cause,
  });
}

/** Open failures that come from the path itself: SQLite's, and the file system's (creating the folder). */
const PATH_CODES = new Set(["SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "EROFS", "EEXIST"]);

function pathProblem(file: string, code: string, cause: unknown): string {
  const kind = fileKind(file);
  if (kind === "directory") return "is a directory, not a SQLite file";
  if (code === "SQLITE_NOTADB") return "is not a SQLite database";
  if (code === "ENOTDIR" || code === "EEXIST") return `cannot be created: a part of its folder is a file (${errorMessage(cause)})`;
  if (code === "SQLITE_READONLY" || code === "EROFS") return "is read-only";
  return `cannot be opened (${errorMessage(cause)})`;
}

function fileKind(file: string): "directory" | "file" | "missing" {
  try {
    return statSync(file).isDirectory() ? "directory" : "file";
  } catch {
    return "missing";
  }
}

/** A store that could not be opened at the path given (see storeError). */
export function isStorePathRefusal(error: J1Error): boolean {
  return error.code === "store" && error.context.pathRefused === true;
}

/**
 * The store's refusals of a run the user named: no such id, an ambiguous prefix, or a resume whose data
 * gives other items. run-store.ts builds them with the store file and the run id as their whole context
 * (failures of SQLite itself come through storeError and carry the operation), which is how they are told.
 */
export function isRunRefusal(error: J1Error): boolean {
  return error.code === "store" && typeof error.context.run === "string" && typeof error.context.file === "string" && error.context.operation === undefined && error.context.item === undefined;
}
