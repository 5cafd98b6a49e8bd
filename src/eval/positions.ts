import { flipVerdict, type Judgment, type Order } from "../core/judgment.js";
import { deriveSeed } from "../core/seed.js";
import type { PairInput } from "../core/template.js";
import type { BenchmarkItem, OrderProtocol, PairItem } from "./types.js";

/**
 * Where the responses go, by the benchmark's official protocol. With "shuffle" each item gets one seeded
 * coin flip, so a rerun (or a resumed run) shows every item in the same order.
 */
export function isFlipped(protocol: OrderProtocol, item: Pick<BenchmarkItem, "id">, seed: number): boolean {
  return protocol === "shuffle" && (deriveSeed(seed, "position", item.id) & 1) === 1;
}

export function presentedPair(item: Pick<PairItem, "question" | "context" | "a" | "b">, flipped: boolean): PairInput {
  const shown = { question: item.question, context: item.context };
  return flipped ? { ...shown, a: item.b, b: item.a } : { ...shown, a: item.a, b: item.b };
}

/**
 * A judgment of the presented pair, relabelled to the item's own A/B: verdicts flip, and each run's order
 * says what the model saw relative to the item (a flipped AB run saw the item's B first: "BA").
 */
export function toItemLabels(judgment: Judgment, flipped: boolean): Judgment {
  if (!flipped) return judgment;
  const flipOrder = (order: Order): Order => (order === "AB" ? "BA" : "AB");
  return {
    ...judgment,
    verdict: judgment.verdict === null ? null : flipVerdict(judgment.verdict),
    votes: judgment.votes ? { ...judgment.votes, A: judgment.votes.B, B: judgment.votes.A } : undefined,
    runs: judgment.runs.map((run) => ({ ...run, order: flipOrder(run.order), verdict: run.verdict === null ? null : flipVerdict(run.verdict) })),
  };
}
