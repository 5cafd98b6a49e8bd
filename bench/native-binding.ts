/**
 * Prompt evaluation and decoding on real weights: node-llama-cpp's prebuilt binary against the native local
 * build (scripts/build-node-llama-cpp.sh) against llama-server built from the same llama.cpp source with the
 * same instruction sets (scripts/build-llama-server.sh), in one run (issue 19, item 4: in process, prompt
 * evaluation at >= 0.95 of llama-server's speed).
 *
 *   nice -n 10 node dist/bench/native-binding.js [--models qwen3-shaped,smollm2-135m,gemma3-270m] [--prompts 400,1600]
 *       [--decode 64] [--rounds 5] [--threads 1]
 *
 * The two bindings cannot load in one process: each runs in a child process started with
 * J1_LLAMA_BINDING=prebuilt or =native, which loads node-llama-cpp through j1's own runtime
 * (src/engines/llamacpp/llama-runtime.ts) and says which binary it loaded (j1's report and the
 * llama-addon.node mapped into the process). llama-server runs with -np 1, the same threads and context.
 *
 * Every engine evaluates the same token ids (tokenized once by the prebuilt child), with nothing cached: in
 * process a cleared sequence; llama-server `cache_prompt: false`. Counts first: the tokens each engine
 * evaluated (node-llama-cpp's token meter; the server's `timings.prompt_n` + `predicted_n` - 1). Then the CPU time of the
 * engine's process for the request (all its threads: /proc/<pid>/task/<tid>/schedstat, read by this process
 * before and after, the same way for all three), the median over rounds; engines go in a rotating order
 * each round. Wall time is printed too but moves with whatever else runs on the machine.
 * llama-server's request also samples one token after the prompt (n_predict 0 still samples once), which the
 * in-process prompt evaluation does not.
 *
 * Decoding: a short prompt, then `--decode` tokens generated greedily (llama-server: ignore_eos), CPU per
 * generated token including the short prompt.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { verifiedRealModelPath } from "../src/engines/real-models/fetch-real-models.js";
import { getRuntime, readNativeBuild, runtimeBinding } from "../src/engines/llamacpp/llama-runtime.js";
import { REAL_MODEL_MANIFEST, type RealModelName } from "../test/helpers/real-models.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "../test/helpers/llama-server.js";
import { shapedModelPath } from "../test/helpers/shaped-models.js";
import { median } from "./bench-args.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const CONTEXT = 4096;
const BATCH = 512;
const TEXT =
  "The committee met on a grey morning to weigh the two proposals. The first asked for a new bridge across the river, " +
  "built of steel and paid for over thirty years; the second asked for two more ferries and a wider landing on each bank. " +
  "Engineers spoke of loads, tides and the soft clay under the eastern pier, while the treasurer read out the costs line by line. ";

// ---- the child: one binding, one model at a time ---------------------------------------------------------

interface Request {
  op: "load" | "tokens" | "prompt" | "decode" | "exit";
  model?: string;
  count?: number;
  tokens?: number[];
}

async function child(): Promise<void> {
  const threads = Number(option("--threads", "1"));
  const llama = await getRuntime();
  const mapped = () => [...new Set(readFileSync("/proc/self/maps", "utf8").split("\n").map((line) => line.split(/\s+/).slice(5).join(" ")))];
  const addon = mapped().filter((file) => file.endsWith("llama-addon.node"));
  const send = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  send({ ready: true, ...runtimeBinding(), addon, systemInfo: llama.systemInfo });
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let sequence: LlamaContextSequence | undefined;
  const used = () => sequence!.tokenMeter.usedInputTokens + sequence!.tokenMeter.usedOutputTokens;
  for await (const line of createInterface({ input: process.stdin })) {
    const request = JSON.parse(line) as Request;
    if (request.op === "exit") break;
    if (request.op === "load") {
      await context?.dispose();
      await model?.dispose();
      model = await llama.loadModel({ modelPath: request.model! });
      context = await model.createContext({ contextSize: CONTEXT, sequences: 1, threads, batchSize: BATCH });
      sequence = context.getSequence();
      // The prebuilt binary loads one CPU backend per x86 generation (libggml-cpu-<variant>.so): which one.
      send({ loaded: true, cpuBackend: mapped().filter((file) => /libggml-cpu[^/]*\.so$/.test(file)).map((file) => path.basename(file)) });
    } else if (request.op === "tokens") {
      const one = model!.tokenize(TEXT, false) as number[];
      const tokens: number[] = [];
      while (tokens.length < request.count!) tokens.push(...one);
      send({ tokens: tokens.slice(0, request.count!) });
    } else if (request.op === "prompt") {
      await sequence!.clearHistory();
      const before = used();
      const began = performance.now();
      await sequence!.evaluateWithoutGeneratingNewTokens(request.tokens! as Token[]);
      send({ ms: performance.now() - began, evaluated: used() - before });
    } else if (request.op === "decode") {
      await sequence!.clearHistory();
      const before = used();
      const began = performance.now();
      let generated = 0;
      const iterator = sequence!.evaluate(request.tokens! as Token[], { temperature: 0, yieldEogToken: true });
      for await (const token of iterator) {
        void token;
        if (++generated >= request.count!) break;
      }
      send({ ms: performance.now() - began, generated, evaluated: used() - before });
    }
  }
  await context?.dispose();
  await model?.dispose();
  await llama.dispose();
}

// ---- the parent --------------------------------------------------------------------------------------------

/** CPU time of all the threads of a process, in ms (schedstat: ns on CPU, per thread). */
function processCpuMs(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return total / 1e6;
}

