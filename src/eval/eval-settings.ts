import type { ScalingOptions } from "../core/budget.js";
import type { ChatFormatChoice } from "../judge/prompt-format.js";
import type { SamplingOptions } from "../engines/engine.js";
import type { JudgeTemplate } from "../core/template.js";
import type { EngineConfig } from "../engines/create-engine.js";
import type { Sweep } from "./sweep.js";

/**
 * Everything that decides an eval run's judgments, as stored with the run: `--resume RUN` rebuilds the
 * same run from this alone (engine speed settings such as threads may be changed on resume; they do not
 * change verdicts).
 */
export interface EvalSettings {
  benchmarks: string[];
  /** Per benchmark: a local data file (--data). */
  data: Record<string, string>;
  /** Items per benchmark (a grouped benchmark is completed to the end of the last group). */
  limit?: number;
  skipBad: boolean;
  /** Field mapping for the generic pairs loader. */
  map?: Record<string, string>;
  engine: Omit<EngineConfig, "apiKey" | "onDownloadProgress">;
  template: JudgeTemplate;
  chatFormat: ChatFormatChoice;
  chatTemplateFile?: string;
  reasoning?: string;
  scaling: ScalingOptions;
  sweep?: Sweep;
  samples: number;
  /** Judge both orders for every benchmark (JudgeBench always does). */
  swap: boolean;
  allowTie: boolean;
  temperature: number;
  /** Truncation of the thinking (top-p, top-k, min-p); absent: none. */
  sampling?: SamplingOptions;
  seed: number;
}
