import type { ScalingOptions } from "../core/budget.js";
import type { JudgeTemplate } from "../core/template.js";
import type { Engine } from "../engines/engine.js";
import type { JudgingOptions } from "./item-plan.js";
import type { JudgeableItem } from "../eval/types.js";
import { canonicalJson, judgmentKey, sha256Hex } from "../store/judgment-key.js";

/**
 * What makes two judgments the same computation, in one place for every command: the engine and model
 * as the engine itself describes them, the template and chat format, every judging option, and the item's
 * content and placement. The label is left out (a judgment does not depend on it, so relabelled data reuses
 * it); so are speed settings (threads, parallel), which do not change verdicts.
 */
export interface KeyParts extends Pick<JudgingOptions, "samples" | "earlyStop" | "swap" | "allowTie" | "temperature" | "sampling" | "seed"> {
  engine: Engine;
  template: JudgeTemplate;
  chatFormat: string;
  /** The scaling of this point, every field set. */
  scaling: ScalingOptions;
  item: JudgeableItem;
  /** Where the responses were shown: a pair flipped, a choice's permutation. */
  placement: boolean | readonly number[];
}

/**
 * The engine's identity for keys: which engine and model (file or server), and how a server is spoken to
 * (the API and whether prompts go as token ids or text change what the model sees). Never an API key,
 * never speed settings (concurrency, threads).
 */
export function engineIdentity(engine: Engine): Record<string, unknown> {
  const identity = engine.describe();
  return { engine: identity.engine, model: identity.model, modelFile: identity.modelFile, baseUrl: identity.baseUrl, api: identity.api, prompt: identity.prompt };
}

export function templateHash(template: JudgeTemplate): string {
  return sha256Hex(canonicalJson(template)).slice(0, 16);
}

/** The item's content as the judge sees it (kind, question, context, responses), hashed. */
export function itemContentHash(item: JudgeableItem): string {
  const responses = item.kind === "rating" ? [item.response] : item.kind === "choice" ? item.responses : [item.a, item.b];
  return sha256Hex(canonicalJson({ kind: item.kind ?? "pair", question: item.question, context: item.context ?? null, responses })).slice(0, 16);
}

export function keyOf(parts: KeyParts): string {
  return judgmentKey({
    engine: engineIdentity(parts.engine),
    template: templateHash(parts.template),
    chatFormat: parts.chatFormat,
    scaling: parts.scaling,
    samples: parts.samples,
    earlyStop: parts.samples > 1 ? parts.earlyStop : undefined,
    swap: parts.swap,
    allowTie: parts.allowTie,
    temperature: parts.temperature,
    sampling: parts.sampling,
    seed: parts.seed,
    item: parts.item.id,
    itemHash: itemContentHash(parts.item),
    placement: parts.placement,
  });
}
