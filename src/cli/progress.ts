import { badInput } from "../core/errors.js";

/**
 * Progress for long runs, on stderr so stdout stays clean for JSON: a live bar with ETA, judgments/s,
 * tokens/s and a running score on a terminal; a line every few seconds when stderr is not a terminal;
 * nothing in quiet mode; one JSON object per update in jsonl mode (for scripts).
 */
export const PROGRESS_MODES = ["auto", "bar", "lines", "quiet", "jsonl"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** The `--progress` value of every command: one of PROGRESS_MODES, else a bad-input error naming the flag. */
export function parseProgressMode(text: string, flag = "--progress"): ProgressMode {
  if ((PROGRESS_MODES as readonly string[]).includes(text)) return text as ProgressMode;
  throw badInput(`"${text}" is not a progress mode; use one of ${PROGRESS_MODES.join(", ")}`, { field: flag });
}

export interface ProgressUpdate {
  /** Tokens the engine evaluated for the finished unit. */
  tokens?: number;
  /** For a running score: whether the finished unit was right (undefined: not scored). */
  correct?: boolean;
  /**
   * The unit was not worked on now: done before this process (a resumed run) or reused from the store. It
   * counts toward done but not toward the rate, so a resumed run's ETA is not divided by its restored items.
   */
  cached?: boolean;
}

export interface ProgressSnapshot {
  done: number;
  total: number | undefined;
  elapsedSeconds: number;
  etaSeconds: number | undefined;
  perSecond: number;
  tokensPerSecond: number;
  runningScore: number | undefined;
}

export class Progress {
  private done = 0;
  /** Units ticked as cached (see ProgressUpdate.cached). */
  private cachedDone = 0;
  private tokens = 0;
  private scored = 0;
  private right = 0;
  private readonly started = performance.now();
  private lastPrint = 0;
  private readonly mode: Exclude<ProgressMode, "auto">;

  constructor(
    private readonly label: string,
    private total: number | undefined,
    mode: ProgressMode = "auto",
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Units already done before this process (a resumed run), so the ETA counts only new work. */
    private readonly alreadyDone = 0,
  ) {
    // Checked here too: a mode that reached the constructor unparsed must not silently print nothing.
    const checked = parseProgressMode(mode);
    this.mode = checked === "auto" ? (stream.isTTY ? "bar" : "lines") : checked;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(update: ProgressUpdate = {}): void {
    if (update.cached) this.cachedDone++;
    else this.done++;
    this.tokens += update.tokens ?? 0;
    if (update.correct !== undefined) {
      this.scored++;
      if (update.correct) this.right++;
    }
    this.render(false);
  }

  snapshot(): ProgressSnapshot {
    const elapsedSeconds = (performance.now() - this.started) / 1000;
    const perSecond = elapsedSeconds > 0 ? this.done / elapsedSeconds : 0;
    const before = this.alreadyDone + this.cachedDone;
    const remaining = this.total === undefined ? undefined : Math.max(0, this.total - before - this.done);
    return {
      done: before + this.done,
      total: this.total,
      elapsedSeconds,
      etaSeconds: remaining === undefined || perSecond === 0 ? undefined : remaining / perSecond,
      perSecond,
      tokensPerSecond: elapsedSeconds > 0 ? this.tokens / elapsedSeconds : 0,
      runningScore: this.scored > 0 ? (100 * this.right) / this.scored : undefined,
    };
  }

  finish(): void {
    this.render(true);
    if (this.mode === "bar") this.stream.write("\n");
  }

  private render(final: boolean): void {
    if (this.mode === "quiet") return;
    const now = performance.now();
    // jsonl is for scripts: every update, so a watcher sees each judgment land.
    const interval = this.mode === "bar" ? 100 : this.mode === "lines" ? 5000 : 0;
    if (!final && now - this.lastPrint < interval) return;
    this.lastPrint = now;
    const snap = this.snapshot();
    if (this.mode === "jsonl") {
      this.stream.write(`${JSON.stringify({ type: "progress", label: this.label, ...snap, final })}\n`);
      return;
    }
    const line = formatProgress(this.label, snap);
    if (this.mode === "bar") this.stream.write(`\r\u001b[2K${line}`);
    else this.stream.write(`${line}\n`);
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--:--";
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const two = (value: number) => String(value).padStart(2, "0");
  return hours > 0 ? `${hours}:${two(minutes)}:${two(secs)}` : `${two(minutes)}:${two(secs)}`;
}

export function formatProgress(label: string, snap: ProgressSnapshot): string {
  const width = 24;
  const fraction = snap.total ? Math.min(1, snap.done / snap.total) : 0;
  const bar = snap.total ? `[${"#".repeat(Math.round(fraction * width)).padEnd(width, ".")}] ` : "";
  const count = snap.total ? `${snap.done}/${snap.total}` : `${snap.done}`;
  // Labelled accuracy, not score: the share of finished items whose final verdict is the label (with both
  // orders, only where they agree), which is not the benchmark's official rule (RewardBench gives half a
  // point to a pair whose orders disagree); the report gives the official score.
  const score = snap.runningScore === undefined ? "" : ` accuracy ${snap.runningScore.toFixed(1)}`;
  return `${label} ${bar}${count} ${snap.perSecond.toFixed(2)}/s ${Math.round(snap.tokensPerSecond)} tok/s${score} elapsed ${formatDuration(snap.elapsedSeconds)} eta ${formatDuration(snap.etaSeconds)}`;
}

/** A download bar for model files (hf: URIs), on stderr. */
export function downloadProgress(label: string, stream: NodeJS.WriteStream = process.stderr): (status: { downloadedSize: number; totalSize: number }) => void {
  let last = 0;
  const started = performance.now();
  return ({ downloadedSize, totalSize }) => {
    const now = performance.now();
    const finished = totalSize > 0 && downloadedSize >= totalSize;
    if (!finished && now - last < 200) return;
    last = now;
    const megabytes = (bytes: number) => (bytes / 1048576).toFixed(1);
    const fraction = totalSize > 0 ? downloadedSize / totalSize : 0;
    const rate = downloadedSize / Math.max(0.001, (now - started) / 1000);
    const eta = totalSize > 0 && rate > 0 ? (totalSize - downloadedSize) / rate : undefined;
    const bar = `[${"#".repeat(Math.round(fraction * 24)).padEnd(24, ".")}]`;
    const line = `${label} ${bar} ${megabytes(downloadedSize)}/${megabytes(totalSize)} MB ${megabytes(rate)} MB/s eta ${formatDuration(eta)}`;
    stream.write(stream.isTTY ? `\r\u001b[2K${line}${finished ? "\n" : ""}` : `${line}\n`);
  };
}
