/**
 * The scaling-policy seam (docs/architecture.md, "How to add a scaling policy"). At each moment the model
 * tries to end its thinking, a policy decides: inject the wait text, let thinking end, or first read the
 * verdict as if thinking ended here (a probe) and then decide. Policies are pure: they see counts and
 * probe results, never an engine, so one thinking loop (judge/thinking-run.ts) runs every policy on every
 * engine, and a policy is tested alone.
 */

/** The verdict read as if thinking ended at an attempted end, then rolled back. */
export interface VerdictProbe {
  /** Waits injected before this attempted end. */
  waits: number;
  /** Thinking tokens generated before it. */
  thinkingTokens: number;
  /** The verdict as the model wrote it (its own order), or null when none could be read. */
  verdict: string | null;
  /** P of each verdict at the verdict position, normalised over the choices, where the engine reports them. */
  probabilities?: Record<string, number>;
  /** P(verdict), where known. */
  confidence?: number;
  /** Tokens the engine evaluated for the probe: the end of thinking, the answer prefix and the answer. */
  evaluatedTokens: number;
}

/** What a policy sees at an attempted end of thinking. */
export interface ThinkingMoment {
  waitsUsed: number;
  thinkingTokens: number;
  /** Every probe of this pass so far, oldest first. */
  probes: readonly VerdictProbe[];
  /** A probe was taken at this moment: it is the last of `probes`. */
  probedHere: boolean;
}

/**
 * Why thinking ended. model: the model ended and nothing asked for more; waits-used: after every wait the
 * policy allowed; cap: j1 forced the end at the thinking cap; context: the context was full; confident:
 * P(top verdict) reached the policy's threshold; stable: the verdict stayed the same for the policy's
 * number of probes.
 */
export type StopReason = "model" | "waits-used" | "cap" | "context" | "confident" | "stable";

export type PolicyDecision = { action: "wait"; text: string } | { action: "end"; reason: StopReason } | { action: "probe" };

export interface ScalingPolicy {
  /** Its point name where it is swept, e.g. "waits=2", "confidence=0.9". */
  readonly name: string;
  /** The cap: at this many thinking tokens the end is forced (undefined: the context limit). */
  readonly maxThinkingTokens?: number;
  /** Text injected in place of the end of thinking. */
  readonly waitText: string;
  /** It pays for the probes it asks for (an adaptive policy); a fixed policy never asks. */
  readonly usesProbes: boolean;
  /** At an attempted end: must not ask for a probe when `moment.probedHere`. */
  decide(moment: ThinkingMoment): PolicyDecision;
}

/** The ending every policy shares when nothing more is asked: "waits-used" after a wait, else "model". */
export function plainEnd(moment: ThinkingMoment): PolicyDecision {
  return { action: "end", reason: moment.waitsUsed > 0 ? "waits-used" : "model" };
}

/** Thinking tokens the next generation step may produce before the cap forces the end (undefined: no cap). */
export function tokensLeft(policy: Pick<ScalingPolicy, "maxThinkingTokens">, thinkingTokens: number): number | undefined {
  if (policy.maxThinkingTokens === undefined) return undefined;
  return Math.max(0, policy.maxThinkingTokens - thinkingTokens);
}

export function capReached(policy: Pick<ScalingPolicy, "maxThinkingTokens">, thinkingTokens: number): boolean {
  return policy.maxThinkingTokens !== undefined && thinkingTokens >= policy.maxThinkingTokens;
}

/** The top verdict of a probe and its probability (the read verdict's, else the most probable choice's). */
export function probeTop(probe: VerdictProbe): { verdict: string | null; p: number | undefined } {
  if (probe.verdict !== null) return { verdict: probe.verdict, p: probe.confidence ?? probe.probabilities?.[probe.verdict] };
  const entries = Object.entries(probe.probabilities ?? {});
  if (entries.length === 0) return { verdict: null, p: undefined };
  const [verdict, p] = entries.reduce((best, entry) => (entry[1] > best[1] ? entry : best));
  return { verdict, p };
}
