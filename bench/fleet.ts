/**
 * j1 over a fleet of real llama-servers (tiny model, each `-t 1 -np 2`), and sharded runs.
 *
 *   node dist/bench/fleet.js [--pairs 60] [--waits 4] [--kills 5] [--json]
 *
 * 1. Throughput: one eval run (runEval, what `j1 eval` runs) of the same pairs over 1, 2 and 3 servers
 *    (judgments/s, ratio to one server; the baseline is measured in the same run).
 * 2. Prompt-cache hit rate (cached / (cached + evaluated) tokens, from the servers' own figures; every
 *    judgment's first request evaluates its own prompt, the waits re-send it): 1 server; 3 servers direct;
 *    3 behind nginx hashing on x-j1-affinity; and, to show what the key buys, 3 behind nginx round robin.
 *    Each configuration judges its own items, after a warm-up over every server.
 * 3. Failover: `j1 eval` over 3 servers, one killed with SIGKILL at a random moment, `--kills` times
 *    (restarted between runs): items lost, judgments duplicated, engine errors, failovers recorded.
 * 4. Shards: the same run in 3 shards (separate stores) merged, against the unsharded run's report.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_SCALING } from "../src/core/budget.js";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { AFFINITY_HEADER } from "../src/engines/openai/fleet.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import type { EvalSettings } from "../src/eval/eval-settings.js";
import { buildRunReport } from "../src/eval/run-report.js";
import { machineIndependent } from "../src/eval/report/reproducible.js";
import { runEval } from "../src/eval/runner.js";
import { openRunStore } from "../src/store/run-store.js";
import { startLlamaServer, type RunningLlamaServer } from "../test/helpers/llama-server.js";
import { startNginx } from "../test/helpers/nginx.js";
import { numberFlag } from "./bench-args.js";

const args = process.argv.slice(2);
const PAIRS = numberFlag(args, "--pairs", 60);
const WAITS = numberFlag(args, "--waits", 4);
const KILLS = numberFlag(args, "--kills", 5);
const asJson = args.includes("--json");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bench-fleet-"));
/**
 * The pairs, asked about `topic`: each measured configuration judges its own items (same shape, other
 * text), so no configuration finds another's judgments in the servers' caches; only the shared judge
 * prompt is warm, as in any long run (a warm-up over every server comes first).
 */
