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
  private readonly tallies = new Map<string, { times: number; entry: { type: "other"; message: string } }>();

  get all(): readonly EngineWarning[] {
    return this.entries;
  }

  unsupported(setting: string, details?: string): void {
    this.add(`unsupported:${setting}`, { type: "unsupported", setting, details });
  }

  other(key: string, message: string): void {
    this.add(`other:${key}`, { type: "other", message });
  }

  /**
   * A warning about something that happens many times, one entry whose message says how often: the
   * message is rewritten at each call with the count so far.
   */
  tally(key: string, message: (times: number) => string): void {
    const counted = `tally:${key}`;
    const times = (this.tallies.get(counted)?.times ?? 0) + 1;
    const entry = this.tallies.get(counted)?.entry ?? { type: "other" as const, message: "" };
    entry.message = message(times);
    if (times === 1) this.entries.push(entry);
    this.tallies.set(counted, { times, entry });
  }

  private add(key: string, warning: EngineWarning): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push(warning);
  }
}
