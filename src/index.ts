/**
 * j1's library API: what the CLI does, typed. By layer (docs/architecture.md, "Layers"):
 * - judge (Judge, runThinking) over engines (createEngine, LlamaCppEngine, the OpenAI-compatible engine)
 *   over core (templates, budget forcing, verdicts, votes, traces, usage);
 * - the judging job (runJudgingJob, buildItemPlan) and the run store (openRunStore);
 * - eval (runEval, the benchmark registry, buildRunReport and the report renderers), data (buildSftData),
 *   reward (judgeReward, RewardScorer) and the reward service (createRewardApp for hono, createRewardListener
 *   for node:http).
 * Core modules are exported whole (`export *`): their whole surface is public. Every other module is
 * exported by name, so its internals stay free to change.
 */
import { BENCHMARKS } from "./eval/benchmarks/registry.js";
import type { Benchmark } from "./eval/types.js";

export { VERSION } from "./version.js";

// ---- core: pure code, whole modules ------------------------------------------------------------
export * from "./core/budget.js";
export * from "./core/chat-format.js";
export * from "./core/choice-probabilities.js";
export * from "./core/prompt-pieces.js";
export * from "./core/reasoning-format.js";
export { renderJinjaChat, type JinjaChatTemplate } from "./core/jinja-chat.js";
export * from "./core/errors.js";
export * from "./core/judgment.js";
export * from "./core/seed.js";
// The choice kind lives here too: DEFAULT_CHOICE_TEMPLATE, renderChoice, ChoiceInput, choiceLetters.
export * from "./core/template.js";
export * from "./core/trace.js";
export * from "./core/usage.js";
export * from "./core/verdict.js";
export * from "./core/vote.js";

// ---- engines ----------------------------------------------------------------------------------
export type * from "./engines/engine.js";
export { createEngine, type EngineConfig, type EngineKind } from "./engines/create-engine.js";
export { createLlamaCppEngine, LlamaCppEngine, type LlamaCppEngineOptions } from "./engines/llamacpp/llamacpp-engine.js";
export { DEFAULT_MODEL, resolveModel } from "./engines/llamacpp/model-source.js";
export { buildTinyModel, defaultTinySpec, ensureTinyModel, writeTinyModel, TINY_MODEL_NOTE, TINY_TRAJECTORY, type TinyModelSpec } from "./engines/tiny/tiny-model.js";
export { ensureShapedModel } from "./engines/shaped/shaped-model.js";

// ---- judge ------------------------------------------------------------------------------------
export { judge, type ModelChoice, type OneCallItem, type OneCallOptions } from "./judge/one-call.js";
export { Judge, type ChoiceCallOptions, type JudgeCallOptions, type JudgeOptions, type SweepJudgments } from "./judge/judge.js";
export { applyReasoning, namedPromptFormat, readChatTemplateFile, resolvePromptFormat, type ChatFormatChoice, type PromptFormat } from "./judge/prompt-format.js";
export { runThinking, type ThinkingEvent, type ThinkingRunOptions, type RawRun, type ThinkingEndReason } from "./judge/thinking-run.js";
export { readPairFile, type LabelRule } from "./eval/benchmarks/pairs.js";
export { readTemplateFile } from "./judge/template-file.js";

// ---- the run store ----------------------------------------------------------------------------
export {
  openRunStore,
  defaultStorePath,
  RUN_KINDS,
  type ExportRow,
  type RunConfig,
  type RunKind,
  type RunListing,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type SaveJudgmentInput,
  type StoredDecision,
} from "./store/run-store.js";

// ---- the judging job --------------------------------------------------------------------------
export { runJudgingJob, type ItemOutcome, type JobItemEvent, type JobOptions, type JobPlan, type JobProgress, type JobResult } from "./jobs/judging-job.js";
export { buildItemPlan, type ItemPlanOptions, type JudgingOptions, type PlannedItem } from "./jobs/item-plan.js";
export { keyOf as judgmentKeyOf, type KeyParts } from "./jobs/judgment-key.js";

// ---- eval: items, benchmarks, runs, reports ---------------------------------------------------
export {
  asPair,
  itemKind,
  type Benchmark,
  type BenchmarkItem,
  type BenchmarkScore,
  type CategoryScore,
  type ChoiceItem,
  type ItemDecision,
  type ItemDecisions,
  type ItemKind,
  type JudgeableItem,
  type LoadOptions,
  type OrderProtocol,
  type OrderStatus,
  type PairItem,
  type RatingItem,
  type ScoredItem,
  type UniformMetrics,
} from "./eval/types.js";
export { BENCHMARKS, getBenchmark } from "./eval/benchmarks/registry.js";
export { PAIR_ORDERS, type EvalSettings, type PairOrder } from "./eval/eval-settings.js";
export { parseSweep, type Sweep, type SweepSetting } from "./eval/sweep.js";
export { runEval, type EvalProgress, type EvalRunOptions, type EvalRunResult } from "./eval/runner.js";
// The one-call forms: every option not given takes the CLI's default.
export { evaluate, evalSettings, type EvaluateOptions, type EvaluateResult } from "./eval/evaluate.js";
export { buildRunReport } from "./eval/run-report.js";
export type { BenchmarkReport, RunReport, ScalingTrend, SweepPoint, WorstItem } from "./eval/report-types.js";
export { renderHtml, renderJson, renderMarkdown, renderTerminal, type HtmlOptions } from "./eval/report/index.js";

/** Every registered benchmark, in registration order (`getBenchmark(name)` for one). */
export function listBenchmarks(): Benchmark[] {
  return Object.values(BENCHMARKS);
}

// ---- data: SFT by rejection sampling ----------------------------------------------------------
export { buildSftData, SFT_POINT, type SftBuildOptions, type SftBuildResult, type SftProgress, type SftSettings } from "./data/sft-run.js";
export { readPreferencePairs, type PreferencePair } from "./data/rl-pairs.js";
export { DEFAULT_REFLECTION_MARKERS, DEFAULT_REFLECTION_RULE, type ReflectionRule } from "./data/reflection.js";
export type { SftFilterOptions, SftSelection } from "./data/sft-filters.js";
export type { SftStats } from "./data/sft-stats.js";
export type { SftExample } from "./data/sft-trace.js";

// ---- reward: the verifiable judge reward and its service ---------------------------------------
export { judgeReward, type JudgeReward, type RewardParts } from "./reward/judge-reward.js";
export { bothOrdersReward } from "./reward/consistency.js";
export { parseRewardLabel, type RewardLabel } from "./reward/reward-label.js";
export { DEFAULT_REWARD_OPTIONS, DEFAULT_WEIGHTS, resolveRewardOptions, type JudgeRewardOptions, type RewardOptionsInput, type RewardWeights } from "./reward/reward-options.js";
export { RewardScorer, type RewardBatch, type RewardCounters } from "./reward/reward-batch.js";
export { createRewardApp, type RewardAppOptions } from "./server/reward-app.js";
export { createRewardListener } from "./server/reward-listener.js";

// Adaptive test-time scaling: the policy seam, the stopping rules, early-stopped sampling, the controlled judge.
export * from "./core/scaling/policy.js";
export { STOP_RULES, parseStopRule, type StopRule, type StopRuleKind } from "./core/scaling/stop-rule.js";
export { voteSettled, parseSampleStop, type SampleStop } from "./core/scaling/sample-stop.js";
export { controlledTinySpec, controlledPA } from "./engines/tiny/controlled-spec.js";
export { frontierOf } from "./eval/frontier.js";
export { trajectoryOf, type Trajectory } from "./eval/trajectory.js";
