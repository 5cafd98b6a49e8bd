/**
 * Benchmark: adaptive against fixed test-time scaling on the controlled judge (engines/tiny/controlled-spec.ts),
 * through the real engine (node-llama-cpp), over the same items.
 *
 *   node dist/bench/adaptive-scaling.js [--items N] [--json]
 *
 * Items: most are ones the judge is sure of and right about (many " sure"); some start wrong and
 * uncertain and flip to right after 1 or 2 waits; a few are surely wrong whatever the budget. That is
 * built in, so the figures measure the policies' mechanics on a known control, not a real judge's gain.
 *
 * For fixed waits 0, 1, 2, 4, 8 and adaptive confident:τ for τ = 0.6 … 0.95 (each stopping within 8 waits):
 * accuracy and mean thinking tokens per judgment with the probes each policy paid for counted; then the
 * tokens the cheapest adaptive point needs to reach the best fixed score, as a ratio of the cheapest fixed
 * point with that score; and the cost of one probe against the verdict step of a plain judgment (what the
 * engine evaluates from the end of thinking to the verdict). Token counts do not depend on the machine.
 */
import { J1Error } from "../src/core/errors.js";
import type { ScalingOptions } from "../src/core/budget.js";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { controlledTinySpec } from "../src/engines/tiny/controlled-spec.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const itemCount = numberFlag(args, "--items", 40);
const asJson = args.includes("--json");
const MAX_WAITS = 8;

interface Item {
  id: string;
  question: string;
  label: "A" | "B";
}

/** The item mix: 70% sure and right, 15% flip after 1 wait, 10% after 2, 5% surely wrong. */
function items(count: number): Item[] {
  const out: Item[] = [];
  const kinds: Array<{ share: number; sure: number; label: "A" | "B"; name: string }> = [
    { share: 0.7, sure: 30, label: "A", name: "sure" },
    { share: 0.15, sure: 1, label: "B", name: "flip1" },
    { share: 0.1, sure: 2, label: "B", name: "flip2" },
    { share: 0.05, sure: 30, label: "B", name: "wrong" },
  ];
  for (const kind of kinds) {
    const n = Math.max(1, Math.round(kind.share * count));
    for (let index = 0; index < n; index++) out.push({ id: `${kind.name}-${index}`, question: `Item ${kind.name} ${index}: which is better?${" sure".repeat(kind.sure)} maybe`, label: kind.label });
  }
  return out;
}

interface Row {
  point: string;
  adaptive: boolean;
  accuracy: number;
  /** Mean thinking tokens + probe tokens paid, per judgment. */
  meanCost: number;
  meanThinking: number;
  meanProbeTokens: number;
  meanProbes: number;
  meanWaits: number;
}

