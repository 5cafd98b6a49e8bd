/**
 * j1's library API: everything the CLI does, typed. Layers: judge (Judge, runThinking) over engines
 * (createEngine, LlamaCppEngine, the OpenAI-compatible engine) over core (templates, budget forcing,
 * verdicts, votes, traces, usage).
 */
export const VERSION = "0.1.0";

export * from "./core/budget.js";
export * from "./core/chat-format.js";
export * from "./core/choice-probabilities.js";
export * from "./core/prompt-pieces.js";
export * from "./core/reasoning-format.js";
export { renderJinjaChat, type JinjaChatTemplate } from "./core/jinja-chat.js";
export * from "./core/errors.js";
export * from "./core/judgment.js";
export * from "./core/seed.js";
export * from "./core/template.js";
export * from "./core/trace.js";
export * from "./core/usage.js";
export * from "./core/verdict.js";
export * from "./core/vote.js";
export type * from "./engines/engine.js";
export { createEngine, type EngineConfig, type EngineKind } from "./engines/create-engine.js";
export { createLlamaCppEngine, LlamaCppEngine, type LlamaCppEngineOptions } from "./engines/llamacpp/llamacpp-engine.js";
export { DEFAULT_MODEL, resolveModel } from "./engines/llamacpp/model-source.js";
export { buildTinyModel, defaultTinySpec, ensureTinyModel, writeTinyModel, TINY_MODEL_NOTE, TINY_TRAJECTORY, type TinyModelSpec } from "./engines/tiny/tiny-model.js";
export { Judge, type JudgeCallOptions, type JudgeOptions, type SweepJudgments } from "./judge/judge.js";
export { applyReasoning, namedPromptFormat, readChatTemplateFile, resolvePromptFormat, type ChatFormatChoice, type PromptFormat } from "./judge/prompt-format.js";
export { ensureShapedModel } from "./engines/shaped/shaped-model.js";
export { runThinking, type ThinkingEvent, type ThinkingRunOptions, type RawRun, type ThinkingEndReason } from "./judge/thinking-run.js";
export { readPairsFile, type PairRecord } from "./judge/pair-file.js";
export { readTemplateFile } from "./judge/template-file.js";
