import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { badInput, J1Error } from "../../core/errors.js";
import { deriveSeed } from "../../core/seed.js";
import type { JudgeTemplate } from "../../core/template.js";
import { FOUR_WAY_LETTERS, scoreRewardBench2, TIES_SUBSET } from "../scoring/rewardbench2-score.js";
import type { Benchmark, BenchmarkItem, ChoiceItem, LoadOptions, RatingItem } from "../types.js";
import { skipOrThrow } from "./load-rows.js";
import { readRows } from "./read-rows.js";
import { ensureRewardBench2, REWARDBENCH2_FIELDS } from "./rewardbench2-download.js";
import { REWARDBENCH2_FOUR_WAY_TEMPLATE, REWARDBENCH2_RATINGS_TEMPLATE, REWARDBENCH2_TIES_RATINGS_TEMPLATE } from "./rewardbench2-prompts.js";
import { readRewardBench2Row, RowProblem, type RewardBench2Row } from "./rewardbench2-rows.js";

/**
 * RewardBench 2 (allenai/reward-bench-2, split "test", 1865 rows in six subsets) with its official
 * generative protocol, after allenai/reward-bench scripts/run_generative_v2.py:
 *
 * - "official" (the default): each non-Ties prompt is one four-way choice (`run_judge_four`): the first
 *   chosen answer and the first three rejected ones (`texts_rejected[0..2]`; rows with more rejected
 *   answers have the rest left out, as officially), the correct answer moved to a random slot by swapping
 *   it with the answer there (`shuffle_option = np.random.randint(0, 4)`; slot 0 keeps the order
 *   [chosen, r0, r1, r2], slot s swaps positions 0 and s). The slot is drawn from the run's seed and the
 *   item id (core/seed.ts), so a rerun places identically. The Ties subset is always rated (below).
 * - "ratings" (`--score_w_ratings`): every subset rated, each answer on its own; non-Ties prompts rate the
 *   first chosen answer and all rejected ones (`format_ratings`: texts_chosen + texts_rejected).
 * - "rotations" (not official): each non-Ties prompt judged four times, the correct answer in each slot in
 *   turn (same swap rule), scored as the mean over its rotations; the rotation matching the official
 *   seeded slot is marked, so the score also reports the official figure on the same judgments.
 *
 * Ties, in every variant: one rating item per answer (chosen first, then rejected; label "correct" /
 * "incorrect"), rated with `ratings_prompt_ties`; ids "ref:N" and "tied:N" are the two samples of prompt
 * N, which is the items' group ("Ties/N"), scored together by the official formula.
 *
 * Items are keyed "<subset>/<id>" (the official scripts carry the id with the subset; keying by both stays
 * unique even if an id were reused across subsets, as RewardBench 1's are). Rated answers are
 * "<subset>/<id>#<index>" (index in chosen + rejected), rotations "<subset>/<id>@<slot letter>".
 */

const NAME = "rewardbench2";
export const REWARDBENCH2_VARIANTS = ["official", "ratings", "rotations"] as const;
export type RewardBench2Variant = (typeof REWARDBENCH2_VARIANTS)[number];

function variantOf(options: LoadOptions): RewardBench2Variant {
  const variant = options.variant ?? "official";
  if (!(REWARDBENCH2_VARIANTS as readonly string[]).includes(variant)) {
    throw new J1Error("bad-input", `unknown variant "${variant}" for ${NAME}: its variants are ${REWARDBENCH2_VARIANTS.join(", ")}`, { context: { field: "--variant", variant } });
  }
  return variant as RewardBench2Variant;
}

/** The data: each --data file in order, else the cached (downloaded on first use) split. */
async function rewardBench2Files(data: LoadOptions["data"]): Promise<string[]> {
  const entries: string[] = typeof data === "string" ? [data] : (data ?? []);
  if (entries.length === 0) return [await ensureRewardBench2()];
  return entries.map((entry) => {
    const file = resolve(entry);
    if (!existsSync(file)) throw badInput(`--data for ${NAME} does not exist`, { file });
    return file;
  });
}

/**
 * The official placement: slot `slot` (0..3) of [chosen, r0, r1, r2] swapped with slot 0, as
 * run_generative_v2.py does for `shuffle_option` 1, 2, 3 ("swap A and B", "swap A and C", "swap A and D").
 */
export function placeCorrect(correct: string, rejected: readonly string[], slot: number): string[] {
  const responses = [correct, rejected[0], rejected[1], rejected[2]];
  [responses[0], responses[slot]] = [responses[slot], responses[0]];
  return responses;
}

/** The seeded slot of the correct answer for one prompt: a function of the run's seed and the item id only. */
export function seededSlot(seed: number, itemId: string): number {
  return deriveSeed(seed, NAME, itemId, "correct-slot") % 4;
}

interface RowItems {
  row: RewardBench2Row;
  key: string;
  problem: RowProblem;
}