interface Worker {
  name: string;
  pid: number;
  ask(request: Request): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  info: Record<string, unknown>;
}

async function startWorker(name: string, binding: "prebuilt" | "native", threads: number): Promise<Worker> {
  const proc: ChildProcessWithoutNullStreams = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", "--threads", String(threads)], {
    env: { ...process.env, J1_LLAMA_BINDING: binding },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = createInterface({ input: proc.stdout });
  const waiting: Array<(value: Record<string, unknown>) => void> = [];
  const failed = new Promise<never>((_, reject) => proc.once("exit", (code) => reject(new Error(`${name} child exited ${code}: ${stderr}`))));
  failed.catch(() => undefined);
  lines.on("line", (line) => {
    if (process.env.BENCH_DEBUG) console.error(`[${name}] ${line.slice(0, 200)}`);
    waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
  });
  const next = () => Promise.race([new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve)), failed]);
  const info = await next();
  return {
    name,
    pid: proc.pid!,
    info,
    ask(request) {
      const answer = next();
      if (process.env.BENCH_DEBUG) console.error(`[${name}] <- ${JSON.stringify(request).slice(0, 200)}`);
      proc.stdin.write(`${JSON.stringify(request)}\n`);
      return answer;
    },
    async close() {
      proc.stdin.write(`${JSON.stringify({ op: "exit" })}\n`);
      await new Promise((resolve) => proc.once("exit", resolve));
    },
  };
}

interface Measure {
  cpuMs: number;
  wallMs: number;
  evaluated: number;
  generated?: number;
}

async function inProcess(worker: Worker, request: Request): Promise<Measure> {
  const cpu = processCpuMs(worker.pid);
  const answer = await worker.ask(request);
  return { cpuMs: processCpuMs(worker.pid) - cpu, wallMs: answer.ms as number, evaluated: answer.evaluated as number, generated: answer.generated as number | undefined };
}

