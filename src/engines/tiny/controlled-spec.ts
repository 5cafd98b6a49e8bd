/**
 * The controlled judge: the tiny model with a verdict lens (markov-weights.ts), so that its verdict
 * trajectory depends on the item and on the waits, by construction and in closed form. It is the honest
 * control for adaptive scaling: the gain of a policy on it is built in, and says nothing about a real
 * judge (measure that on the judge itself: see the README, "Adaptive scaling").
 *
 * At the verdict position "[[", logit(A) − logit(B) = shift(F) with F the mean weight over the whole
 * sequence: " sure" weighs +1, " maybe" −0.5, the injected "Wait" −1. So an item whose text has m
 * " sure" and one " maybe" reads A while waits < m, and B from m waits on, growing surer with each wait;
 * with many " sure" it stays A for any budget j1 allows. Thinking is the default trajectory (5 tokens,
 * then 14 per wait), A and B have the same base logit, and everything else is as in `defaultTinySpec`.
 */
import { lensLogitShift } from "./markov-weights.js";
import { defaultTinySpec, tinyWidth, type TinyModelSpec } from "./tiny-model.js";

export const CONTROLLED_WEIGHTS = Object.freeze({ " sure": 1, " maybe": -0.5, Wait: -1 });

/** What the controlled judge thinks after each injected wait, then "." and an attempt to end. */
export const CONTROLLED_AFTER_WAIT = Object.freeze([",", " look", " closely", " at", " each", " claim", " in", " turn", " and", " weigh", " what", " it", " says"]);

/** Sized so that one unit of weight moves the logit by ~1.5 on a default-template prompt of ~400 tokens. */
export const CONTROLLED_GAIN = 600;

export function controlledTinySpec(): TinyModelSpec {
  const spec = defaultTinySpec();
  spec.name = "j1-tiny-controlled";
  const row = spec.transitions["[["];
  spec.transitions["[["] = row.map((entry) => (entry.to === "B" ? { ...entry, logit: row.find((other) => other.to === "A")?.logit ?? entry.logit } : entry));
  // The weighted words only need to be states (prompt text); what would follow them is never generated.
  spec.transitions[" sure"] = [{ to: "</s>", logit: 30 }];
  spec.transitions[" maybe"] = [{ to: "</s>", logit: 30 }];
  // Each wait thinks 14 tokens (the default thinks 4), so a probe (3 tokens) is cheap next to a wait, as on a
  // real judge; the words are new states, so the chain stays first-order.
  const chain = CONTROLLED_AFTER_WAIT;
  spec.transitions.Wait = [{ to: chain[0], logit: 30 }];
  for (let index = 0; index < chain.length; index++) spec.transitions[chain[index]] = [{ to: chain[index + 1] ?? ".", logit: 30 }];
  spec.lens = { at: "[[", weights: { ...CONTROLLED_WEIGHTS }, plus: "A", minus: "B", gain: CONTROLLED_GAIN };
  return spec;
}

/**
 * P(A | A or B) the controlled model gives at a verdict position: `weightSum` is the summed weight of the
 * sequence so far (the prompt's " sure" and " maybe", minus one per wait), `length` the number of tokens
 * up to and including the "[[" (BOS included).
 */
export function controlledPA(weightSum: number, length: number): number {
  const spec = controlledTinySpec();
  const { shift } = lensLogitShift(weightSum / length, tinyWidth(spec), CONTROLLED_GAIN);
  return 1 / (1 + Math.exp(-shift));
}
