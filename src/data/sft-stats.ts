import type { AnswerBalance, SftSelection, StageCount } from "./sft-filters.js";
import type { LengthUnit, SftCandidate, SftExample } from "./sft-trace.js";

/**
 * What a `j1 data sft` build produced and where traces were lost: the stats report, as JSON (`--stats`)
 * and as text for the terminal. Rates are fractions in [0, 1]; null when there is nothing to divide by.
 */
export interface SftStats {
  pairs: number;
  candidates: number;
  /** Traces whose verdict matched the label / all candidate traces. */
  acceptanceRate: number | null;
  verdicts: { matched: number; mismatched: number; noVerdict: number; engineErrors: number };
  /** Label-matching traces with reflection / label-matching traces that became examples. */
  reflectionRate: number | null;
  reflective: number;
  forcedEnds: number;
  unusable: number;
  stages: StageCount[];
  balance: { before: AnswerBalance; after: AnswerBalance };
  examples: number;
  completionLength: LengthSummary;
}

export interface LengthBin {
  /** Inclusive lower edge. */
  from: number;
  /** Exclusive upper edge (the last bin includes it). */
  to: number;
  count: number;
}

export interface LengthSummary {
  unit: LengthUnit;
  min: number | null;
  max: number | null;
  mean: number | null;
  median: number | null;
  histogram: LengthBin[];
}

const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** Equal-width bins over [min, max] with whole-number edges; at most `binCount` bins. */
export function lengthHistogram(lengths: readonly number[], binCount = 10): LengthBin[] {
  if (lengths.length === 0) return [];
  const min = Math.min(...lengths);
  const max = Math.max(...lengths);
  const width = Math.max(1, Math.ceil((max - min + 1) / binCount));
  const bins: LengthBin[] = [];
  for (let from = min; from <= max; from += width) bins.push({ from, to: from + width, count: 0 });
  for (const length of lengths) bins[Math.min(bins.length - 1, Math.floor((length - min) / width))].count++;
  return bins;
}

export function summarizeLengths(examples: readonly SftExample[], unit: LengthUnit): LengthSummary {
  const lengths = examples.map((example) => example.completionLength).sort((x, y) => x - y);
  if (lengths.length === 0) return { unit, min: null, max: null, mean: null, median: null, histogram: [] };
  const middle = Math.floor(lengths.length / 2);
  return {
    unit,
    min: lengths[0],
    max: lengths[lengths.length - 1],
    mean: lengths.reduce((sum, length) => sum + length, 0) / lengths.length,
    median: lengths.length % 2 === 1 ? lengths[middle] : (lengths[middle - 1] + lengths[middle]) / 2,
    histogram: lengthHistogram(lengths),
  };
}

export function buildSftStats(pairs: number, candidates: readonly SftCandidate[], selection: SftSelection, unit: LengthUnit): SftStats {
  const matched = candidates.filter((candidate) => candidate.verdict !== null && candidate.verdict === candidate.label).length;
  const noVerdict = candidates.filter((candidate) => candidate.verdict === null).length;
  const usable = matched - selection.unusable;
  return {
    pairs,
    candidates: candidates.length,
    acceptanceRate: rate(matched, candidates.length),
    verdicts: {
      matched,
      mismatched: candidates.length - matched - noVerdict,
      noVerdict,
      engineErrors: candidates.filter((candidate) => candidate.status === "engine-error").length,
    },
    reflectionRate: rate(selection.reflective, usable),
    reflective: selection.reflective,
    forcedEnds: selection.forced,
    unusable: selection.unusable,
    stages: selection.stages,
    balance: { before: selection.balanceBefore, after: selection.balanceAfter },
    examples: selection.examples.length,
    completionLength: summarizeLengths(selection.examples, unit),
  };
}

const STAGE_NAMES: Record<StageCount["stage"], string> = {
  candidates: "candidate traces",
  verdict: "with a verdict",
  label: "verdict matches label",
  complete: "thinking ended by itself",
  reflection: "with reflection",
  productive: "reflection turned it right",
  length: "within length limits",
  dedup: "after dedup",
  balance: "after A/B balance",
};

const percent = (value: number | null) => (value === null ? "-" : `${(100 * value).toFixed(1)}%`);

/** The stats as a short text report with a bar chart of completion lengths. */
export function renderSftStats(stats: SftStats, barWidth = 30): string {
  const lines: string[] = [];
  lines.push(`pairs ${stats.pairs}, candidate traces ${stats.candidates}`);
  lines.push(
    `acceptance (verdict = label) ${percent(stats.acceptanceRate)}: ${stats.verdicts.matched} matched, ${stats.verdicts.mismatched} mismatched, ${stats.verdicts.noVerdict} without a verdict` +
      (stats.verdicts.engineErrors > 0 ? ` (${stats.verdicts.engineErrors} engine errors)` : ""),
  );
  lines.push(`reflection among accepted ${percent(stats.reflectionRate)} (${stats.reflective}); forced ends ${stats.forcedEnds}${stats.unusable > 0 ? `; unusable ${stats.unusable}` : ""}`);
  const width = Math.max(...stats.stages.map((stage) => STAGE_NAMES[stage.stage].length));
  for (const stage of stats.stages) lines.push(`  ${STAGE_NAMES[stage.stage].padEnd(width)}  ${stage.kept}`);
  const { before, after } = stats.balance;
  lines.push(`answers [[A]]/[[B]]: ${before.A}/${before.B} before balance, ${after.A}/${after.B} exported`);
  const lengths = stats.completionLength;
  if (lengths.histogram.length === 0) {
    lines.push("no examples: nothing to export");
    return lines.join("\n");
  }
  lines.push(`completion length (${lengths.unit}): min ${lengths.min}, median ${lengths.median}, mean ${(lengths.mean as number).toFixed(1)}, max ${lengths.max}`);
  const most = Math.max(...lengths.histogram.map((bin) => bin.count));
  const edge = Math.max(...lengths.histogram.map((bin) => `${bin.from}-${bin.to - 1}`.length));
  for (const bin of lengths.histogram) {
    const bar = "█".repeat(Math.round((bin.count / most) * barWidth));
    lines.push(`  ${`${bin.from}-${bin.to - 1}`.padStart(edge)} │${bar} ${bin.count}`);
  }
  return lines.join("\n");
}
