/**
 * `j1 serve` against the library, judging the same pairs in the same process on the tiny model (one
 * sequence: the engine runs one judgment at a time, as the node-llama-cpp parallel-sampler note in
 * cli/engine-flags.ts asks for in-process runs).
 *
 *   node dist/bench/serve-throughput.js [--pairs 60] [--rounds 3] [--waits 1] [--json]
 *
 * Per round, alternating: the library (`Judge.judgePair` in a loop), then the service over real HTTP on
 * 127.0.0.1 with 1 client (one request after another) and with 16 concurrent clients (the queue holds
 * them). Reports judgments/s (median of rounds), the ratio to the library (goal ≥ 0.95), and the p50/p99
 * latency of one request. Machine-independent check: the service's judgments equal the library's.
 */
import { DEFAULT_SCALING } from "../src/core/budget.js";
import type { Judgment } from "../src/core/judgment.js";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { Judge } from "../src/judge/judge.js";
import { createJudgeApp } from "../src/server/judge-app.js";
import { listen } from "../src/server/reward-server.js";
import { median, numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const count = numberFlag(args, "--pairs", 60);
const rounds = numberFlag(args, "--rounds", 3);
const asJson = args.includes("--json");
const WAITS = numberFlag(args, "--waits", 1);

const pairs = Array.from({ length: count }, (_, index) => ({ question: `What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1) }));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 2048, sequences: 1 });
  const server = await listen(createJudgeApp({ engine, maxBodyBytes: 1 << 20, queueLimit: 64, requestTimeoutMs: 600_000, format: { chatFormat: "chatml" } }), "127.0.0.1", 0);
  try {
    const judge = new Judge({ engine, chatFormat: "chatml", scaling: { ...DEFAULT_SCALING, waits: WAITS, maxThinkingTokens: 4096 } });
    const library = async () => {
      const started = performance.now();
      const verdicts: Array<string | null> = [];
      for (const pair of pairs) verdicts.push((await judge.judgePair(pair, { seed: 0, itemKey: "cli", samples: 1, temperature: 0 })).verdict);
      return { seconds: (performance.now() - started) / 1000, verdicts, latencies: [] as number[] };
    };
    const post = async (pair: (typeof pairs)[number]) => {
      const started = performance.now();
      const reply = await fetch(`${server.url}/v1/judgments`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...pair, waits: WAITS }) });
      if (reply.status !== 200) throw new Error(`service answered ${reply.status}: ${await reply.text()}`);
      const judgment = (await reply.json()) as Judgment;
      return { verdict: judgment.verdict, ms: performance.now() - started };
    };
    const service = async (clients: number) => {
      const started = performance.now();
      const verdicts: Array<string | null> = new Array(pairs.length);
      const latencies: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < pairs.length) {
            const index = next++;
            const { verdict, ms } = await post(pairs[index]);
            verdicts[index] = verdict;
            latencies.push(ms);
          }
        }),
      );
      return { seconds: (performance.now() - started) / 1000, verdicts, latencies };
    };

    // Warm-up: the first judgments pay for loading and allocation.
    for (const pair of pairs.slice(0, 3)) await judge.judgePair(pair);
    const results = { library: [] as number[], one: [] as number[], sixteen: [] as number[] };
    const latencies = { one: [] as number[], sixteen: [] as number[] };
    let same = true;
    for (let round = 0; round < rounds; round++) {
      const base = await library();
      const one = await service(1);
      const sixteen = await service(16);
      results.library.push(count / base.seconds);
      results.one.push(count / one.seconds);
      results.sixteen.push(count / sixteen.seconds);
      latencies.one.push(...one.latencies);
      latencies.sixteen.push(...sixteen.latencies);
      same &&= JSON.stringify(base.verdicts) === JSON.stringify(one.verdicts) && JSON.stringify(base.verdicts) === JSON.stringify(sixteen.verdicts);
    }
    const lib = median(results.library);
    const rows = [
      { name: "library (Judge.judgePair loop)", rate: lib, ratio: 1, p50: undefined, p99: undefined },
      { name: "j1 serve, 1 client", rate: median(results.one), ratio: median(results.one) / lib, p50: percentile(latencies.one, 50), p99: percentile(latencies.one, 99) },
      { name: "j1 serve, 16 clients", rate: median(results.sixteen), ratio: median(results.sixteen) / lib, p50: percentile(latencies.sixteen, 50), p99: percentile(latencies.sixteen, 99) },
    ];
    if (asJson) {
      process.stdout.write(`${JSON.stringify({ pairs: count, rounds, waits: WAITS, sameVerdicts: same, rows }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${count} pairs, waits ${WAITS}, tiny model, one sequence, median of ${rounds} alternating rounds\n\n`);
    process.stdout.write("                                 judgments/s  vs library  p50 ms  p99 ms\n");
    for (const row of rows) {
      process.stdout.write(`${row.name.padEnd(32)} ${row.rate.toFixed(1).padStart(11)}  ${row.ratio.toFixed(3).padStart(10)}  ${row.p50 === undefined ? "     -" : row.p50.toFixed(1).padStart(6)}  ${row.p99 === undefined ? "     -" : row.p99.toFixed(1).padStart(6)}\n`);
    }
    process.stdout.write(`\nsame verdicts from the service as from the library: ${same ? "yes" : "NO"}\n`);
  } finally {
    await server.close();
    await engine.dispose();
  }
}

await main();
