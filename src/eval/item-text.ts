/**
 * The text of one stored item (question, context, responses), read again from the run's own data files:
 * the run store keeps items' ids, labels and categories but not their text, and a viewer's item page must
 * show what was judged without unfolding the raw prompt. Read by the same loader and options as the run,
 * so the item is the one judged (a file changed since gives its current text, as any rerun would read).
 */
import { evalSettingsOf } from "../jobs/run-settings.js";
import type { RunRecord } from "../store/types.js";
import { getBenchmark } from "./benchmarks/registry.js";
import { benchmarkOf, runItems } from "./item-stream.js";
import { loadOptionsFor } from "./runner.js";

/** What was judged, in the item's own order ("a" is the item's A, whatever order the model was shown). */
export interface ItemText {
  question: string;
  context?: string;
  a?: string;
  b?: string;
  response?: string;
  responses?: string[];
}

/** The item's text, or why it cannot be read (a run of another kind, a data file moved or gone). */
export async function findItemText(run: RunRecord, itemId: string): Promise<{ text?: ItemText; unavailable?: string }> {
  if (run.kind !== "eval") return { unavailable: `a ${run.kind} run keeps no data files to read the item from` };
  try {
    const settings = evalSettingsOf(run);
    const name = benchmarkOf(itemId);
    if (!settings.benchmarks.includes(name)) return { unavailable: `item ${itemId} is of no benchmark of this run` };
    for await (const item of runItems(getBenchmark(name), loadOptionsFor({ ...settings, skipBad: true }, name), settings.limit)) {
      if (item.id !== itemId) continue;
      const text: ItemText = { question: item.question, context: item.context };
      if (item.kind === "rating") text.response = item.response;
      else if (item.kind === "choice") text.responses = item.responses;
      else Object.assign(text, { a: item.a, b: item.b });
      return { text };
    }
    return { unavailable: `item ${itemId} is no longer in the run's data` };
  } catch (error) {
    return { unavailable: `the run's data could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}
