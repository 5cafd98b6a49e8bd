import { J1Error } from "../../core/errors.js";
import type { ScoredItem } from "../types.js";
import { byCategory, mean, type JudgedItem } from "./credit.js";
import type { OfficialResult, OfficialRule } from "./official-rule.js";

/** Styles in RM-Bench's order: index 0/1/2 = concise / detailed plain / detailed markdown. */
export const RMBENCH_STYLES = 3;

export type Difficulty = "hard" | "normal" | "easy";

/**
 * Where a cell of the chosen-style x rejected-style matrix falls: chosen less styled than rejected (i < j)
 * is hard (style works against the right answer), the same style is normal, more styled is easy.
 */
export function difficultyOf(chosenStyle: number, rejectedStyle: number): Difficulty {
  return chosenStyle < rejectedStyle ? "hard" : chosenStyle === rejectedStyle ? "normal" : "easy";
}

function styleIndex(item: ScoredItem, key: "i" | "j"): number {
  const value = item.meta?.[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= RMBENCH_STYLES) {
    throw new J1Error("bad-input", `RM-Bench item "${item.id}" lacks its style index meta.${key} (0-${RMBENCH_STYLES - 1})`, { context: { item: item.id } });
  }
  return value;
}

/**
 * Accuracy matrix of one domain, in [0, 1]: cell [i][j] is the share of prompts where chosen[i] beat
 * rejected[j]. "Beat" is strict, as in the official script (score_chosen > score_rejected): a tie or no
 * verdict is not a win. A cell with no items is NaN.
 */
export function styleMatrix(judged: readonly JudgedItem[]): number[][] {
  const { wins, counts } = styleCounts(judged);
  return matrixOf(wins, counts);
}

/** Wins and items per cell, each flattened row by row (cell [i][j] at i x 3 + j). */
function styleCounts(judged: readonly JudgedItem[]): { wins: number[]; counts: number[] } {
  const wins = new Array<number>(CELLS).fill(0);
  const counts = new Array<number>(CELLS).fill(0);
  for (const { item, decision } of judged) {
    const cell = styleIndex(item, "i") * RMBENCH_STYLES + styleIndex(item, "j");
    counts[cell]++;
    if (decision.verdict === item.label) wins[cell]++;
  }
  return { wins, counts };
}

function matrixOf(wins: ArrayLike<number>, counts: ArrayLike<number>): number[][] {
  return Array.from({ length: RMBENCH_STYLES }, (_, i) =>
    Array.from({ length: RMBENCH_STYLES }, (_, j) => {
      const cell = i * RMBENCH_STYLES + j;
      return counts[cell] === 0 ? Number.NaN : wins[cell] / counts[cell];
    }),
  );
}

const CELLS = RMBENCH_STYLES * RMBENCH_STYLES;

/** Mean of the matrix cells of each difficulty (upper triangle, diagonal, lower triangle), in points. */
export function difficultyScores(matrix: number[][]): Record<Difficulty, number> {
  const cells: Record<Difficulty, number[]> = { hard: [], normal: [], easy: [] };
  matrix.forEach((row, i) => row.forEach((value, j) => {
    if (!Number.isNaN(value)) cells[difficultyOf(i, j)].push(value);
  }));
  return { hard: 100 * mean(cells.hard), normal: 100 * mean(cells.normal), easy: 100 * mean(cells.easy) };
}

/**
 * RM-Bench's official score: per domain (the item category: chat, code, math, safety), the 3x3 matrix
 * gives hard / normal / easy, and the domain score is their mean; the total is the mean over domains, and
 * the overall hard / normal / easy are the means over domains of each (so all three averages agree, as
 * the RM-Bench authors define them). Parts: "hard", "normal", "easy", and "<domain> <difficulty>".
 */
export const rmBenchScore: OfficialRule = (judged) => rmBenchOfMatrices([...byCategory(judged)].map(([domain, members]) => [domain, styleMatrix(members)]));
// Summed: a unit's wins and items per cell (9 + 9 counts); a resample's domains are its strata.
rmBenchScore.summed = {
  terms: 2 * CELLS,
  unit: (members) => {
    const { wins, counts } = styleCounts(members);
    return [...wins, ...counts];
  },
  score: (strata) => rmBenchOfMatrices(strata.map((stratum) => [stratum.category, matrixOf(stratum.sums.subarray(0, CELLS), stratum.sums.subarray(CELLS))])).score,
};

function rmBenchOfMatrices(domains: ReadonlyArray<readonly [string, number[][]]>): OfficialResult {
  const parts: Record<string, number> = {};
  const domainScores: number[] = [];
  const perDifficulty: Record<Difficulty, number[]> = { hard: [], normal: [], easy: [] };
  for (const [domain, matrix] of domains) {
    const scores = difficultyScores(matrix);
    const present = (Object.keys(scores) as Difficulty[]).filter((difficulty) => !Number.isNaN(scores[difficulty]));
    for (const difficulty of present) {
      parts[`${domain} ${difficulty}`] = scores[difficulty];
      perDifficulty[difficulty].push(scores[difficulty]);
    }
    domainScores.push(mean(present.map((difficulty) => scores[difficulty])));
  }
  for (const difficulty of ["hard", "normal", "easy"] as const) {
    if (perDifficulty[difficulty].length > 0) parts[difficulty] = mean(perDifficulty[difficulty]);
  }
  return { score: mean(domainScores), parts };
}
