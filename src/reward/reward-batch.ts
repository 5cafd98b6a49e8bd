import { badInput } from "../core/errors.js";
import { applyConsistency, type LabelledReward } from "./consistency.js";
import { judgeReward, type JudgeReward } from "./judge-reward.js";
import { parseRewardLabel } from "./reward-label.js";
import type { JudgeRewardOptions } from "./reward-options.js";
import { extractResponse, stripEndTokens, type ResponseSource } from "./response-extract.js";

/**
 * Scores what trainers send: a batch in OpenRLHF's shape (full query texts, prompts, labels) or one
 * response in verl's shape (the response alone and its ground truth). Pure apart from its counters; the
 * HTTP service is a thin face over it.
 */
export interface RewardBatch {
  rewards: number[];
  scores: number[];
  /** Per-output numbers for the trainer's logs; the same keys for every batch, so logs line up. */
  extraLogs: Record<string, number[]>;
  details: JudgeReward[];
}

export interface RewardCounters {
  outputs: number;
  correct: number;
  partial: number;
  wrong: number;
  malformed: number;
  /** Malformed outputs by the rule they broke. */
  problems: Record<string, number>;
  /** How responses were found in queries (see response-extract.ts). */
  responseSources: Partial<Record<ResponseSource, number>>;
}

export class RewardScorer {
  readonly counters: RewardCounters = { outputs: 0, correct: 0, partial: 0, wrong: 0, malformed: 0, problems: {}, responseSources: {} };

  constructor(
    readonly options: JudgeRewardOptions,
    /** Apply the both-orders consistency term where a batch holds both orders of a pair. */
    readonly consistency = false,
  ) {}

  /** The names of the extra logs, in order. */
  get logNames(): string[] {
    const names = ["format", "correct", "thinking_chars"];
    return this.consistency ? [...names, "consistency_checked", "consistent"] : names;
  }

  /** OpenRLHF's batch: `prompts` may be empty or shorter only when it is absent altogether. */
  scoreBatch(queries: readonly string[], prompts: readonly string[] | undefined, labels: readonly unknown[]): RewardBatch {
    if (labels.length !== queries.length) throw badInput(`has ${labels.length} entries but "query" has ${queries.length}`, { field: "labels" });
    if (prompts !== undefined && prompts.length > 0 && prompts.length !== queries.length) {
      throw badInput(`has ${prompts.length} entries but "query" has ${queries.length}`, { field: "prompts" });
    }
    const parsedLabels = labels.map((label, index) => parseRewardLabel(label, `labels[${index}]`));
    let entries: LabelledReward[] = queries.map((query, index) => {
      const { response, source } = extractResponse(query, prompts?.[index]);
      this.counters.responseSources[source] = (this.counters.responseSources[source] ?? 0) + 1;
      return { label: parsedLabels[index], reward: judgeReward(response, parsedLabels[index], this.options) };
    });
    if (this.consistency) {
      const adjusted = applyConsistency(entries, this.options.weights);
      entries = entries.map((entry, index) => ({ ...entry, reward: adjusted[index] }));
    }
    const details = entries.map((entry) => entry.reward);
    details.forEach((detail) => this.count(detail));
    return { rewards: details.map((detail) => detail.reward), scores: details.map((detail) => detail.score), extraLogs: this.extraLogs(details), details };
  }

  /** verl's shape: the response alone (decoded without special tokens, but strip any left over). */
  scoreOne(response: string, groundTruth: unknown): JudgeReward {
    const label = parseRewardLabel(groundTruth, "ground_truth");
    const detail = judgeReward(stripEndTokens(response), label, this.options);
    this.count(detail);
    return detail;
  }

  private extraLogs(details: readonly JudgeReward[]): Record<string, number[]> {
    const logs: Record<string, number[]> = {
      format: details.map((detail) => detail.parts.format),
      correct: details.map((detail) => detail.parts.correct),
      thinking_chars: details.map((detail) => detail.thinkingChars),
    };
    if (this.consistency) {
      logs.consistency_checked = details.map((detail) => (detail.parts.consistency === undefined ? 0 : 1));
      logs.consistent = details.map((detail) => detail.parts.consistency ?? 0);
    }
    return logs;
  }

  private count(detail: JudgeReward): void {
    this.counters.outputs++;
    this.counters[detail.status]++;
    if (detail.problem) this.counters.problems[detail.problem] = (this.counters.problems[detail.problem] ?? 0) + 1;
  }
}
