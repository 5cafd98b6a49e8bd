import { writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_SCALING, type ScalingOptions } from "../../src/core/budget.js";
import type { EvalSettings } from "../../src/eval/eval-settings.js";

/** Three labelled pairs the serve and viewer tests make runs from (p2 is labelled B, the others A). */
export const SAMPLE_PAIRS = [
  { id: "p1", question: "2+2?", a: "4", b: "5", label: "A" },
  { id: "p2", question: "Capital of France?", a: "Lyon", b: "Paris", label: "B" },
  { id: "p3", question: "Colour of the sky?", a: "blue", b: "green", label: "A" },
];

/**
 * Writes SAMPLE_PAIRS to `dir/pairs.jsonl` and returns `j1 eval` settings for them on the tiny model
 * (chatml, greedy, seed 7), with the given scaling.
 */
export function samplePairsRun(dir: string, scaling: Partial<ScalingOptions>): EvalSettings {
  const data = path.join(dir, "pairs.jsonl");
  writeFileSync(data, `${SAMPLE_PAIRS.map((pair) => JSON.stringify(pair)).join("\n")}\n`);
  return {
    benchmarks: ["pairs"],
    data: { pairs: [data] },
    skipBad: false,
    engine: { engine: "llamacpp", model: "tiny", threads: 1, contextSize: 2048, parallel: 1 },
    chatFormat: "chatml",
    scaling: { ...DEFAULT_SCALING, ...scaling },
    samples: 1,
    swap: false,
    allowTie: false,
    temperature: 0,
    seed: 7,
  } as EvalSettings;
}
