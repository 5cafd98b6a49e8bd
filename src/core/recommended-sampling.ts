import type { SamplingOptions } from "../engines/engine.js";

/**
 * What a family's model card recommends when sampling its thinking, recognised from its chat template.
 * j1 applies the truncation (top-p, top-k, min-p) when a judgment samples (temperature > 0) and none was
 * given; greedy judgments are untouched, and the verdict's probabilities are always read untruncated.
 */
export interface RecommendedSampling extends SamplingOptions {
  family: string;
  /** The card's temperature, for reference (the judgment's own temperature is the caller's). */
  temperature: number;
  source: string;
}

export function recommendedSampling(chatTemplate: string): RecommendedSampling | undefined {
  if (chatTemplate.includes("<|im_start|>") && chatTemplate.includes("<think>")) {
    return { family: "Qwen3", temperature: 0.6, topP: 0.95, topK: 20, minP: 0, source: "Qwen3 model card, thinking mode" };
  }
  if (chatTemplate.includes("<｜Assistant｜>")) return { family: "DeepSeek-R1", temperature: 0.6, topP: 0.95, source: "DeepSeek-R1 model card" };
  if (chatTemplate.includes("<|channel|>")) return { family: "gpt-oss", temperature: 1, topP: 1, source: "gpt-oss model card" };
  return undefined;
}

export function describeSampling(sampling: SamplingOptions): string {
  const parts: string[] = [];
  if (sampling.topP !== undefined) parts.push(`top-p ${sampling.topP}`);
  if (sampling.topK !== undefined) parts.push(`top-k ${sampling.topK}`);
  if (sampling.minP !== undefined) parts.push(`min-p ${sampling.minP}`);
  return parts.join(", ");
}
