/**
 * Benchmark (issue 19, item 3, re-measured on real weights): in-process batching on the real GGUF models
 * that `npm run models:real` fetches and verifies, against the same work one sequence at a time, in one
 * process with one libuv pool thread (as `bin/j1` runs; node-llama-cpp 3.21.1 samples a batch's
 * sequences on the pool, and more than one thread races on llama.cpp's logits reorder: docs/engine-facts.md).
 *
 *   node dist/bench/real-batching.js [--models smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b]
 *                                    [--sizes 1,4,16] [--tokens 48] [--rounds 3] [--threads 1] [--no-server] [--no-in-process]
 *
 * Each of K sessions holds its own prompt (a counting task from its own start, so greedy text runs on for
 * as long as asked and the batch stays full) and generates `--tokens` greedy tokens; all K at once on one
 * context with K sequences ("batched"), then the same K prompts one after another on one sequence
 * ("one by one"). Prompts are fed and one token generated before each clock starts. Rounds alternate the
 * two so load drifts hit both; medians. Also: sequences per decode batch (read from node-llama-cpp's
 * native context, for the figure only), and how many batched sequences' text differs from its one-by-one
 * twin (on real weights a batch's arithmetic can flip a near tie; the race would flip many).
 *
 * The same on llama-server (built from the same llama.cpp source; `--no-server` skips it), with K slots:
 * K requests at once against the same K one after another on that server, each prompt sent once before
 * timing so it is cached: what the hardware gives a batch when sampling runs on the server's one thread.
 *
 * The goal in the issue: total tokens/s at 16 sequences >= 2.5x one sequence.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { PromptSegment } from "../src/core/template.js";
import type { EngineSession } from "../src/engines/engine.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { verifiedRealModelPath } from "../src/engines/real-models/fetch-real-models.js";
import { batchFill } from "./batch-fill.js";
import { median } from "./bench-args.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b" },
    sizes: { type: "string", default: "1,4,16" },
    tokens: { type: "string", default: "48" },
    rounds: { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
    server: { type: "boolean", default: true },
    "in-process": { type: "boolean", default: true },
    help: { type: "boolean", default: false },
  },
  strict: true,
  allowNegative: true,
});
if (values.help) {
  console.log("usage: node dist/bench/real-batching.js [--models a,b] [--sizes 1,4,16] [--tokens 48] [--rounds 3] [--threads 1] [--no-server] [--no-in-process]");
  process.exit(0);
}
const positive = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`real-batching: --${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
};
const models = values.models.split(",").filter(Boolean);
const sizes = values.sizes.split(",").map((size) => positive("sizes", size));
const tokens = positive("tokens", values.tokens);
const rounds = positive("rounds", values.rounds);
const threads = positive("threads", values.threads);

// The pool size must be set before Node starts its pool: run again in a child with one thread, as bin/j1 does.
if (process.env.UV_THREADPOOL_SIZE !== "1") {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: "1" },
    stdio: "inherit",
  });
  process.exit(child.status ?? 1);
}

const f = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(String).join(" | ")} |`);
  return lines.join("\n");
}

/** A prompt whose greedy continuation goes on: counting on from a start of its own. */
function countingPrompt(start: number): PromptSegment[] {
  const numbers = Array.from({ length: 6 }, (_, i) => String(start + i)).join(", ");
  return [{ text: `Count upwards by one, separated by commas, and never stop.\n${numbers},`, trusted: true }];
}

interface Generated {
  text: string;
  tokens: number;
}

/** Greedy tokens up to `count` (an end of generation stops early, and shows in the token count). */
async function run(session: EngineSession, count: number): Promise<Generated> {
  const step = await session.generate({ stopAt: "</think>", maxTokens: count, temperature: 0, seed: 1 });
  return { text: step.text, tokens: step.tokens };
}

/** A session with its prompt fed and one token generated, so the clock that follows times generation only. */
async function primed(engine: LlamaCppEngine, start: number): Promise<EngineSession> {
  const session = await engine.open(countingPrompt(start));
  await run(session, 1);
  return session;
}