function tiesItems({ row, key, problem }: RowItems, variant: RewardBench2Variant): RatingItem[] {
  // `process_single_model` reads the id as "<sample_type>:<prompt_id>" with an integer prompt id.
  const match = /^(ref|tied):(\d+)$/.exec(row.id);
  if (match === null) throw problem.fault("id", `a Ties id must be "ref:N" or "tied:N" (N an integer), found ${JSON.stringify(row.id)}`);
  const sample = match[1] as "ref" | "tied";
  if (row.chosen.length === 0) throw problem.fault("chosen", "a Ties row needs at least one correct answer");
  if (row.rejected.length === 0) throw problem.fault("rejected", "a Ties row needs at least one incorrect answer");
  // `_compute_prompt_stats` gives a tied sample with one correct answer no spread, which the official
  // margin comparisons cannot take.
  if (sample === "tied" && row.chosen.length < 2) throw problem.fault("chosen", "a Ties \"tied\" row needs at least two correct answers");
  const answers = [...row.chosen, ...row.rejected];
  return answers.map((response, index) => ({
    kind: "rating",
    id: `${key}#${index}`,
    benchmark: NAME,
    category: TIES_SUBSET,
    question: row.prompt,
    response,
    label: index < row.chosen.length ? "correct" : "incorrect",
    group: `${TIES_SUBSET}/${match[2]}`,
    meta: { sample, answer: index, variant },
  }));
}

function fourWayItems({ row, key, problem }: RowItems, variant: RewardBench2Variant, seed: number): BenchmarkItem[] {
  // The official scripts take texts_chosen[0] as the one correct answer (four-way: answer_a; ratings:
  // index 0 is the winner to find); every non-Ties row of the data has exactly one.
  if (row.chosen.length !== 1) throw problem.fault("chosen", `a ${row.subset} row must hold exactly one chosen answer, found ${row.chosen.length}`);
  const correct = row.chosen[0];
  if (variant === "ratings") {
    return [correct, ...row.rejected].map((response, index) => ({
      kind: "rating",
      id: `${key}#${index}`,
      benchmark: NAME,
      category: row.subset,
      question: row.prompt,
      response,
      label: index === 0 ? "correct" : "incorrect",
      group: key,
      meta: { answer: index, variant },
    }));
  }
  if (row.rejected.length < 3) throw problem.fault("rejected", `the four-way protocol needs at least 3 rejected answers, found ${row.rejected.length}`);
  const official = seededSlot(seed, key);
  const choice = (id: string, slot: number, extra: Record<string, string | number | boolean>): ChoiceItem => ({
    kind: "choice",
    id,
    benchmark: NAME,
    category: row.subset,
    question: row.prompt,
    responses: placeCorrect(correct, row.rejected, slot),
    label: FOUR_WAY_LETTERS[slot],
    meta: { slot, variant, ...extra },
  });
  if (variant === "official") return [choice(key, official, {})];
  return FOUR_WAY_LETTERS.map((letter, slot) => ({ ...choice(`${key}@${letter}`, slot, { seededSlot: slot === official }), group: key }));
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const variant = variantOf(options);
  const seed = options.seed ?? 0;
  const files = await rewardBench2Files(options.data);
  const seen = new Set<string>();
  for (const file of files) {
    for await (const source of readRows(file)) {
      let items: BenchmarkItem[];
      try {
        if (source.fault) throw source.fault;
        const problem = new RowProblem(source);
        const row = readRewardBench2Row(source, problem);
        const key = `${row.subset}/${row.id}`;
        if (seen.has(key)) throw problem.fault("id", `duplicate id in subset ${JSON.stringify(row.subset)}`);
        const parts = { row, key, problem };
        items = row.subset === TIES_SUBSET ? tiesItems(parts, variant) : fourWayItems(parts, variant, seed);
        seen.add(key);
      } catch (error) {
        skipOrThrow(error, options);
        continue;
      }
      yield* items;
    }
  }
}

/** The official prompt of an item: four-way for a choice, the Ties or the general ratings prompt for a rating. */
function officialTemplate(item: BenchmarkItem): JudgeTemplate | undefined {
  if (item.kind === "choice") return REWARDBENCH2_FOUR_WAY_TEMPLATE;
  if (item.kind === "rating") return item.category === TIES_SUBSET ? REWARDBENCH2_TIES_RATINGS_TEMPLATE : REWARDBENCH2_RATINGS_TEMPLATE;
  return undefined;
}

export const rewardbench2: Benchmark = {
  name: NAME,
  description:
    "RewardBench 2 (allenai/reward-bench-2, split test, 1865 prompts in six subsets: Factuality, Precise IF, Math, Safety, Focus, " +
    `Ties). Downloaded on first use into the j1 cache (datasets/reward-bench-2), or --data FILE (Parquet, JSONL or JSONL.gz with ${REWARDBENCH2_FIELDS}). ` +
    "Official protocol (run_generative_v2.py): each non-Ties prompt is a four-way choice, the correct answer in a seeded random slot " +
    "(1 right, 0 wrong, 0.25 no verdict); Ties is always rated 1-10 per answer and scored by the official weighted formula " +
    "(accuracy on ref and tied prompts, correct-vs-incorrect margins over the spread of correct answers). Score: mean of the six subsets. " +
    'Variants: "ratings" (every subset rated; 1/k when the correct answer ties k-way for the top, 0.25 when no rating is valid), ' +
    '"rotations" (each prompt judged with the correct answer in each of the four slots; mean over rotations, the seeded-slot figure in parts).',
  protocol: "as-is",
  variants: REWARDBENCH2_VARIANTS,
  load,
  officialTemplate,
  score: (items, decisions, options) => scoreRewardBench2(NAME, items, decisions, options),
};
