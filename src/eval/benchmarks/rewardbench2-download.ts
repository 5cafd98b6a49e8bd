import { existsSync } from "node:fs";
import { join } from "node:path";
import { J1Error } from "../../core/errors.js";
import { j1CacheDir } from "../../engines/cache-dir.js";
import { downloadParquet, stderrProgress, type DownloadProgress } from "./rewardbench-download.js";

/** The hub's one data file of allenai/reward-bench-2 (config "default", split "test", 1865 rows). */
const FILE_NAME = "test-00000-of-00001.parquet";

export const REWARDBENCH2_FIELDS = "id, prompt, chosen (list), rejected (list), num_correct, num_incorrect, total_completions, models (list), subset, additional_metadata";

/** The split on the Hugging Face hub; `$HF_ENDPOINT` is honoured as for RewardBench (a mirror, or a test server). */
export function rewardBench2Url(): string {
  const endpoint = (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  return `${endpoint}/datasets/allenai/reward-bench-2/resolve/main/data/${FILE_NAME}`;
}

/** <j1 cache>/datasets/reward-bench-2/test-00000-of-00001.parquet. */
export function rewardBench2CachePath(): string {
  return join(j1CacheDir(), "datasets", "reward-bench-2", FILE_NAME);
}

/**
 * The download reuses RewardBench's (a .part file renamed only once whole and Parquet, progress, idle
 * timeout); its errors name RewardBench 1's split and fields, so they are re-worded here for this one.
 */
function reworded(error: unknown, url: string): unknown {
  if (!(error instanceof J1Error) || !error.message.startsWith("could not download")) return error;
  const afterUrl = error.message.indexOf(`${url}: `);
  const end = error.message.indexOf(". Without network access");
  const problem = afterUrl >= 0 && end > afterUrl ? error.message.slice(afterUrl + url.length + 2, end) : error.message;
  return new J1Error(
    "bad-input",
    `could not download RewardBench 2 (allenai/reward-bench-2, split "test") from ${url}: ${problem}. ` +
      `Without network access, pass --data FILE with a local copy (Parquet, JSONL or JSONL.gz with the fields ${REWARDBENCH2_FIELDS}).`,
    { context: { url }, retryable: error.isRetryable, cause: error },
  );
}

/** The cached split, downloaded first (with progress on stderr) when absent. */
export async function ensureRewardBench2(options: { onProgress?: (progress: DownloadProgress) => void } = {}): Promise<string> {
  const destination = rewardBench2CachePath();
  if (existsSync(destination)) return destination;
  const url = rewardBench2Url();
  try {
    await downloadParquet(url, destination, { onProgress: options.onProgress ?? stderrProgress("downloading RewardBench 2 (test split)") });
  } catch (error) {
    throw reworded(error, url);
  }
  return destination;
}