async function overHttp(server: RunningLlamaServer, tokens: number[], decode: number): Promise<Measure> {
  const cpu = processCpuMs(server.pid);
  const began = performance.now();
  const response = await fetch(`${server.baseUrl}/completion`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: tokens, n_predict: decode, cache_prompt: false, temperature: 0, ignore_eos: decode > 0, samplers: ["top_k"], top_k: 1 }),
  });
  const body = (await response.json()) as { timings?: { prompt_n: number; predicted_n: number } };
  if (!response.ok || !body.timings) throw new Error(`llama-server answered ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
  // Evaluated as in process: the prompt, then every sampled token but the last fed back (docs/engine-facts.md).
  const { prompt_n: prompt, predicted_n: predicted } = body.timings;
  return { cpuMs: processCpuMs(server.pid) - cpu, wallMs: performance.now() - began, evaluated: prompt + Math.max(0, predicted - 1), generated: predicted };
}

/** The cmake flags line of the server's BUILD-INFO (scripts/build-llama-server.sh). */
function buildFlags(binary: string): string {
  try {
    return readFileSync(path.resolve(binary, "../../BUILD-INFO"), "utf8").split("\n").find((line) => line.startsWith("cmake flags")) ?? "no cmake flags in BUILD-INFO";
  } catch {
    return "no BUILD-INFO";
  }
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function table(headers: string[], rows: Array<Array<string | number>>): string {
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.map(String).join(" | ")} |`)].join("\n");
}