/** One /completion on llama-server: greedy, `count` tokens, the prompt's cached prefix reused. */
async function complete(baseUrl: string, start: number, count: number): Promise<Generated> {
  const prompt = countingPrompt(start)[0].text;
  const response = await fetch(`${baseUrl}/completion`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, n_predict: count, temperature: 0, cache_prompt: true, ignore_eos: false }),
  });
  if (!response.ok) throw new Error(`llama-server answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { content: string; tokens_predicted: number };
  return { text: body.content, tokens: body.tokens_predicted };
}

/** The same comparison on llama-server with `size` slots: K requests at once against K one after another. */
async function measureServer(modelPath: string, size: number): Promise<Array<string | number>> {
  const { findLlamaServer, startLlamaServer } = await import("../test/helpers/llama-server.js");
  const binary = findLlamaServer();
  if (!binary) throw new Error("llama-server is not built: run scripts/build-llama-server.sh (or pass --no-server)");
  const server = await startLlamaServer({ modelPath, binary, contextSize: 256 * size, parallel: size, threads });
  const batchedRates: number[] = [];
  const sequentialRates: number[] = [];
  let differ = 0;
  let compared = 0;
  try {
    for (let round = -1; round < rounds; round++) {
      const starts = Array.from({ length: size }, (_, k) => 100 * (round + 2) + 37 * k);
      // Each prompt once, one at a time, so every slot holds one and the timed requests find it cached.
      for (const start of starts) await complete(server.baseUrl, start, 1);
      const order = round % 2 === 0 ? ["batched", "sequential"] : ["sequential", "batched"];
      let batched: Generated[] = [];
      const sequential: Generated[] = [];
      for (const side of order) {
        const started = performance.now();
        if (side === "batched") batched = await Promise.all(starts.map((start) => complete(server.baseUrl, start, tokens)));
        else for (const start of starts) sequential.push(await complete(server.baseUrl, start, tokens));
        const seconds = (performance.now() - started) / 1000;
        const total = (side === "batched" ? batched : sequential).reduce((sum, one) => sum + one.tokens, 0);
        if (round >= 0) (side === "batched" ? batchedRates : sequentialRates).push(total / seconds);
      }
      if (round < 0) continue;
      for (const [k, one] of batched.entries()) {
        compared++;
        if (one.text !== sequential[k].text) differ++;
      }
    }
  } finally {
    await server.stop();
  }
  const batchedRate = median(batchedRates);
  const sequentialRate = median(sequentialRates);
  return [size, f(batchedRate, 1), f(sequentialRate, 1), `${f(batchedRate / sequentialRate)}x`, `${differ}/${compared}`];
}

async function measureModel(model: string): Promise<void> {
  const modelPath = await verifiedRealModelPath(path.join(ROOT, "scripts/real-models.json"), model);
  console.log(`## ${model}\n`);
  if (values["in-process"]) await measureInProcess(model, modelPath);
  if (!values.server) return;
  const serverRows: Array<Array<string | number>> = [];
  for (const size of sizes) serverRows.push(await measureServer(modelPath, size));
  console.log(`llama-server (-np K, -t ${threads}), the same prompts and token counts; wall time of the K requests, the prompts cached:\n`);
  console.log(table(["K", "at once tok/s", "one after another tok/s", "speedup", "text differs"], serverRows));
  console.log("");
}

async function measureInProcess(model: string, modelPath: string): Promise<void> {
  const narrow = await createLlamaCppEngine({ model: modelPath, threads, contextSize: 1024, sequences: 1 });
  const rows: Array<Array<string | number>> = [];
  const examples: string[] = [];
  try {
    for (const size of sizes) {
      const wide = await createLlamaCppEngine({ model: modelPath, threads, contextSize: 256 * size, sequences: size });
      const fill = batchFill(wide);
      const batchedRates: number[] = [];
      const sequentialRates: number[] = [];
      const fills: number[] = [];
      let differ = 0;
      let compared = 0;
      let short = 0;
      try {
        for (let round = -1; round < rounds; round++) {
          const starts = Array.from({ length: size }, (_, k) => 100 * (round + 2) + 37 * k);
          // Alternate which goes first, so a load change mid-round does not always land on one side.
          const order = round % 2 === 0 ? ["batched", "sequential"] : ["sequential", "batched"];
          let batched: Generated[] = [];
          let sequential: Generated[] = [];
          for (const side of order) {
            if (side === "batched") {
              const sessions = await Promise.all(starts.map((start) => primed(wide, start)));
              fill.take();
              const started = performance.now();
              batched = await Promise.all(sessions.map((session) => run(session, tokens)));
              const ms = performance.now() - started;
              const filled = fill.take();
              await Promise.all(sessions.map((session) => session.close()));
              if (round >= 0) {
                batchedRates.push(batched.reduce((sum, one) => sum + one.tokens, 0) / (ms / 1000));
                fills.push(filled.sequences / filled.batches);
              }
            } else {
              let ms = 0;
              sequential = [];
              for (const start of starts) {
                const session = await primed(narrow, start);
                const started = performance.now();
                sequential.push(await run(session, tokens));
                ms += performance.now() - started;
                await session.close();
              }
              if (round >= 0) sequentialRates.push(sequential.reduce((sum, one) => sum + one.tokens, 0) / (ms / 1000));
            }
          }
          if (round < 0) continue; // warm-up
          for (const [k, one] of batched.entries()) {
            compared++;
            if (one.tokens < tokens) short++;
            if (one.text === sequential[k].text) continue;
            differ++;
            if (examples.length < 2) {
              let at = 0;
              while (one.text[at] === sequential[k].text[at]) at++;
              examples.push(`${model} K=${size}: batched ${JSON.stringify(one.text.slice(Math.max(0, at - 12), at + 12))} one-by-one ${JSON.stringify(sequential[k].text.slice(Math.max(0, at - 12), at + 12))}`);
            }
          }
        }
      } finally {
        await wide.dispose();
      }
      const batchedRate = median(batchedRates);
      const sequentialRate = median(sequentialRates);
      rows.push([size, f(batchedRate, 1), f(sequentialRate, 1), `${f(batchedRate / sequentialRate)}x`, f(median(fills), 1), `${differ}/${compared}`, short]);
    }
  } finally {
    await narrow.dispose();
  }
  console.log("In process (node-llama-cpp, K sequences of one context against one sequence):\n");
  console.log(table(["K", "batched tok/s", "one-by-one tok/s", "speedup", "sequences per batch", "batched text differs", "ended early"], rows));
  if (examples.length > 0) console.log(`\nwhere batched and one-by-one text part, e.g.: ${examples.join("; ")}`);
  console.log("");
}

console.log(`# In-process batching on real weights (node-llama-cpp, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, threads ${threads})\n`);
console.log(`${tokens} greedy tokens per sequence, ${rounds} rounds after one untimed, batched and one-by-one alternating, medians; prompts fed before timing. Goal: speedup >= 2.5x at K = 16.\n`);
for (const model of models) await measureModel(model);
