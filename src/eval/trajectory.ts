import { flipVerdict, type Judgment, type JudgmentRun } from "../core/judgment.js";

/**
 * A judgment's verdict trajectory in the item's own labels: the verdict read at each probe (each attempted
 * end of thinking) and P(the label) there, so a report can show thinking change its mind, or not.
 */
export interface Trajectory {
  itemId: string;
  label: string;
  /** Per probe: waits before it, the verdict in the item's labels, P(label) where reported. */
  points: Array<{ waits: number; verdict: string | null; pLabel?: number }>;
  /** The verdict changed between probes. */
  moved: boolean;
  /** right: wrong at the first probe, right at the end; wrong: the reverse. */
  turn?: "right" | "wrong";
}

/** The probes of the judgment's representative run, mapped to the item's labels (pairs; other kinds as seen). */
export function trajectoryOf(itemId: string, label: string, judgment: Judgment): Trajectory | undefined {
  const withProbes = judgment.runs.filter((run) => (run.probes?.length ?? 0) > 0);
  const run: JudgmentRun | undefined = withProbes.find((candidate) => candidate.verdict === judgment.verdict) ?? withProbes[0];
  if (run === undefined) return undefined;
  const pairwise = judgment.kind === "pairwise";
  // A pair's run order is relative to the item (a shown-swapped pair's runs say BA), so BA letters flip back.
  const toItem = (letter: string | null) => (letter === null || !pairwise || run.order === "AB" ? letter : flipVerdict(letter));
  const shownLabel = pairwise && run.order === "BA" ? flipVerdict(label) : label;
  const points = (run.probes ?? []).map((probe) => ({ waits: probe.waits, verdict: toItem(probe.verdict), pLabel: probe.probabilities?.[shownLabel] }));
  const verdicts = points.map((point) => point.verdict);
  const moved = verdicts.some((verdict) => verdict !== verdicts[0]);
  const first = verdicts[0];
  const final = run.verdict;
  const turn = first !== label && final === label ? "right" : first === label && final !== label ? "wrong" : undefined;
  return { itemId, label, points, moved, ...(turn ? { turn } : {}) };
}
