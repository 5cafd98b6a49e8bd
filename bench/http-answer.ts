/**
 * Benchmark: the answer step over HTTP (the openai engine on a real llama-server) against plain generation
 * of the same number of tokens on the same server, in the same run (issue 19, item 1 over HTTP).
 *
 *   node dist/bench/http-answer.js [--models qwen3-shaped,qwen2.5-coder-0.5b] [--reps N] [--threads N]
 *                                  [--port P] [--think-tokens N]
 *
 * For each model, one llama-server (-np 1) and per case (pairwise A/B; pointwise 1..10, where the Qwen
 * tokenizers write "10" as "1" "0"; best-of-4 letters A..D) one session brought to the verdict position:
 * the prompt, the model's greedy thinking (at most --think-tokens), then "</think>" and "[[" appended.
 * Three arms, in turn (the order rotates each rep), medians:
 * - walk (the openai engine's default since issue 19): `session.answer()` reads the verdict position's
 *   candidates (`n_predict: 1`, `n_probs`) and walks the choices' tokens, one request per verdict token
 *   and per branch prefix off the chosen path;
 * - grammar (the engine before; `verdictAnswer: "grammar"`, switched on the same session): one request
 *   under a GBNF grammar of the choices with `n_probs`, then one probe per branch prefix;
 * - plain: `session.generate()` of as many tokens as the answer kept, greedy, no grammar, no
 *   probabilities, through the same engine, session and HTTP client.
 * All three run on one session, each rolling it back after itself.
 * Before every timed step an untimed request puts the server's cache back to the prompt + thinking, so
 * both arms evaluate the appended "</think>[[" fresh, as in a real judgment.
 *
 * Machine-independent counts come first, from one counted pass of each arm (fetch wrapped): requests
 * per verdict, tokens the server evaluated (timings.prompt_n + predicted_n - 1, summed), tokens sampled,
 * top candidates asked for per position (n_probs), and the bytes of response JSON, of which
 * completion_probabilities. Then the times.
 *
 * Ports: --port (default 18500) and up, one per model.
 */
