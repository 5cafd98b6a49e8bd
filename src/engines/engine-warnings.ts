/**
 * What an engine could not do as asked, as data (AI SDK style): recorded on the engine, shown by reports,
 * never a failure. One entry per setting: a run of ten thousand judgments warns once, not ten thousand times.
 */
export type EngineWarning = { type: "unsupported"; setting: string; details?: string } | { type: "other"; message: string };

/** One line of text for a warning, as stderr and the reports show it. */
export function warningText(warning: EngineWarning): string {
  return warning.type === "unsupported" ? `${warning.setting} not supported${warning.details ? `: ${warning.details}` : ""}` : warning.message;
}

export class WarningLog {
  private readonly entries: EngineWarning[] = [];
  private readonly seen = new Set<string>();

  get all(): readonly EngineWarning[] {
    return this.entries;
  }

  unsupported(setting: string, details?: string): void {
    this.add(`unsupported:${setting}`, { type: "unsupported", setting, details });
  }

  other(key: string, message: string): void {
    this.add(`other:${key}`, { type: "other", message });
  }

  private add(key: string, warning: EngineWarning): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push(warning);
  }
}
