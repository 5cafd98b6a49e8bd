import type { Judgment, Order } from "../../core/judgment.js";
import { majorityVote } from "../../core/vote.js";
import type { ItemDecision, OrderStatus } from "../types.js";

const ORDERS: readonly Order[] = ["AB", "BA"];

/**
 * The outcome of each order a pairwise judgment judged, from its runs, by the judge's own rule for one
 * order: a verdict by majority is "ok", an even split "vote-tie", no verdict with every run failed in the
 * engine "engine-error", else "parse-error".
 */
export function orderStatusOf(judgment: Pick<Judgment, "kind" | "runs">): NonNullable<ItemDecision["orderStatus"]> {
  const status: NonNullable<ItemDecision["orderStatus"]> = {};
  if (judgment.kind !== "pairwise") return status;
  for (const order of ORDERS) {
    const runs = judgment.runs.filter((run) => run.order === order);
    if (runs.length === 0) continue;
    const vote = majorityVote(runs.map((run) => run.verdict));
    status[order] = vote.verdict !== null ? "ok" : vote.reason === "vote-tie" ? "vote-tie" : runs.every((run) => run.status === "engine-error") ? "engine-error" : "parse-error";
  }
  return status;
}

/** One judged order of an item: its verdict (in the item's labelling) and how it ended. */
export interface OrderOutcome {
  order: Order;
  verdict: ItemDecision["verdict"];
  status: OrderStatus;
}

function itemFailure(status: ItemDecision["status"]): OrderStatus | undefined {
  return status === "engine-error" || status === "parse-error" || status === "vote-tie" ? status : undefined;
}

/**
 * The orders an item was judged in, each with its outcome. A decision with no per-order verdicts (older
 * records) is one order, the final verdict. An order without a verdict and without a recorded
 * `orderStatus` takes the item's failure status (engine-error, parse-error, vote-tie) when it has one,
 * else (an "inconsistent" item) counts as a parse failure.
 */
export function orderOutcomes(decision: ItemDecision): OrderOutcome[] {
  const present = ORDERS.filter((order) => decision.orders[order] !== undefined);
  // One order: a verdict, or a rating (no verdict, a score: status "ok"), is a success.
  if (present.length === 0) return [{ order: "AB", verdict: decision.verdict, status: decision.verdict !== null || decision.status === "ok" ? "ok" : itemFailure(decision.status) ?? "parse-error" }];
  return present.map((order) => {
    const verdict = decision.orders[order] ?? null;
    const recorded = decision.orderStatus?.[order];
    const status = recorded ?? (verdict !== null ? "ok" : itemFailure(decision.status) ?? "parse-error");
    return { order, verdict, status };
  });
}
