import type { ScalingOptions } from "../core/budget.js";
import type { ChatFormatChoice } from "../judge/prompt-format.js";
import type { EngineConfig } from "../engines/create-engine.js";
import type { JudgingOptions } from "../jobs/item-plan.js";
import type { Benchmark, OrderProtocol } from "./types.js";
import type { Shard } from "./shard.js";

/** `--order` for the pairs benchmark: the pair as the file gives it, one seeded random order, or both orders. */
export type PairOrder = "as-given" | "shuffle" | "both";
export const PAIR_ORDERS: readonly PairOrder[] = ["as-given", "shuffle", "both"];
/** The benchmarks `--order` applies to (the others keep their official protocol). */
export const ORDER_BENCHMARKS: readonly string[] = ["pairs"];

/**
 * Everything that decides an eval run's judgments, as stored with the run: `--resume RUN` rebuilds the
 * same run from this alone (engine speed settings such as threads may be changed on resume; they do not
 * change verdicts).
 */
export interface EvalSettings extends Omit<JudgingOptions, "scaling" | "finalPoint"> {
  benchmarks: string[];
  /**
   * Per benchmark: local data files (--data, repeatable), read in order. Runs stored before repeats were
   * read have one string here; `dataFiles` reads both.
   */
  data: Record<string, string[] | string>;
  /**
   * The pairs benchmark's order (--order). Absent in runs stored before the flag: as given, which was the
   * only order then, so such a run resumes as it started.
   */
  order?: PairOrder;
  /** Per benchmark: the protocol variant (--variant); absent: the official protocol. */
  variants?: Record<string, string>;
  /** `--shard i/n`: judge only this share of the items (eval/shard.ts); `j1 runs merge` joins the shards. */
  shard?: Shard;
  /** Items per benchmark (a grouped benchmark is completed to the end of the last group). */
  limit?: number;
  skipBad: boolean;
  /** Field mapping for the generic pairs loader. */
  map?: Record<string, string>;
  engine: Omit<EngineConfig, "apiKey" | "onDownloadProgress">;
  chatFormat: ChatFormatChoice;
  chatTemplateFile?: string;
  reasoning?: string;
  /** Every field set (j1's defaults filled in), as the run was started. */
  scaling: ScalingOptions;
}

/** The data files given for a benchmark, in order (a string in settings stored before repeats were read). */
export function dataFiles(settings: Pick<EvalSettings, "data">, benchmark: string): string[] | undefined {
  const data = Object.hasOwn(settings.data ?? {}, benchmark) ? settings.data[benchmark] : undefined;
  if (data === undefined) return undefined;
  return typeof data === "string" ? [data] : data;
}

/**
 * The order protocol a run uses for a benchmark: the benchmark's official one, except where --order
 * chose another for the pairs benchmark. Runs stored before --order existed have none: the official one.
 */
export function effectiveProtocol(settings: Pick<EvalSettings, "order">, benchmark: Pick<Benchmark, "name" | "protocol">): OrderProtocol {
  if (settings.order === undefined || !ORDER_BENCHMARKS.includes(benchmark.name)) return benchmark.protocol;
  return settings.order === "as-given" ? "as-is" : settings.order;
}
