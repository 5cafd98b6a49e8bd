/**
 * Real weights, both engines, the CLI's defaults: the same judgment in process and through `--base-url` on
 * j1's llama-server serving the same GGUF must give the same prompt (text and token count), the same trace
 * (every span's source, role, text and token count), the same verdict, and confidences within 0.05, the
 * tolerance of test/real-model-conformance.test.ts (quantized numerics depend on the batch path: measured
 * 0.004 to 0.015 across the engines, 0.02 within one; docs/engine-facts.md, "Real weights"). The issue's
 * done-when check for real weights, as a script (not in CI: the default thinking cap of 4,096 tokens makes
 * each judgment minutes of CPU on models that never end their thinking).
 *
 *   node dist/bench/real-engines-agree.js [--models smollm2-135m,gemma3-270m] [--threads 2] [--max-thinking N]
 *
 * Prints one line per model and a JSON summary; exits 1 when any model's judgments differ.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { verifiedRealModelPath } from "../src/engines/real-models/fetch-real-models.js";
import { findLlamaServer, startLlamaServer } from "../test/helpers/llama-server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const models = option("--models", "smollm2-135m,gemma3-270m").split(",");
const threads = option("--threads", "2");
const maxThinking = option("--max-thinking", "");
const PAIR = ["-q", "2+2?", "-a", "4", "-b", "5"];
const CONFIDENCE_TOLERANCE = 0.05;

interface Span {
  source: string;
  role?: string;
  text: string;
  tokens: number;
}
interface JudgeOutput {
  verdict: string | null;
  status: string;
  confidence: number | null;
  thinkingEnd: string;
  waitsUsed: number;
  forcedEnd: boolean;
  trace: Span[];
  usage: { promptTokens: number; thinkingTokens: number; evaluatedTokens: number; cachedTokens: number };
}

function judge(engineArgs: string[]): Promise<{ output: JudgeOutput; seconds: number }> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin/j1"), "judge", ...engineArgs, ...PAIR, ...(maxThinking ? ["--max-thinking", maxThinking] : []), "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`j1 judge ${engineArgs.join(" ")} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ output: JSON.parse(stdout) as JudgeOutput, seconds: (Date.now() - began) / 1000 });
    });
  });
}

/** The first difference between the two judgments, or undefined when they agree. */
function difference(inProcess: JudgeOutput, overHttp: JudgeOutput): string | undefined {
  if (inProcess.verdict !== overHttp.verdict) return `verdict ${inProcess.verdict} against ${overHttp.verdict}`;
  if (inProcess.usage.promptTokens !== overHttp.usage.promptTokens) return `prompt tokens ${inProcess.usage.promptTokens} against ${overHttp.usage.promptTokens}`;
  if (inProcess.trace.length !== overHttp.trace.length) return `${inProcess.trace.length} trace spans against ${overHttp.trace.length}`;
  for (const [index, span] of inProcess.trace.entries()) {
    const other = overHttp.trace[index];
    for (const field of ["source", "role", "text", "tokens"] as const) {
      if (span[field] !== other[field]) return `span ${index} (${span.role ?? span.source}) ${field}: ${JSON.stringify(String(span[field]).slice(0, 80))} against ${JSON.stringify(String(other[field]).slice(0, 80))}`;
    }
  }
  if (inProcess.thinkingEnd !== overHttp.thinkingEnd) return `thinking ended by ${inProcess.thinkingEnd} against ${overHttp.thinkingEnd}`;
  const a = inProcess.confidence;
  const b = overHttp.confidence;
  if ((a === null) !== (b === null) || (a !== null && b !== null && Math.abs(a - b) > CONFIDENCE_TOLERANCE)) return `confidence ${a} against ${b}`;
  return undefined;
}

const binary = findLlamaServer();
if (!binary) throw new Error("llama-server is not built: run scripts/build-llama-server.sh");
const summary: Record<string, unknown>[] = [];
let failed = false;
for (const model of models) {
  const modelPath = await verifiedRealModelPath(path.join(ROOT, "scripts/real-models.json"), model);
  const inProcess = await judge(["--model", modelPath, "--threads", threads]);
  const server = await startLlamaServer({ modelPath, binary, contextSize: 8192, parallel: 1, threads: Number(threads) });
  let overHttp: Awaited<ReturnType<typeof judge>>;
  try {
    overHttp = await judge(["--base-url", `${server.baseUrl}/v1`]);
  } finally {
    await server.stop();
  }
  const differs = difference(inProcess.output, overHttp.output);
  failed ||= differs !== undefined;
  const line = {
    model,
    agree: differs === undefined,
    difference: differs,
    verdict: inProcess.output.verdict,
    promptTokens: inProcess.output.usage.promptTokens,
    thinkingTokens: inProcess.output.usage.thinkingTokens,
    thinkingEnd: inProcess.output.thinkingEnd,
    confidence: { inProcess: inProcess.output.confidence, overHttp: overHttp.output.confidence },
    evaluatedTokens: { inProcess: inProcess.output.usage.evaluatedTokens, overHttp: overHttp.output.usage.evaluatedTokens, overHttpCached: overHttp.output.usage.cachedTokens },
    seconds: { inProcess: inProcess.seconds, overHttp: overHttp.seconds },
  };
  summary.push(line);
  console.error(`${model}: ${differs === undefined ? "same" : `DIFFERENT (${differs})`}: verdict ${line.verdict}, ${line.promptTokens} prompt tokens, ${line.thinkingTokens} thinking tokens (ended by ${line.thinkingEnd}), confidence ${line.confidence.inProcess?.toFixed(4)} in process / ${line.confidence.overHttp?.toFixed(4)} over HTTP; ${line.seconds.inProcess.toFixed(0)} s / ${line.seconds.overHttp.toFixed(0)} s`);
}
console.log(JSON.stringify(summary, null, 2));
if (failed) process.exitCode = 1;
