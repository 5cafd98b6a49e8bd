import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { accuracyRule } from "../scoring/accuracy-rule.js";
import { judgedItems } from "../scoring/credit.js";
import { scoreJudged } from "../scoring/official-rule.js";
import { dataPrefix, resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";
import { splitTranscripts } from "./hh-transcript.js";

const NAME = "harmless";

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const files = resolveDataPaths(NAME, options.data, "hh-rlhf-harmless-base/test.jsonl.gz", "an HH-RLHF file (JSONL, optionally .gz, with chosen and rejected transcripts)");
  const ids = new ItemIds();
  for (const [index, file] of files.entries()) yield* itemsFromRows(readRows(file), (fields) => {
    const chosen = fields.response("chosen");
    const rejected = fields.response("rejected");
    const split = splitTranscripts(chosen, rejected);
    if ("problem" in split) throw fields.fault(split.field, split.problem);
    // HH-RLHF rows have no id; the row number is stable for a given file.
    const id = `${dataPrefix(index)}${fields.source.row}`;
    ids.claim(id, fields, "chosen");
    const item: BenchmarkItem = { id, benchmark: NAME, category: NAME, question: split.question, a: split.chosen, b: split.rejected, label: "A" };
    if (split.context !== undefined) item.context = split.context;
    return [item];
  }, options);
}

/**
 * Anthropic Harmless has no official scorer (the J1 paper reports accuracy without saying how an
 * undecided judgment counts): j1 counts it wrong, the stricter reading, and shows RewardBench's rule beside.
 */
export const HARMLESS_RULE = "no official scorer: accuracy with no verdict or a tie counted wrong (0); RewardBench's rule (0.5) is shown beside it";
export const HALF_RULE_PART = "no verdict or tie = 0.5 (RewardBench's rule)";

export const harmless: Benchmark = {
  name: NAME,
  description:
    "Anthropic HH-RLHF harmless-base test split (2312 pairs; the J1 paper's \"Anthropic Harmless\"). Each chosen/rejected " +
    "transcript pair is split at the last \"\\n\\nAssistant:\" they share: the last human turn is the question, earlier " +
    "turns are context, the two final assistant turns are the responses (chosen preferred). Score: accuracy; no verdict " +
    "or a tie counts as wrong. Protocol: one seeded random order per pair.",
  protocol: "shuffle",
  load,
  score: (items, decisions, options) => {
    const judged = judgedItems(items, decisions);
    const strict = scoreJudged(NAME, accuracyRule({ undecided: 0, average: "items" }), judged, options);
    // The other rule a reader may compare with: RewardBench's, where no verdict or a tie is half right.
    const half = accuracyRule({ undecided: 0.5, average: "items" })(judged).score;
    return { ...strict, parts: { ...strict.parts, [HALF_RULE_PART]: half }, rule: HARMLESS_RULE };
  },
};
