/**
 * Token accounting for one judgment (invariant 2, docs/architecture.md, "Invariants"): what was put in,
 * what the model thought, what j1 injected, what the answer took, and what the engine really evaluated.
 * STTS cost is then a measured fact.
 */
export interface Usage {
  /** Tokens of the rendered prompt. */
  promptTokens: number;
  /** Tokens the model generated inside its thinking (injected wait text excluded). */
  thinkingTokens: number;
  /** Tokens j1 injected: wait texts, a forced end of thinking, the answer prefix. */
  injectedTokens: number;
  /** Tokens the model generated after thinking ended (the verdict). */
  answerTokens: number;
  /** Tokens the engine actually ran through the model (prompt tokens reused from a cache excluded). */
  evaluatedTokens: number;
  /** Prompt tokens the engine reused from its cache instead of evaluating them. */
  cachedTokens: number;
  /**
   * Of `evaluatedTokens`, those spent on verdict probes an adaptive policy asked for and rolled back (the
   * price of deciding when to stop). Absent in judgments stored before probes existed.
   */
  probeTokens?: number;
}

export function emptyUsage(): Usage {
  return { promptTokens: 0, thinkingTokens: 0, injectedTokens: 0, answerTokens: 0, evaluatedTokens: 0, cachedTokens: 0, probeTokens: 0 };
}

export function addUsage(total: Usage, part: Usage): Usage {
  return {
    promptTokens: total.promptTokens + part.promptTokens,
    thinkingTokens: total.thinkingTokens + part.thinkingTokens,
    injectedTokens: total.injectedTokens + part.injectedTokens,
    answerTokens: total.answerTokens + part.answerTokens,
    evaluatedTokens: total.evaluatedTokens + part.evaluatedTokens,
    cachedTokens: total.cachedTokens + part.cachedTokens,
    probeTokens: (total.probeTokens ?? 0) + (part.probeTokens ?? 0),
  };
}

/** Tokens that ended up in the trace: prompt + generated + injected. */
export function traceTokens(usage: Usage): number {
  return usage.promptTokens + usage.thinkingTokens + usage.injectedTokens + usage.answerTokens;
}
