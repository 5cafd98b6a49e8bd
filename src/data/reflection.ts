import type { TraceSpan } from "../core/trace.js";

/**
 * Reflection in a judge's thinking: the J1 SFT data favours traces where the judge re-checks itself
 * ("Wait, let me re-check ..."). This module decides, from a trace's provenance, whether a trace reflects.
 *
 * The rule (documented in `j1 data sft --help`):
 * - a reflection marker (default: "Wait", "let me re-check", "double-check", "re-examine") found,
 *   case-insensitively and as whole words, in text the model GENERATED inside its thinking; an injected
 *   "Wait" never matches a marker by itself, because j1 wrote it, not the model;
 * - or, when `countInjectedWaits` is on (the default), an injected wait that the model continued with
 *   thinking of its own (at least one letter or digit before it tried to stop again). This is s1-style
 *   budget forcing working as intended: the forced "Wait" draws out a second look, and that second look
 *   is what the student should learn. A wait the model answered by stopping at once is no reflection.
 */
export const DEFAULT_REFLECTION_MARKERS: readonly string[] = Object.freeze(["Wait", "let me re-check", "double-check", "re-examine"]);

export interface ReflectionRule {
  markers: readonly string[];
  countInjectedWaits: boolean;
}

export const DEFAULT_REFLECTION_RULE: ReflectionRule = { markers: DEFAULT_REFLECTION_MARKERS, countInjectedWaits: true };

export interface ReflectionFinding {
  reflective: boolean;
  /** The markers found in generated thinking (as configured, each once). */
  markers: string[];
  /** Injected waits the model continued with thinking of its own. */
  continuedWaits: number;
}

/** Letters or digits: what makes generated text after a wait count as thought, not just punctuation. */
const WORDLIKE = /[\p{L}\p{N}]/u;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A case-insensitive matcher for a marker as a whole word: "Wait" matches "Wait," and "wait." but not
 * "await" or "waiting". The boundary applies only on a side where the marker starts or ends with a letter
 * or digit, so a marker such as "re-check:" still matches before any character.
 */
export function markerPattern(marker: string): RegExp {
  const trimmed = marker.trim();
  const before = WORDLIKE.test(trimmed.charAt(0)) ? "(?<![\\p{L}\\p{N}])" : "";
  const after = WORDLIKE.test(trimmed.charAt(trimmed.length - 1)) ? "(?![\\p{L}\\p{N}])" : "";
  return new RegExp(`${before}${escapeRegExp(trimmed)}${after}`, "iu");
}

/** Parses a comma-separated marker list ("Wait,let me re-check"); empty entries are dropped. */
export function parseMarkers(text: string): string[] {
  return text
    .split(",")
    .map((marker) => marker.trim())
    .filter((marker) => marker.length > 0);
}

/**
 * Looks for reflection in the thinking spans of one trace (the spans between the prompt and the end of
 * thinking, in order). Only spans with source "generated" are searched for markers; "injected" spans with
 * role "wait" count when generated thinking follows them.
 */
export function findReflection(thinking: readonly TraceSpan[], rule: ReflectionRule): ReflectionFinding {
  const patterns = rule.markers.filter((marker) => marker.trim().length > 0).map((marker) => ({ marker, pattern: markerPattern(marker) }));
  const found = new Set<string>();
  let continuedWaits = 0;
  let openWait = false;
  for (const span of thinking) {
    if (span.source === "injected" && span.role === "wait") {
      openWait = true;
      continue;
    }
    if (span.source !== "generated") continue;
    // Each generated span is searched on its own: a marker must not be stitched together across an
    // injected span (the model never wrote the joined text).
    for (const { marker, pattern } of patterns) if (pattern.test(span.text)) found.add(marker);
    if (openWait && WORDLIKE.test(span.text)) {
      continuedWaits++;
      openWait = false;
    }
  }
  const markers = patterns.map((entry) => entry.marker).filter((marker) => found.has(marker));
  return { reflective: markers.length > 0 || (rule.countInjectedWaits && continuedWaits > 0), markers, continuedWaits };
}
