import { createWriteStream, existsSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { J1Error, errorMessage } from "../../core/errors.js";
import { j1CacheDir } from "../../engines/cache-dir.js";

const FILE_NAME = "filtered-00000-of-00001.parquet";

/**
 * The RewardBench `filtered` split on the Hugging Face hub. `$HF_ENDPOINT` is honoured as the Hugging
 * Face tools do, so a mirror (or a local server in tests) can stand in for huggingface.co.
 */
export function rewardBenchUrl(): string {
  const endpoint = (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  return `${endpoint}/datasets/allenai/reward-bench/resolve/main/data/${FILE_NAME}`;
}

/** Where the downloaded split is kept: <j1 cache>/datasets/reward-bench/filtered-00000-of-00001.parquet. */
export function rewardBenchCachePath(): string {
  return join(j1CacheDir(), "datasets", "reward-bench", FILE_NAME);
}

export interface DownloadProgress {
  receivedBytes: number;
  /** From Content-Length; undefined when the server does not say. */
  totalBytes?: number;
}

/** A progress line on stderr: redrawn in place on a terminal, a few plain lines otherwise. */
export function stderrProgress(label: string): (progress: DownloadProgress) => void {
  let lastShown = 0;
  let lastTenth = -1;
  return ({ receivedBytes, totalBytes }) => {
    const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);
    const text = `${label}: ${megabytes(receivedBytes)}${totalBytes ? ` / ${megabytes(totalBytes)}` : ""} MB`;
    const done = totalBytes !== undefined && receivedBytes >= totalBytes;
    if (process.stderr.isTTY) {
      const now = Date.now();
      if (done || now - lastShown > 200) {
        process.stderr.write(`\r${text}${done ? "\n" : ""}`);
        lastShown = now;
      }
    } else {
      const tenth = totalBytes ? Math.floor((10 * receivedBytes) / totalBytes) : -1;
      if (tenth !== lastTenth && (tenth % 5 === 0 || done)) process.stderr.write(`${text}\n`);
      lastTenth = tenth;
    }
  };
}

function downloadError(url: string, problem: string, cause?: unknown): J1Error {
  return new J1Error(
    "bad-input",
    `could not download RewardBench (allenai/reward-bench, split "filtered") from ${url}: ${problem}. ` +
      "Without network access, pass --data FILE with a local copy (Parquet, JSON or JSONL with the fields prompt, " +
      "chosen, chosen_model, rejected, rejected_model, subset, id).",
    { context: { url }, retryable: true, cause },
  );
}

async function isParquet(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size < 8) return false;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    await handle.read({ buffer: head, position: 0 });
    await handle.read({ buffer: tail, position: size - 4 });
    return head.toString("latin1") === "PAR1" && tail.toString("latin1") === "PAR1";
  } finally {
    await handle.close();
  }
}

/**
 * Downloads `url` to `destination` through a .part file renamed only once the whole file has arrived and
 * looks like Parquet, so an interrupted download never leaves a truncated file that a later run would
 * trust. Gives up when no byte arrives for `idleMs`.
 */
export async function downloadParquet(
  url: string,
  destination: string,
  options: { onProgress?: (progress: DownloadProgress) => void; idleMs?: number } = {},
): Promise<void> {
  const idleMs = options.idleMs ?? 60_000;
  const controller = new AbortController();
  let idleTimer = setTimeout(() => controller.abort(), idleMs);
  const touch = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => controller.abort(), idleMs);
  };
  const partial = `${destination}.part`;
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw downloadError(url, controller.signal.aborted ? `no response within ${idleMs / 1000} s` : (cause?.code ?? cause?.message ?? errorMessage(error)), error);
    }
    if (!response.ok || response.body === null) throw downloadError(url, `HTTP ${response.status} ${response.statusText}`.trim());
    const length = Number(response.headers.get("content-length"));
    const totalBytes = Number.isFinite(length) && length > 0 ? length : undefined;
    await mkdir(dirname(destination), { recursive: true });
    const output = createWriteStream(partial);
    let receivedBytes = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        receivedBytes += chunk.byteLength;
        if (!output.write(chunk)) await new Promise<void>((resolve) => output.once("drain", () => resolve()));
        options.onProgress?.({ receivedBytes, totalBytes });
      }
    } catch (error) {
      throw downloadError(url, controller.signal.aborted ? `the transfer stalled for ${idleMs / 1000} s` : `the transfer broke off (${errorMessage(error)})`, error);
    } finally {
      await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
    }
    if (totalBytes !== undefined && receivedBytes !== totalBytes) throw downloadError(url, `received ${receivedBytes} of ${totalBytes} bytes`);
    if (!(await isParquet(partial))) throw downloadError(url, "the response is not a Parquet file");
    await rename(partial, destination);
  } finally {
    clearTimeout(idleTimer);
    if (existsSync(partial)) await rm(partial, { force: true });
  }
}

/** The cached split, downloaded first when absent. */
export async function ensureRewardBench(options: { onProgress?: (progress: DownloadProgress) => void } = {}): Promise<string> {
  const destination = rewardBenchCachePath();
  if (existsSync(destination)) return destination;
  await downloadParquet(rewardBenchUrl(), destination, { onProgress: options.onProgress ?? stderrProgress("downloading RewardBench (filtered split)") });
  return destination;
}
