import { J1Error } from "../../core/errors.js";
import type { Benchmark } from "../types.js";
import { codepref } from "./codepref.js";
import { harmless } from "./harmless.js";
import { judgebench } from "./judgebench.js";
import { llmbar } from "./llmbar.js";
import { pairs } from "./pairs.js";
import { rewardbench } from "./rewardbench.js";
import { rewardbench2 } from "./rewardbench2.js";
import { rewardmath, rewardmathPairwise } from "./rewardmath.js";
import { rmbench } from "./rmbench.js";

/** Every benchmark j1 can load and score, by name. */
export const BENCHMARKS: Record<string, Benchmark> = Object.fromEntries(
  [rewardbench, rewardbench2, rewardmath, rewardmathPairwise, harmless, codepref, rmbench, judgebench, llmbar, pairs].map((benchmark) => [benchmark.name, benchmark]),
);

export function getBenchmark(name: string): Benchmark {
  const benchmark = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (benchmark === undefined) {
    throw new J1Error("bad-input", `unknown benchmark "${name}": known benchmarks are ${Object.keys(BENCHMARKS).join(", ")}`, { context: { benchmark: name } });
  }
  return benchmark;
}
