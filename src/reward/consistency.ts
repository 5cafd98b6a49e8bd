import { flipVerdict, type Order, type PairVerdict } from "../core/judgment.js";
import { judgeReward, type JudgeReward } from "./judge-reward.js";
import type { RewardLabel } from "./reward-label.js";
import type { JudgeRewardOptions, RewardWeights } from "./reward-options.js";

/**
 * The both-orders consistency term, as in Meta's J1: a pair is judged in both orders (A/B and B/A), and a
 * verdict earns its reward only when the two verdicts agree once mapped back to the same labelling. A
 * judge that prefers whichever response comes first is right in one order and wrong in the other; without
 * the term it still collects half its reward, with the term it collects none.
 *
 * Which outputs are the two orders of one pair comes from their labels ({"verdict", "pair", "order"}).
 * Within one batch, the k-th A/B output of a pair is matched with its k-th B/A output; outputs without a
 * partner are left as they are (no term). The term can only be applied where both outputs are seen
 * together: OpenRLHF's remote client sends one output per request, so there it never applies.
 */
export interface LabelledReward {
  label: RewardLabel;
  reward: JudgeReward;
}

export function applyConsistency(entries: readonly LabelledReward[], weights: RewardWeights): JudgeReward[] {
  const results = entries.map((entry) => entry.reward);
  const byPair = new Map<string, { AB: number[]; BA: number[] }>();
  entries.forEach((entry, index) => {
    const { label } = entry;
    if (label.kind !== "pairwise" || label.pair === undefined || label.order === undefined) return;
    const orders = byPair.get(label.pair) ?? { AB: [], BA: [] };
    orders[label.order].push(index);
    byPair.set(label.pair, orders);
  });
  for (const orders of byPair.values()) {
    const matched = Math.min(orders.AB.length, orders.BA.length);
    for (let k = 0; k < matched; k++) {
      const first = orders.AB[k];
      const second = orders.BA[k];
      const consistent = agree(results[first], "AB", results[second], "BA");
      results[first] = withConsistency(results[first], consistent, results[second], "B/A", weights);
      results[second] = withConsistency(results[second], consistent, results[first], "A/B", weights);
    }
  }
  return results;
}

/**
 * Rewards for one pair judged in both orders: `labelAB` is the label in the A/B order (the B/A output is
 * scored against its flip), then the consistency term is applied to both.
 */
export function bothOrdersReward(outputAB: string, outputBA: string, labelAB: PairVerdict, options: JudgeRewardOptions): { AB: JudgeReward; BA: JudgeReward } {
  const entries: LabelledReward[] = (["AB", "BA"] as const).map((order) => {
    const label: RewardLabel = { kind: "pairwise", verdict: order === "AB" ? labelAB : flipVerdict(labelAB), pair: "pair", order };
    return { label, reward: judgeReward(order === "AB" ? outputAB : outputBA, label, options) };
  });
  const [AB, BA] = applyConsistency(entries, options.weights);
  return { AB, BA };
}

function agree(first: JudgeReward, firstOrder: Order, second: JudgeReward, secondOrder: Order): boolean {
  const a = inOriginalLabelling(first.verdict, firstOrder);
  const b = inOriginalLabelling(second.verdict, secondOrder);
  return a !== undefined && a === b;
}

function inOriginalLabelling(verdict: PairVerdict | number | null, order: Order): PairVerdict | undefined {
  if (verdict !== "A" && verdict !== "B" && verdict !== "tie") return undefined;
  return order === "BA" ? flipVerdict(verdict) : verdict;
}

function withConsistency(result: JudgeReward, consistent: boolean, other: JudgeReward, otherOrder: string, weights: RewardWeights): JudgeReward {
  const parts = { ...result.parts, consistency: consistent ? 1 : 0 };
  // The term only takes reward away, never adds: a malformed output keeps its malformed reward, and a
  // wrong one keeps its wrong reward when that is lower than the inconsistent weight.
  if (consistent || result.status === "malformed") return { ...result, parts };
  const otherSaid = other.verdict === null ? "no valid verdict" : `[[${other.verdict}]]`;
  return {
    ...result,
    reward: Math.min(result.reward, weights.inconsistent),
    score: 0,
    parts,
    reason: `${result.reason}; inconsistent: the ${otherOrder} order gave ${otherSaid}`,
  };
}
