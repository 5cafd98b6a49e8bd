/**
 * Benchmark: what a scaling curve costs. For waits 0..8, on the tiny model through real node-llama-cpp:
 * total tokens the engine evaluated for a one-pass sweep (every point read on the way), for the 8-wait
 * run alone, and for running every point separately. Goal: one-pass <= 1.15x the largest point alone.
 *
 *   node dist/bench/eval-sweep.js [--items N] [--points 0,1,2,3,4,5,6,7,8]
 *
 * Token counts do not depend on the machine. Each mode gets its own fresh engine and the same items, so
 * prefix caching across items (the shared system prompt) helps every mode alike.
 */
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { Judge } from "../src/judge/judge.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const items = Number(option("--items", "20"));
const points = option("--points", "0,1,2,3,4,5,6,7,8").split(",").map(Number);
const largest = Math.max(...points);
const pairs = Array.from({ length: items }, (_, index) => ({ question: `item ${index}: which answer is better?`, a: `answer a${index}`, b: `answer b${index}` }));

async function measure(mode: "sweep" | "largest" | "separate") {
  const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 2048, sequences: 1 });
  let evaluated = 0;
  const started = performance.now();
  for (const pair of pairs) {
    if (mode === "sweep") {
      evaluated += (await new Judge({ engine, scaling: { waits: largest } }).judgePairSweep(pair, { readAtWaits: points })).evaluatedTokens;
    } else if (mode === "largest") {
      evaluated += (await new Judge({ engine, scaling: { waits: largest } }).judgePair(pair)).usage.evaluatedTokens;
    } else {
      for (const waits of points) evaluated += (await new Judge({ engine, scaling: { waits } }).judgePair(pair)).usage.evaluatedTokens;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await engine.dispose();
  return { evaluated, seconds };
}

const sweep = await measure("sweep");
const alone = await measure("largest");
const separate = await measure("separate");
const figures = {
  items,
  points,
  evaluatedTokens: { onePass: sweep.evaluated, largestAlone: alone.evaluated, everyPointSeparately: separate.evaluated },
  ratioOnePassToLargest: sweep.evaluated / alone.evaluated,
  ratioSeparateToOnePass: separate.evaluated / sweep.evaluated,
  seconds: { onePass: sweep.seconds, largestAlone: alone.seconds, everyPointSeparately: separate.seconds },
};
if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else {
  console.log(`waits sweep ${points.join(",")} over ${items} items, tiny model (tokens the engine evaluated):`);
  console.log(`  one pass (all points)      ${String(sweep.evaluated).padStart(9)}   ${sweep.seconds.toFixed(2)} s`);
  console.log(`  waits=${largest} alone             ${String(alone.evaluated).padStart(9)}   ${alone.seconds.toFixed(2)} s`);
  console.log(`  every point separately     ${String(separate.evaluated).padStart(9)}   ${separate.seconds.toFixed(2)} s`);
  console.log(`  one pass / largest alone   ${figures.ratioOnePassToLargest.toFixed(3)}  (goal <= 1.15)`);
  console.log(`  separately / one pass      ${figures.ratioSeparateToOnePass.toFixed(2)}x`);
}
