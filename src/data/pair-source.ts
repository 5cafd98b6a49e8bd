import { badInput } from "../core/errors.js";
import { asPair, itemKind } from "../eval/types.js";
import { readPreferencePairs, type PreferencePair } from "./rl-pairs.js";

/**
 * The benchmarks whose loaders give pairs (the others give choices of N or ratings), named in the data
 * commands' help; test/data-pair-benchmarks.test.ts checks each is a registered benchmark.
 */
export const PAIR_BENCHMARK_NAMES = ["rewardbench", "harmless", "codepref", "rmbench", "judgebench", "llmbar", "rewardmath-pairwise", "pairs"] as const;

/** Where training pairs come from: a labelled JSONL file, or any benchmark loader (saved with a run). */
export interface PairSourceSpec {
  input?: string;
  bench?: string;
  data?: string;
  map?: Record<string, string>;
}

/**
 * Labelled preference pairs from a JSONL file or a benchmark loader (ids namespaced by benchmark, as in
 * eval runs). Ties carry no preference to learn and are skipped, counted in `skipped.ties` (reset at the
 * start of each read, so a second pass over the same source counts once). The evaluation code is
 * imported only when a benchmark is asked for.
 */
export function preferencePairs(spec: PairSourceSpec): { read: () => AsyncIterable<PreferencePair>; skipped: { ties: number } } {
  const skipped = { ties: 0 };
  if (spec.input !== undefined) return { read: () => readPreferencePairs(spec.input as string, spec.map), skipped };
  return {
    read: () => {
      skipped.ties = 0;
      return benchmarkPairs(spec, skipped);
    },
    skipped,
  };
}

async function* benchmarkPairs(spec: PairSourceSpec, skipped: { ties: number }): AsyncGenerator<PreferencePair> {
  const { getBenchmark } = await import("../eval/benchmarks/registry.js");
  const { runItems } = await import("../eval/item-stream.js");
  const benchmark = getBenchmark(spec.bench as string);
  for await (const loaded of runItems(benchmark, { data: spec.data, map: spec.map })) {
    if (itemKind(loaded) !== "pair") {
      throw badInput(`training data is built from pairs; ${spec.bench} gives ${itemKind(loaded)} items (the first: "${loaded.id}"): use a pair benchmark, or --input with a file of pairs`, { field: "--bench" });
    }
    const item = asPair(loaded);
    if (item.label !== "A" && item.label !== "B") {
      skipped.ties++;
      continue;
    }
    yield { id: item.id, category: item.category, question: item.question, context: item.context, a: item.a, b: item.b, label: item.label };
  }
}