async function main(): Promise<void> {
  const model = await ensureTinyModel({ spec: controlledTinySpec() });
  const engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048, sequences: 1 });
  try {
    const list = items(itemCount);
    const measure = async (point: string, scaling: Partial<ScalingOptions>, adaptive: boolean): Promise<Row> => {
      const judge = new Judge({ engine, chatFormat: "chatml", scaling });
      let right = 0;
      let thinking = 0;
      let probeTokens = 0;
      let probes = 0;
      let waits = 0;
      for (const item of list) {
        const judgment = await judge.judgePair({ question: item.question, a: "first answer", b: "second answer" });
        if (judgment.status !== "ok" && judgment.status !== "inconsistent") throw new J1Error("engine", `${point} ${item.id}: ${judgment.status} ${judgment.error ?? ""}`);
        if (judgment.verdict === item.label) right++;
        thinking += judgment.usage.thinkingTokens;
        probeTokens += judgment.usage.probeTokens ?? 0;
        // The last probe of an adaptive judgment is its answer, not a paid probe.
        probes += Math.max(0, (judgment.probes?.length ?? 0) - (adaptive ? 1 : 0));
        waits += judgment.waitsUsed;
      }
      const n = list.length;
      return { point, adaptive, accuracy: (100 * right) / n, meanCost: (thinking + probeTokens) / n, meanThinking: thinking / n, meanProbeTokens: probeTokens / n, meanProbes: probes / n, meanWaits: waits / n };
    };

    const rows: Row[] = [];
    for (const waits of [0, 1, 2, 4, 8]) rows.push(await measure(`waits=${waits}`, { waits }, false));
    for (const tau of [0.6, 0.7, 0.8, 0.9, 0.95]) rows.push(await measure(`confident:${tau}`, { waits: MAX_WAITS, stopWhen: { rule: "confident", value: tau } }, true));

    // The verdict step of a plain judgment: evaluated tokens from the end of thinking to the verdict.
    const plain = await new Judge({ engine, chatFormat: "chatml", scaling: { waits: 0 } }).judgePair({ question: list[0].question, a: "first answer", b: "second answer" });
    const verdictStep = plain.trace.filter((span) => span.source !== "prompt" && (span.role === "think-end" || span.role === "answer-prefix" || span.role === "answer")).reduce((sum, span) => sum + span.tokens, 0);

    const fixed = rows.filter((row) => !row.adaptive);
    const best = Math.max(...fixed.map((row) => row.accuracy));
    const reference = fixed.filter((row) => row.accuracy === best).sort((x, y) => x.meanCost - y.meanCost)[0];
    const reaching = rows.filter((row) => row.adaptive && row.accuracy >= best).sort((x, y) => x.meanCost - y.meanCost)[0];
    const probing = rows.filter((row) => row.adaptive && row.meanProbes > 0);
    const tokensPerProbe = probing.length ? probing.reduce((sum, row) => sum + row.meanProbeTokens / row.meanProbes, 0) / probing.length : 0;
    const summary = {
      items: list.length,
      bestFixed: { point: reference.point, accuracy: reference.accuracy, meanCost: reference.meanCost },
      adaptiveAtBest: reaching ? { point: reaching.point, accuracy: reaching.accuracy, meanCost: reaching.meanCost, ratio: reaching.meanCost / reference.meanCost } : null,
      tokensPerProbe,
      verdictStepTokens: verdictStep,
      // The last token sampled (the verdict's closing "]]") is never fed back, so the step evaluates one fewer.
      verdictStepEvaluated: verdictStep - 1,
      probeVsVerdictStep: verdictStep > 1 ? tokensPerProbe / (verdictStep - 1) : Number.NaN,
    };
    if (asJson) {
      process.stdout.write(`${JSON.stringify({ rows, summary }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`controlled judge, ${list.length} items (70% sure and right, 15% flip after 1 wait, 10% after 2, 5% surely wrong)\n\n`);
    process.stdout.write("point            accuracy  tokens/judgment (thinking + probes)  thinking  probe tokens  probes  waits\n");
    for (const row of rows) {
      process.stdout.write(
        `${row.point.padEnd(16)} ${row.accuracy.toFixed(1).padStart(8)}  ${row.meanCost.toFixed(1).padStart(35)}  ${row.meanThinking.toFixed(1).padStart(8)}  ${row.meanProbeTokens.toFixed(1).padStart(12)}  ${row.meanProbes.toFixed(2).padStart(6)}  ${row.meanWaits.toFixed(2).padStart(5)}\n`,
      );
    }
    process.stdout.write(`\nbest fixed score ${best.toFixed(1)} at ${reference.point}: ${reference.meanCost.toFixed(1)} tokens per judgment\n`);
    process.stdout.write(
      reaching
        ? `cheapest adaptive point at that score: ${reaching.point}, ${reaching.meanCost.toFixed(1)} tokens: ratio ${(reaching.meanCost / reference.meanCost).toFixed(3)}\n`
        : "no adaptive point reaches the best fixed score\n",
    );
    process.stdout.write(
      `one probe evaluates ${tokensPerProbe.toFixed(2)} tokens; a plain judgment's verdict step is ${verdictStep} trace tokens, ${verdictStep - 1} evaluated (the last sampled token is never fed): ratio ${summary.probeVsVerdictStep.toFixed(2)}\n`,
    );
  } finally {
    await engine.dispose();
  }
}

await main();
