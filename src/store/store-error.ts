import { J1Error, errorMessage } from "../core/errors.js";

/**
 * Every failure below the repository interface becomes a J1Error("store") that names the store file and
 * what was being done, so "SQLITE_BUSY" or "disk I/O error" reaches the user with enough context to act.
 * Busy and locked databases are marked retryable: another process held the write lock longer than the
 * busy timeout.
 */
export function storeError(file: string, operation: string, cause: unknown): J1Error {
  if (cause instanceof J1Error) return cause;
  const sqliteCode = (cause as { code?: unknown } | null)?.code;
  const code = typeof sqliteCode === "string" ? sqliteCode : undefined;
  return new J1Error("store", `run store ${file}: ${operation} failed: ${errorMessage(cause)}`, {
    context: { file, operation, sqliteCode: code },
    retryable: code === "SQLITE_BUSY" || code === "SQLITE_LOCKED",
    cause,
  });
}
