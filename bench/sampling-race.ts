/**
 * The batched sampling race of node-llama-cpp (docs/engine-facts.md, "Batched sampling race"), reproduced
 * with node-llama-cpp alone (no j1 code), for any installed copy of it, so a newer release can be checked:
 *
 *   node dist/bench/sampling-race.js [--node-llama-cpp DIR] [--model GGUF] [--sequences 16] [--tokens 48] [--runs 12]
 *
 * DIR is a folder whose node_modules holds node-llama-cpp (default: this checkout's). Another release can be
 * installed aside without touching j1's lock: `mkdir /tmp/nlc && cd /tmp/nlc && npm init -y &&
 * NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm i -E node-llama-cpp@VERSION`.
 *
 * Each mode runs in its own child process, because libuv reads UV_THREADPOOL_SIZE when its pool starts:
 * - alone: every prompt generated greedily by itself, one sequence (the reference);
 * - batched, one pool thread: all sequences at once in one context (one batch per step), sampled one job
 *   at a time (j1's workaround);
 * - batched, default pool (4 threads), `--runs` times: the samplers of one batch run concurrently.
 * Printed: how many sequences' tokens differ from the reference in each mode (machine-independent counts),
 * then wall times (which move with whatever else runs). On quantized weights a batch can flip a near tie
 * by its numerics alone (then the one-thread batched run differs too), so a model with exact weights (the
 * default: j1's Qwen3-shaped model, 151,936 tokens) separates the race from the arithmetic.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { shapedModelPath } from "../test/helpers/shaped-models.js";

const here = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(here), "../..");

const { values } = parseArgs({
  options: {
    "node-llama-cpp": { type: "string", default: root },
    model: { type: "string" },
    sequences: { type: "string", default: "16" },
    tokens: { type: "string", default: "48" },
    runs: { type: "string", default: "12" },
    child: { type: "string" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (values.help) {
  console.log("usage: node dist/bench/sampling-race.js [--node-llama-cpp DIR] [--model GGUF] [--sequences 16] [--tokens 48] [--runs 12]");
  process.exit(0);
}
const sequences = Number(values.sequences);
const tokens = Number(values.tokens);
const nlcDir = path.resolve(values["node-llama-cpp"] as string);

interface ChildResult {
  version: string;
  ms: number;
  tokens: string[];
}

if (values.child) await child(values.child as "alone" | "batched", values.model as string);
else await parent();

async function child(mode: "alone" | "batched", modelPath: string): Promise<void> {
  const entry = path.join(nlcDir, "node_modules/node-llama-cpp/dist/index.js");
  const { getLlama } = (await import(pathToFileURL(entry).href)) as typeof import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
  const model = await llama.loadModel({ modelPath });
  const topics = ["cats", "rivers", "Rome", "salt", "jazz", "ice", "maps", "owls"];
  const prompts = Array.from({ length: sequences }, (_, index) => model.tokenize(`<|im_start|>user\nTell me one fact about the number ${index * 7 + 3} and one about ${topics[index % topics.length]}.<|im_end|>\n<|im_start|>assistant\n`, true));
  const generate = async (sequence: import("node-llama-cpp").LlamaContextSequence, prompt: import("node-llama-cpp").Token[]) => {
    const out: number[] = [];
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      out.push(token);
      if (out.length >= tokens) break;
    }
    return out.join(",");
  };
  const started = performance.now();
  let results: string[];
  if (mode === "alone") {
    const context = await model.createContext({ sequences: 1, contextSize: 512, threads: 1, batchSize: 512 });
    results = [];
    for (const prompt of prompts) {
      const sequence = context.getSequence();
      results.push(await generate(sequence, prompt));
      sequence.dispose();
    }
  } else {
    const context = await model.createContext({ sequences, contextSize: 512 * sequences, threads: 1, batchSize: 512 });
    const all = prompts.map(() => context.getSequence());
    results = await Promise.all(all.map((sequence, index) => generate(sequence, prompts[index])));
  }
  const version = (JSON.parse(readFileSync(path.join(nlcDir, "node_modules/node-llama-cpp/package.json"), "utf8")) as { version: string }).version;
  process.stdout.write(`${JSON.stringify({ version, ms: Math.round(performance.now() - started), tokens: results } satisfies ChildResult)}\n`);
  process.exit(0);
}

function run(mode: "alone" | "batched", modelPath: string, pool: number | undefined): Promise<ChildResult> {
  const env = { ...process.env };
  if (pool === undefined) delete env.UV_THREADPOOL_SIZE;
  else env.UV_THREADPOOL_SIZE = String(pool);
  const args = [here, "--child", mode, "--model", modelPath, "--node-llama-cpp", nlcDir, "--sequences", String(sequences), "--tokens", String(tokens)];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (chunk) => (out += chunk));
    proc.stderr.on("data", (chunk) => (err += chunk));
    proc.on("close", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`${mode} (pool ${pool ?? "default"}) exited ${code}: ${err.slice(-800)}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

async function parent(): Promise<void> {
  const modelPath = (values.model as string | undefined) ?? (await shapedModelPath("qwen3", { width: 512, layers: 4 }));
  const runs = Number(values.runs);
  const differing = (reference: ChildResult, other: ChildResult) => reference.tokens.filter((text, index) => text !== other.tokens[index]).length;
  const alone = await run("alone", modelPath, 1);
  console.log(`# Batched sampling race: node-llama-cpp ${alone.version} (${nlcDir}), ${sequences} sequences x ${tokens} greedy tokens, ${path.basename(modelPath)}\n`);
  const single = await run("batched", modelPath, 1);
  const pooled: ChildResult[] = [];
  for (let index = 0; index < runs; index++) pooled.push(await run("batched", modelPath, undefined));
  const counts = pooled.map((result) => differing(alone, result));
  console.log("| mode | runs | sequences differing from alone | wall ms |");
  console.log("|---|---|---|---|");
  console.log(`| alone (reference) | 1 | – | ${alone.ms} |`);
  console.log(`| batched, one pool thread | 1 | ${differing(alone, single)} of ${sequences} | ${single.ms} |`);
  console.log(`| batched, default pool | ${runs} | ${counts.reduce((sum, count) => sum + count, 0)} of ${sequences * runs} (per run: ${counts.join(", ")}) | ${pooled.map((result) => result.ms).join(", ")} |`);
}
