/**
 * The J1 paper's main table: RewardBench, RewardMATH, Anthropic Harmless and CodePrefBench, with overall =
 * the plain mean of the four (J1-7B: 86.91, 90.15, 59.05, 67.80; overall 75.98).
 */
export const PAPER_BENCHMARKS = ["rewardbench", "rewardmath", "harmless", "codepref"] as const;

/** Expands presets in a benchmark list ("paper" becomes its four benchmarks), keeping order, no repeats. */
export function expandBenchmarks(names: readonly string[]): string[] {
  const expanded: string[] = [];
  for (const name of names) {
    for (const part of name === "paper" ? PAPER_BENCHMARKS : [name]) if (!expanded.includes(part)) expanded.push(part);
  }
  return expanded;
}
