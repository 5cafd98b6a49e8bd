import type { PairVerdict } from "../../core/judgment.js";

/** How numeric labels count: 1-based positions (1 = a, 2 = b) or 0-based indices (0 = a, 1 = b). */
export type LabelBase = 0 | 1;

/** The label conventions the generic pairs loader understands, as told to users. */
export const LABEL_CONVENTIONS =
  'text "A" / "B" / "tie" (any case; also "A>B", "B>A", "A=B", "model_a", "model_b", "draw"); ' +
  "numbers as 1-based positions, 1 = a, 2 = b, 1.5 = tie (LLMBar, AlpacaEval); or, with labelBase=0 in the map, " +
  "0-based indices, 0 = a, 1 = b, 0.5 = tie (CodePrefBench's gt_choice). Numbers may be given as strings.";

const TEXT_LABELS: Record<string, PairVerdict> = {
  a: "A",
  b: "B",
  tie: "tie",
  draw: "tie",
  "a>b": "A",
  "b>a": "B",
  "a=b": "tie",
  model_a: "A",
  model_b: "B",
  "tie (bothbad)": "tie",
};

/** The verdict a label stands for, or undefined when it follows none of LABEL_CONVENTIONS. */
export function parsePairLabel(value: unknown, base: LabelBase): PairVerdict | undefined {
  let number: number | undefined;
  if (typeof value === "number") number = value;
  else if (typeof value === "string") {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) number = Number(text);
    else return TEXT_LABELS[text.toLowerCase()];
  } else return undefined;
  const position = number - base; // 0 = a, 1 = b, 0.5 = tie
  if (position === 0) return "A";
  if (position === 1) return "B";
  if (position === 0.5) return "tie";
  return undefined;
}
