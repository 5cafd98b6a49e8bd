/**
 * One error base class for all of j1: every failure carries a machine-readable code, the context a user
 * needs to act on it (file, line, field, URL, ...), and whether retrying could help. Retry policy lives in
 * one place (engines/retry.ts) and reads `isRetryable`, so engines never hand-roll their own loops.
 */
export type J1ErrorCode =
  | "bad-input"
  | "bad-template"
  | "model-load"
  | "model-download"
  | "engine"
  | "engine-http"
  | "engine-timeout"
  | "cancelled"
  | "store"
  | "unsupported";

export interface J1ErrorContext {
  file?: string;
  line?: number;
  field?: string;
  url?: string;
  status?: number;
  [key: string]: unknown;
}

export class J1Error extends Error {
  readonly code: J1ErrorCode;
  readonly context: J1ErrorContext;
  readonly isRetryable: boolean;

  constructor(
    code: J1ErrorCode,
    message: string,
    options: { context?: J1ErrorContext; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "J1Error";
    this.code = code;
    this.context = options.context ?? {};
    this.isRetryable = options.retryable ?? false;
  }
}

/** A bad-input error whose message names the place: `file:line: field: problem`. */
export function badInput(problem: string, where: { file?: string; line?: number; field?: string } = {}): J1Error {
  const place = [where.file, where.line === undefined ? undefined : String(where.line)].filter(Boolean).join(":");
  const prefix = [place, where.field === undefined ? undefined : `field "${where.field}"`].filter(Boolean).join(": ");
  return new J1Error("bad-input", prefix ? `${prefix}: ${problem}` : problem, { context: { ...where } });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
