/**
 * Simple test-time scaling, s1-style budget forcing, as pure decisions. The judge calls these at each
 * event of a generation and does what they say; they never touch an engine, so they are tested alone and
 * run unchanged over every engine.
 */
export interface ScalingOptions {
  /** How many times an attempt to end thinking is suppressed and replaced by the wait text. */
  waits: number;
  /** Keep suppressing the end of thinking until this many thinking tokens were generated. */
  minThinkingTokens: number;
  /** The cap: at this many generated thinking tokens the end of thinking is forced. */
  maxThinkingTokens?: number;
  /** Injected in place of the end of thinking. */
  waitText: string;
  /** Tokens allowed for the answer after thinking. */
  answerTokens: number;
  /**
   * Guards minThinkingTokens against a model that tries to stop at once, forever: at most this many
   * suppressions beyond `waits`.
   */
  maxExtraWaits: number;
}

export const DEFAULT_SCALING: ScalingOptions = {
  waits: 0,
  minThinkingTokens: 0,
  maxThinkingTokens: undefined,
  waitText: "Wait",
  answerTokens: 16,
  maxExtraWaits: 64,
};

export interface ThinkingState {
  waitsUsed: number;
  thinkingTokens: number;
}

export type ThinkEndDecision = { action: "extend"; text: string } | { action: "end" };

/** The model tried to end its thinking (delimiter or end of generation): extend with a wait, or let it end. */
export function onThinkingEnd(options: ScalingOptions, state: ThinkingState): ThinkEndDecision {
  const capReached = options.maxThinkingTokens !== undefined && state.thinkingTokens >= options.maxThinkingTokens;
  if (capReached) return { action: "end" };
  if (state.waitsUsed < options.waits) return { action: "extend", text: options.waitText };
  const underMinimum = state.thinkingTokens < options.minThinkingTokens;
  if (underMinimum && state.waitsUsed < options.waits + options.maxExtraWaits) return { action: "extend", text: options.waitText };
  return { action: "end" };
}

/**
 * How many thinking tokens the next generation step may produce before the cap forces the end; undefined
 * when there is no cap (the engine then stops at its own context limit).
 */
export function thinkingTokensLeft(options: ScalingOptions, state: ThinkingState): number | undefined {
  if (options.maxThinkingTokens === undefined) return undefined;
  return Math.max(0, options.maxThinkingTokens - state.thinkingTokens);
}

export function validateScaling(options: ScalingOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(options.waits) || options.waits < 0) problems.push("waits must be a whole number >= 0");
  if (!Number.isInteger(options.minThinkingTokens) || options.minThinkingTokens < 0) problems.push("minThinkingTokens must be a whole number >= 0");
  if (options.maxThinkingTokens !== undefined && (!Number.isInteger(options.maxThinkingTokens) || options.maxThinkingTokens < 1)) {
    problems.push("maxThinkingTokens must be a whole number >= 1");
  }
  if (options.maxThinkingTokens !== undefined && options.minThinkingTokens > options.maxThinkingTokens) {
    problems.push("minThinkingTokens must not exceed maxThinkingTokens");
  }
  if (!Number.isInteger(options.answerTokens) || options.answerTokens < 1) problems.push("answerTokens must be a whole number >= 1");
  if (options.waitText.length === 0) problems.push("waitText must not be empty");
  return problems;
}