function pairsFile(topic: string): string {
  const file = path.join(work, `pairs-${topic.replace(/\W+/g, "-")}.jsonl`);
  writeFileSync(file, Array.from({ length: PAIRS }, (_, index) => JSON.stringify({ id: `p${index}`, question: `(${topic}) What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1), label: index % 3 ? "A" : "B" })).join("\n") + "\n");
  return file;
}
const data = pairsFile("kills");

function settings(urls: string[], file: string): EvalSettings {
  return {
    benchmarks: ["pairs"],
    data: { pairs: [file] },
    order: "shuffle",
    skipBad: false,
    engine: { engine: "openai", baseUrl: urls[0], baseUrls: urls.length > 1 ? urls : undefined },
    chatFormat: "auto",
    scaling: { ...DEFAULT_SCALING, waits: WAITS, maxThinkingTokens: 4096 },
    samples: 1,
    swap: false,
    allowTie: false,
    temperature: 0,
    seed: 0,
  } as EvalSettings;
}

/** One eval run over these base URLs in a fresh store: judgments/s and the prompt-cache hit rate. */
async function evalOver(urls: string[], label: string): Promise<{ label: string; perSecond: number; hitRate: number; cached: number; evaluated: number }> {
  const engine = await createOpenAIEngine({ baseUrl: urls[0], baseUrls: urls, timeoutMs: 60_000 });
  const store = openRunStore(path.join(work, `${label.replace(/\W+/g, "-")}-${Date.now()}.sqlite`));
  try {
    const started = performance.now();
    const result = await runEval({ settings: settings(urls, pairsFile(label)), store, engine, label });
    const seconds = (performance.now() - started) / 1000;
    const servers = engine.servers();
    const cached = servers.reduce((sum, server) => sum + server.cachedTokens, 0);
    const evaluated = servers.reduce((sum, server) => sum + server.evaluatedTokens, 0);
    return { label, perSecond: result.judged / seconds, hitRate: cached / (cached + evaluated), cached, evaluated };
  } finally {
    store.close();
    await engine.dispose();
  }
}

function j1(...cli: string[]) {
  return spawnSync(process.execPath, [path.join(root, "bin/j1"), ...cli], { cwd: work, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

/** `j1 eval` over the servers, one killed with SIGKILL once `killAfter` judgments are in. */
async function killedRun(servers: RunningLlamaServer[], victim: number, killAfter: number, run: number) {
  const store = path.join(work, `kill-${run}.sqlite`);
  const cli = [path.join(root, "bin/j1"), "eval", "--bench", "pairs", "--data", data, "--waits", String(WAITS), "--store", store, "--progress", "jsonl", "--json", "--allow-errors", "--timeout", "20000"];
  for (const server of servers) cli.push("--base-url", `${server.baseUrl}/v1`);
  const child = spawn(process.execPath, cli, { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let killed = false;
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (killed || !line.startsWith("{")) continue;
      if (((JSON.parse(line) as { done?: number }).done ?? 0) >= killAfter) {
        killed = true;
        process.kill(servers[victim].pid, "SIGKILL");
      }
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const runId = (JSON.parse(stdout) as { run: { runId: string } }).run.runId;
  const opened = openRunStore(store);
  try {
    const rows = [...opened.exportRun(runId)];
    const ids = rows.map((row) => row.itemId);
    return {
      run,
      killAfter,
      exitCode: code,
      itemsLost: PAIRS - new Set(ids).size,
      duplicated: ids.length - new Set(ids).size,
      engineErrors: rows.filter((row) => row.judgment.status === "engine-error").length,
      judgmentsFailedOver: rows.filter((row) => row.judgment.runs.some((entry) => (entry.failovers ?? []).length > 0)).length,
    };
  } finally {
    opened.close();
  }
}

async function main(): Promise<void> {
  const modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
  const start = (port?: number) => startLlamaServer({ modelPath, contextSize: 8192, parallel: 2, threads: 1, port });
  const servers = await Promise.all([start(), start(), start()]);
  const urls = servers.map((server) => `${server.baseUrl}/v1`);
  const output: Record<string, unknown> = { pairs: PAIRS, waits: WAITS, cores: os.cpus().length };
  try {
    // 1 and 2: throughput and cache hits. Warm-up first (the model pages in), then each fleet size.
    await evalOver(urls, "warm-up");
    const throughput = [];
    for (const size of [1, 2, 3, 1]) throughput.push(await evalOver(urls.slice(0, size), `${size} server${size > 1 ? "s" : ""}`));
    const baseline = (throughput[0].perSecond + throughput[3].perSecond) / 2;
    output.throughput = throughput.map((entry) => ({ ...entry, ratioToOne: entry.perSecond / baseline }));

    const upstreams = servers.map((server) => `127.0.0.1:${server.port}`);
    const hashed = await startNginx({ upstreams, header: AFFINITY_HEADER });
    const roundRobin = await startNginx({ upstreams, header: AFFINITY_HEADER, balance: "round-robin" });
    try {
      output.cache = [
        throughput[0],
        throughput[2],
        await evalOver([`${hashed.baseUrl}/v1`], "3 servers behind nginx, hash $http_x_j1_affinity consistent"),
        await evalOver([`${roundRobin.baseUrl}/v1`], "3 servers behind nginx, round robin (no affinity)"),
      ].map(({ label, hitRate, cached, evaluated }) => ({ label, hitRate, cached, evaluated }));
    } finally {
      await hashed.stop();
      await roundRobin.stop();
    }

    // 3: kill -9 at random moments, the killed server restarted on its port before the next run.
    const kills = [];
    for (let run = 1; run <= KILLS; run++) {
      const victim = Math.floor(Math.random() * servers.length);
      const killAfter = 1 + Math.floor(Math.random() * (PAIRS - 10));
      kills.push(await killedRun(servers, victim, killAfter, run));
      servers[victim] = await start(servers[victim].port);
    }
    output.kills = kills;

    // 4: 3 shards merged against the unsharded run (tiny model in process, separate stores).
    const common = ["eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--waits", String(WAITS), "--label", "tiny", "--progress", "quiet"];
    j1(...common, "--store", path.join(work, "whole.sqlite"));
    for (const index of [1, 2, 3]) j1(...common, "--shard", `${index}/3`, "--store", path.join(work, `shard${index}.sqlite`));
    j1("runs", "merge", ...[1, 2, 3].map((index) => path.join(work, `shard${index}.sqlite`)), "--store", path.join(work, "merged.sqlite"));
    const reportOf = (file: string) => {
      const store = openRunStore(file);
      try {
        const run = store.listRuns()[0];
        return machineIndependent(buildRunReport(store, run.id));
      } finally {
        store.close();
      }
    };
    const whole = reportOf(path.join(work, "whole.sqlite"));
    const merged = reportOf(path.join(work, "merged.sqlite"));
    output.shards = { shards: 3, reportsEqual: JSON.stringify(whole) === JSON.stringify(merged), score: whole.benchmarks[0].score.score };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  if (asJson) {
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return;
  }
  console.log(`fleet of llama-servers (tiny model, -t 1 -np 2 each), ${PAIRS} pairs, waits ${WAITS}, ${output.cores} cores`);
  for (const entry of output.throughput as Array<{ label: string; perSecond: number; ratioToOne: number }>) console.log(`  ${entry.label.padEnd(10)} ${entry.perSecond.toFixed(2)} judgments/s  ×${entry.ratioToOne.toFixed(2)}`);
  console.log("prompt-cache hit rate (cached / (cached + evaluated) prompt tokens):");
  for (const entry of output.cache as Array<{ label: string; hitRate: number }>) console.log(`  ${(100 * entry.hitRate).toFixed(1)}%  ${entry.label}`);
  console.log("a server killed with SIGKILL mid-run:");
  for (const entry of output.kills as Array<Record<string, unknown>>) console.log(`  run ${entry.run}: killed after ${entry.killAfter} judgments, exit ${entry.exitCode}, items lost ${entry.itemsLost}, duplicated ${entry.duplicated}, engine errors ${entry.engineErrors}, judgments failed over ${entry.judgmentsFailedOver}`);
  const shards = output.shards as { reportsEqual: boolean };
  console.log(`3 shards merged: report ${shards.reportsEqual ? "identical to" : "DIFFERENT from"} the unsharded run's (machine-independent fields)`);
}

await main();