import type { AnswerRequest, AnswerResult, Engine, EngineSession } from "../src/engines/engine.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, verdictChoices, type JudgeTemplate, type PromptSegment } from "../src/core/template.js";
import { Judge } from "../src/judge/judge.js";
import { findLlamaServer, startLlamaServer } from "../test/helpers/llama-server.js";
import { realModelPath } from "../test/helpers/real-models.js";
import { shapedModelPath } from "../test/helpers/shaped-models.js";
import { median, numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => numberFlag(args, name, fallback);
const reps = flag("--reps", 15);
const threads = flag("--threads", 1);
const basePort = flag("--port", 18500);
const thinkTokens = flag("--think-tokens", 48);
const modelsIndex = args.indexOf("--models");
const models = (modelsIndex >= 0 ? args[modelsIndex + 1] : "qwen3-shaped,qwen2.5-coder-0.5b").split(",");

const f = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(String).join(" | ")} |`);
  return lines.join("\n");
}

// ---- counting what goes over the wire -------------------------------------------------------------------

interface WireCounts {
  requests: number;
  /** Requests by path (/completion, /tokenize, …). */
  byPath: Record<string, number>;
  /** Σ timings.prompt_n + predicted_n - 1 over /completion answers: tokens run through the model. */
  evaluated: number;
  /** Σ timings.predicted_n: tokens sampled. */
  sampled: number;
  /** n_probs asked for, per /completion request (0: none). */
  nProbs: number[];
  /** Positions that came back with candidates, and the candidates in all. */
  positions: number;
  candidates: number;
  requestBytes: number;
  responseBytes: number;
  /** Bytes of the completion_probabilities JSON in the answers. */
  probabilityBytes: number;
}

const emptyCounts = (): WireCounts => ({ requests: 0, byPath: {}, evaluated: 0, sampled: 0, nProbs: [], positions: 0, candidates: 0, requestBytes: 0, responseBytes: 0, probabilityBytes: 0 });

let counting: WireCounts | undefined;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const response = await realFetch(input, init);
  const counts = counting;
  if (!counts) return response;
  const path = new URL(typeof input === "string" || input instanceof URL ? input : input.url).pathname;
  counts.requests++;
  counts.byPath[path] = (counts.byPath[path] ?? 0) + 1;
  const sent = typeof init?.body === "string" ? init.body : "";
  counts.requestBytes += Buffer.byteLength(sent);
  const text = await response.clone().text();
  counts.responseBytes += Buffer.byteLength(text);
  if (path.endsWith("/completion")) {
    const request = JSON.parse(sent || "{}") as { n_probs?: number };
    counts.nProbs.push(request.n_probs ?? 0);
    const json = JSON.parse(text) as { timings?: { prompt_n?: number; predicted_n?: number }; completion_probabilities?: Array<{ top_logprobs?: unknown[] }> };
    const promptN = json.timings?.prompt_n ?? 0;
    const predictedN = json.timings?.predicted_n ?? 0;
    counts.evaluated += promptN + Math.max(0, predictedN - 1);
    counts.sampled += predictedN;
    if (json.completion_probabilities) {
      counts.probabilityBytes += Buffer.byteLength(JSON.stringify(json.completion_probabilities));
      for (const position of json.completion_probabilities) {
        if ((position.top_logprobs?.length ?? 0) > 0) counts.positions++;
        counts.candidates += position.top_logprobs?.length ?? 0;
      }
    }
  }
  return response;
};

async function counted<T>(run: () => Promise<T>): Promise<{ value: T; counts: WireCounts }> {
  const counts = emptyCounts();
  counting = counts;
  try {
    return { value: await run(), counts };
  } finally {
    counting = undefined;
  }
}

// ---- one case: a session at the verdict position ----------------------------------------------------------

interface ArmFigures {
  verdict: string;
  /** P(verdict), or why there is none. */
  confidence: string;
  tokens: number;
  counts: WireCounts;
  ms: number;
}

interface CaseFigures {
  model: string;
  label: string;
  choices: number;
  pending: number;
  walk: ArmFigures;
  grammar: ArmFigures;
  plain: ArmFigures;
  /** A request of the cached prefix, nothing new, one token sampled: what any extra request costs at least. */
  emptyMs: number;
  /** Medians of the per-rep ratios to the same rep's plain generation (steadier than a ratio of medians under load). */
  walkRatio: number;
  grammarRatio: number;
}

interface Case {
  label: string;
  template: JudgeTemplate;
  render: (judge: Judge) => PromptSegment[];
  choices: (judge: Judge) => string[];
}

const CASES: Case[] = [
  {
    label: "pairwise A/B",
    template: DEFAULT_PAIRWISE_TEMPLATE,
    render: (judge) => judge.renderPair({ question: "What is 2 + 2?", a: "4", b: "5" }),
    choices: (judge) => verdictChoices(judge.template, false),
  },
  {
    label: "pointwise 1..10",
    template: DEFAULT_POINTWISE_TEMPLATE,
    render: (judge) => judge.renderPoint({ question: "What is 2 + 2?", response: "2 + 2 = 4." }),
    choices: (judge) => verdictChoices(judge.template, false),
  },
  {
    label: "best-of-4 A..D",
    template: DEFAULT_CHOICE_TEMPLATE,
    render: (judge) => judge.renderChoice({ question: "What is 2 + 2?", responses: ["5", "4", "22", "3"] }),
    choices: (judge) => verdictChoices(judge.template, false, 4),
  },
];

/** A raw /completion of `ids` (cached), one token: puts the server's cache back to exactly `ids`. */
async function resetCache(root: string, ids: readonly number[]): Promise<number> {
  const started = performance.now();
  const response = await realFetch(`${root}/completion`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: ids, n_predict: 0, cache_prompt: true, temperature: 0, response_fields: ["content"] }),
  });
  if (!response.ok) throw new Error(`reset: HTTP ${response.status} ${await response.text()}`);
  await response.text();
  return performance.now() - started;
}

const idsOf = (session: EngineSession) => [...(session as unknown as { sequenceIds: readonly number[] }).sequenceIds];

/** A session of `engine` at the verdict position: prompt, greedy thinking, then the end of thinking and "[[". */
async function atVerdict(engine: Engine, judge: Judge, prompt: PromptSegment[]): Promise<{ session: EngineSession; base: number[]; pending: number }> {
  const session = await engine.open(prompt);
  await session.generate({ stopAt: judge.template.thinkEnd, maxTokens: thinkTokens, temperature: 0, seed: 1 });
  const base = idsOf(session);
  await session.append(judge.template.thinkEnd);
  await session.append(judge.template.answerPrefix);
  return { session, base, pending: idsOf(session).length - base.length };
}

function confidenceOf(answer: AnswerResult, choices: readonly string[], suffix: string): string {
  const choice = choices.find((candidate) => answer.text === candidate + suffix || answer.text === candidate);
  const p = choice === undefined ? undefined : answer.choiceProbabilities?.[choice];
  return p === undefined ? `- (${answer.probabilityNote ?? "no choice"})` : f(p, 4);
}

/** The session's way of writing the verdict, switched on the one session so every arm starts from the same ids. */
function setVerdictAnswer(session: EngineSession, mode: "walk" | "grammar"): void {
  (session as unknown as { parts: { verdictAnswer?: "walk" | "grammar" } }).parts.verdictAnswer = mode;
}

async function measureCase(engine: Engine, root: string, model: string, spec: Case): Promise<CaseFigures> {
  const judge = await Judge.create({ engine, template: spec.template });
  const choices = spec.choices(judge);
  const at = await atVerdict(engine, judge, spec.render(judge));
  const { session, base } = at;
  try {
    const request: AnswerRequest = { choices, suffix: judge.template.answerSuffix, maxTokens: 16, temperature: 0, seed: 1 };
    type Arm = () => Promise<{ text: string; tokens: number; answer?: AnswerResult }>;
    const mark = session.mark();
    const answerArm =
      (mode: "walk" | "grammar"): Arm =>
      async () => {
        setVerdictAnswer(session, mode);
        const answer = await session.answer(request);
        await session.rollback(mark);
        return { text: answer.text, tokens: answer.tokens, answer };
      };
    const walk = answerArm("walk");
    const grammar = answerArm("grammar");
    let plainTokens = 0;
    const plain: Arm = async () => {
      const step = await session.generate({ stopAt: "\u0001", maxTokens: plainTokens, temperature: 0, seed: 1 });
      await session.rollback(mark);
      if (step.tokens !== plainTokens) throw new Error(`plain generation made ${step.tokens} tokens (${step.stop}), the answer ${plainTokens}`);
      return { text: step.text, tokens: step.tokens };
    };
    const arms: Array<[keyof Pick<CaseFigures, "walk" | "grammar" | "plain">, Arm]> = [
      ["walk", walk],
      ["grammar", grammar],
      ["plain", plain],
    ];

    // Warm-up (choice tokenizations cached, as after a run's first verdict), then one counted pass of each.
    const first = await walk();
    const firstGrammar = await grammar();
    if (first.text !== firstGrammar.text) console.error(`[${model} ${spec.label}: walk ${JSON.stringify(first.text)}, grammar ${JSON.stringify(firstGrammar.text)}]`);
    plainTokens = first.tokens;
    await plain();
    const figures = {} as Record<"walk" | "grammar" | "plain", ArmFigures>;
    for (const [name, run] of arms) {
      await resetCache(root, base);
      const { value, counts } = await counted(run);
      figures[name] = { verdict: value.text, confidence: value.answer ? confidenceOf(value.answer, choices, request.suffix) : "", tokens: value.tokens, counts, ms: Number.NaN };
    }

    const times: Record<string, number[]> = { walk: [], grammar: [], plain: [], empty: [] };
    for (let rep = 0; rep < reps; rep++) {
      const order = [...arms.slice(rep % arms.length), ...arms.slice(0, rep % arms.length)];
      for (const [name, run] of order) {
        await resetCache(root, base);
        const started = performance.now();
        const result = await run();
        times[name].push(performance.now() - started);
        if (result.text !== figures[name].verdict) throw new Error(`${name}: the answer changed: ${JSON.stringify(figures[name].verdict)} then ${JSON.stringify(result.text)}`);
      }
      times.empty.push(await resetCache(root, base));
    }
    for (const name of ["walk", "grammar", "plain"] as const) figures[name].ms = median(times[name]);
    const ratio = (name: "walk" | "grammar") => median(times[name].map((ms, rep) => ms / times.plain[rep]));
    return { model, label: spec.label, choices: choices.length, pending: at.pending, ...figures, emptyMs: median(times.empty), walkRatio: ratio("walk"), grammarRatio: ratio("grammar") };
  } finally {
    await session.close();
  }
}

async function modelPath(name: string): Promise<string> {
  if (name === "qwen3-shaped") return shapedModelPath("qwen3");
  return realModelPath(name as Parameters<typeof realModelPath>[0]);
}

async function main(): Promise<void> {
  const binary = findLlamaServer();
  if (!binary) {
    console.log("llama-server not built (scripts/build-llama-server.sh)");
    process.exitCode = 1;
    return;
  }
  const figures: CaseFigures[] = [];
  for (const [index, model] of models.entries()) {
    const server = await startLlamaServer({ modelPath: await modelPath(model), binary, contextSize: 4096, parallel: 1, threads, port: basePort + index });
    try {
      const engine = await createOpenAIEngine({ baseUrl: `${server.baseUrl}/v1`, timeoutMs: 120_000 });
      try {
        for (const spec of CASES) {
          const started = performance.now();
          figures.push(await measureCase(engine, server.baseUrl, model, spec));
          console.error(`[${model} ${spec.label}: ${f((performance.now() - started) / 1000, 1)} s]`);
        }
      } finally {
        await engine.dispose();
      }
    } finally {
      await server.stop();
    }
  }

  console.log(`# The answer step over HTTP vs plain generation (llama-server ${binary.split("/").slice(-3, -2)[0]}, -np 1, -c 4096, -t ${threads})\n`);
  console.log(
    "Counts: one pass of each arm after a warm-up (the choices' tokenizations are asked once per engine and cached, so a verdict sends none). Before each step the server's cache is put back to prompt + thinking, so each arm evaluates the appended end of thinking and answer prefix (\"appended\") fresh. evaluated = Σ timings.prompt_n + predicted_n - 1 over the /completion answers; sampled = Σ predicted_n; candidates = top_logprobs entries returned; bytes = response JSON, of which completion_probabilities.\n",
  );
  const paths = (counts: WireCounts) =>
    Object.entries(counts.byPath)
      .map(([path, n]) => (path === "/completion" ? String(n) : `${n} ${path}`))
      .join(" + ");
  const rows: Array<Array<string | number>> = [];
  for (const x of figures) {
    for (const name of ["grammar", "walk", "plain"] as const) {
      const arm = x[name];
      rows.push([
        x.model,
        x.label,
        name === "grammar" ? "j1 before (grammar)" : name === "walk" ? "j1 after (walk)" : "plain generation",
        JSON.stringify(arm.verdict),
        arm.confidence,
        arm.tokens,
        paths(arm.counts),
        arm.counts.nProbs.join(" + ") || "-",
        arm.counts.evaluated,
        arm.counts.sampled,
        arm.counts.candidates,
        arm.counts.responseBytes,
        arm.counts.probabilityBytes,
        arm.counts.requestBytes,
      ]);
    }
  }
  console.log(table(["model", "case", "arm", "answer", "P(verdict)", "tokens kept", "requests", "n_probs", "evaluated", "sampled", "candidates", "response bytes", "of which probabilities", "request bytes"], rows));
  console.log(`\nTimes: ${reps} reps, the three arms in rotating order, medians of client wall time (ms); the ratios are medians of each rep's ratio to that rep's plain generation. "empty request" = the cached prompt + thinking sent again, one token sampled: the floor of any request on this server.\n`);
  console.log(
    table(
      ["model", "case", "appended", "before (grammar) ms", "after (walk) ms", "plain ms", "before/plain", "after/plain", "empty request ms"],
      figures.map((x) => [x.model, x.label, x.pending, f(x.grammar.ms), f(x.walk.ms), f(x.plain.ms), `${f(x.grammarRatio)}x`, `${f(x.walkRatio)}x`, f(x.emptyMs)]),
    ),
  );
  console.log("\ngoal: after/plain <= 1.5x\n");
}

await main();