async function parent(): Promise<void> {
  const models = option("--models", "qwen3-shaped,smollm2-135m,gemma3-270m").split(",") as Array<RealModelName | "qwen3-shaped">;
  const prompts = option("--prompts", "400,1600").split(",").map(Number);
  const decode = Number(option("--decode", "64"));
  const rounds = Number(option("--rounds", "5"));
  const threads = Number(option("--threads", "1"));
  const binary = findLlamaServer();
  const native = readNativeBuild();

  console.log(`# Native binding: prebuilt vs native local build vs llama-server (threads ${threads}, context ${CONTEXT}, batch ${BATCH}, ${rounds} rounds after one untimed, medians)\n`);
  const workers: Worker[] = [await startWorker("prebuilt", "prebuilt", threads)];
  if (native.record) workers.push(await startWorker("native", "native", threads));
  else console.log(`native local build: none usable (${native.skipped ?? "not built: run scripts/build-node-llama-cpp.sh"}); its column is skipped\n`);
  for (const worker of workers) {
    console.log(`${worker.name}: j1 reports binding "${worker.info.binding as string}"; loaded ${(worker.info.addon as string[]).join(", ")}`);
    console.log(`  ${String(worker.info.systemInfo).trim()}`);
  }
  if (!binary) console.log("llama-server not built (scripts/build-llama-server.sh): its column is skipped");
  else console.log(`llama-server: ${binary}; ${buildFlags(binary)}`);
  console.log("");

  const summary: Record<string, unknown>[] = [];
  try {
    for (const name of models) {
      // "qwen3-shaped": the Qwen3-shaped test model (64 wide x 2 layers, 151,936-token vocabulary), where
      // issue 19 measured the prebuilt binary 1.55-1.8x slower than llama-server on prompts.
      const modelPath = name === "qwen3-shaped" ? await shapedModelPath("qwen3") : await verifiedRealModelPath(REAL_MODEL_MANIFEST, name);
      const backends: string[] = [];
      for (const worker of workers) backends.push(`${worker.name}: ${((await worker.ask({ op: "load", model: modelPath })).cpuBackend as string[]).join(", ") || "ggml CPU backend linked in"}`);
      const server = binary ? await startLlamaServer({ modelPath, binary, contextSize: CONTEXT, parallel: 1, threads, extraArgs: ["-b", String(BATCH), "-ub", String(BATCH)] }) : undefined;
      try {
        const engines = [...workers.map((worker) => worker.name), ...(server ? ["llama-server"] : [])];
        const cases = [...prompts.map((count) => ({ kind: "prompt" as const, count })), { kind: "decode" as const, count: 16 }];
        const results = new Map<string, Measure[]>();
        for (const item of cases) {
          const tokens = (await workers[0].ask({ op: "tokens", count: item.count })).tokens as number[];
          for (let round = 0; round <= rounds; round++) {
            // A rotating order, so no engine always runs first (or right after another).
            const order = engines.map((_, index) => engines[(index + round) % engines.length]);
            for (const engine of order) {
              const worker = workers.find((entry) => entry.name === engine);
              const measure = worker
                ? await inProcess(worker, item.kind === "prompt" ? { op: "prompt", tokens } : { op: "decode", tokens, count: decode })
                : await overHttp(server!, tokens, item.kind === "prompt" ? 0 : decode);
              if (round === 0) continue;
              const key = `${item.kind} ${item.count} ${engine}`;
              results.set(key, [...(results.get(key) ?? []), measure]);
            }
          }
        }
        const rows: Array<Array<string | number>> = [];
        const figure = (item: (typeof cases)[number], engine: string) => {
          const measures = results.get(`${item.kind} ${item.count} ${engine}`);
          if (!measures) return undefined;
          // Per prompt token, or per generated token (the decode case's CPU includes its 16-token prompt).
          const per = item.kind === "prompt" ? item.count : (measures[0].generated ?? decode);
          return {
            evaluated: measures[0].evaluated,
            generated: measures[0].generated ?? 0,
            cpu: median(measures.map((measure) => measure.cpuMs)),
            wall: median(measures.map((measure) => measure.wallMs)),
            perToken: median(measures.map((measure) => measure.cpuMs)) / per,
          };
        };
        for (const item of cases) {
          const prebuilt = figure(item, "prebuilt");
          const nativeFigure = figure(item, "native");
          const http = figure(item, "llama-server");
          const label = item.kind === "prompt" ? `prompt ${item.count}` : `decode ${decode} after ${item.count}`;
          const cell = (value: ReturnType<typeof figure>) => (value ? `${value.evaluated}${item.kind === "decode" ? ` + ${value.generated} gen` : ""}` : "-");
          const cpu = (value: ReturnType<typeof figure>) => (value ? `${f(value.cpu)} (${f(value.perToken, 3)}/tok)` : "-");
          const speed = (over?: ReturnType<typeof figure>, under?: ReturnType<typeof figure>) => (over && under ? f(over.cpu / under.cpu, 2) : "-");
          rows.push([label, cell(prebuilt), cell(nativeFigure), cell(http), cpu(prebuilt), cpu(nativeFigure), cpu(http), speed(prebuilt, nativeFigure), speed(http, nativeFigure), speed(http, prebuilt), `${f(prebuilt?.wall ?? NaN, 0)} / ${f(nativeFigure?.wall ?? NaN, 0)} / ${f(http?.wall ?? NaN, 0)}`]);
          summary.push({ model: name, case: label, prebuilt, native: nativeFigure, llamaServer: http });
        }
        console.log(`## ${name}\n`);
        console.log(`CPU backend loaded: ${backends.join("; ")}\n`);
        console.log(
          table(
            ["case", "evaluated: prebuilt", "native", "llama-server", "CPU ms: prebuilt", "native", "llama-server", "native speed / prebuilt", "native speed / llama-server", "prebuilt speed / llama-server", "wall ms p / n / s"],
            rows,
          ),
        );
        console.log("");
      } finally {
        await server?.stop();
      }
    }
  } finally {
    for (const worker of workers) await worker.close();
  }
  console.log(`"speed X / Y" = CPU time of Y / CPU time of X (above 1: X is faster). Goal (issue 19, item 4): native speed / llama-server >= 0.95 on prompts.`);
  console.log(JSON.stringify({ threads, rounds, decode, summary }));
}

if (args.includes("--child")) {
  await child();
  // stdin's handle would keep the child alive after the loop.
  process.exit(0);
} else await parent();
