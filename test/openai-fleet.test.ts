/**
 * The openai engine over a fleet of real llama-servers (tiny model): each judgment's requests on one
 * server chosen by rendezvous hashing on its key, the servers' own slots, a server killed with SIGKILL
 * mid-run (the run completes on the other with nothing lost or judged twice, the failover recorded), and
 * a server that comes back rejoins. Skipped when llama-server is not built, except under CI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import { rendezvousOrder } from "../src/core/rendezvous.js";
import type { Judgment } from "../src/core/judgment.js";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { openRunStore } from "../src/store/run-store.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const binary = findLlamaServer();
if (!binary && process.env.CI) throw new Error("llama-server not built (CI must run scripts/build-llama-server.sh first, or set J1_LLAMA_SERVER)");
const skip = binary ? false : "llama-server not built: run scripts/build-llama-server.sh";

test("rendezvous hashing: a key keeps its server when another server leaves, and keys spread", () => {
  const servers = ["http://a/v1", "http://b/v1", "http://c/v1"];
  const keys = Array.from({ length: 300 }, (_, index) => `pairs:item-${index}`);
  const first = new Map(keys.map((key) => [key, rendezvousOrder(key, servers)[0]]));
  const counts = new Map<string, number>();
  for (const server of first.values()) counts.set(server, (counts.get(server) ?? 0) + 1);
  for (const server of servers) assert.ok((counts.get(server) ?? 0) > 60, `${server} got ${counts.get(server)} of 300 keys`);
  const without = servers.filter((server) => server !== "http://b/v1");
  for (const key of keys) {
    const now = rendezvousOrder(key, without)[0];
    if (first.get(key) !== "http://b/v1") assert.equal(now, first.get(key), `${key} moved though its server stayed`);
    else assert.equal(now, rendezvousOrder(key, servers)[1], `${key} went to its second choice`);
  }
});

const PAIR = (index: number) => ({ question: `What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1) });

describe("a fleet of two real llama-servers", { skip }, () => {
  let servers: RunningLlamaServer[] = [];
  let modelPath: string;

  before(async () => {
    modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
    servers = await Promise.all([2, 1].map((parallel) => startLlamaServer({ modelPath, binary, contextSize: 4096, parallel, threads: 1 })));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("keeps every judgment on one server, spreads judgments over both, and bounds each by its own slots", async () => {
    const engine = await createOpenAIEngine({ baseUrl: `${servers[0].baseUrl}/v1`, baseUrls: servers.map((server) => `${server.baseUrl}/v1`), timeoutMs: 30_000 });
    try {
      // Slots from each server's /props (-np 2 and -np 1), summed for the judge's pool.
      assert.deepEqual(engine.servers().map((server) => server.slots), [2, 1]);
      assert.equal(engine.capabilities.parallelSessions, 3);
      const judge = new Judge({ engine, scaling: { waits: 2 } });
      const judgments: Judgment[] = await Promise.all(Array.from({ length: 12 }, (_, index) => judge.judgePair(PAIR(index), { swap: true, itemKey: `item-${index}` })));
      const used = new Set<string>();
      for (const [index, judgment] of judgments.entries()) {
        assert.equal(judgment.status === "engine-error", false, judgment.error);
        const where = new Set(judgment.runs.map((run) => run.server));
        assert.equal(where.size, 1, `judgment ${index}: both orders on one server (${[...where].join(", ")})`);
        const server = [...where][0] as string;
        assert.equal(server, rendezvousOrder(`item-${index}`, servers.map((entry) => `${entry.baseUrl}/v1`))[0], "the key's first choice");
        assert.ok(judgment.runs.every((run) => run.failovers === undefined));
        used.add(server);
      }
      assert.equal(used.size, 2, "both servers judged");
      const figures = engine.servers();
      assert.equal(figures.reduce((sum, server) => sum + server.sessions, 0), 24, "12 judgments × 2 orders");
      for (const server of figures) {
        assert.ok(server.requests > 0 && server.evaluatedTokens > 0, JSON.stringify(server));
        assert.equal(server.errors, 0);
        // Waits re-send the judgment's prefix to the server that holds it: most of it comes from its cache.
        assert.ok(server.cachedTokens > server.evaluatedTokens, JSON.stringify(server));
      }
    } finally {
      await engine.dispose();
    }
  });

  it("j1 eval over both: one killed with SIGKILL mid-run, the run completes on the other, nothing lost or judged twice", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-fleet-"));
    const data = path.join(work, "pairs.jsonl");
    const items = 40;
    writeFileSync(data, Array.from({ length: items }, (_, index) => JSON.stringify({ id: `p${index}`, ...PAIR(index), label: index % 3 === 0 ? "B" : "A" })).join("\n") + "\n");
    const victim = servers[1];
    const store = path.join(work, "runs.sqlite");
    const args = [path.join(root, "bin/j1"), "eval", "--bench", "pairs", "--data", data, "--waits", "2", "--store", store, "--progress", "jsonl", "--json", "--allow-errors", "--timeout", "20000"];
    for (const server of servers) args.push("--base-url", `${server.baseUrl}/v1`);
    const child = spawn(process.execPath, args, { cwd: work, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killedAt: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      // Killed as soon as a few judgments are in: most of the run is still ahead.
      for (const line of chunk.toString().split("\n")) {
        if (killedAt !== undefined || !line.startsWith("{")) continue;
        const progress = JSON.parse(line) as { done?: number };
        if ((progress.done ?? 0) >= 4) {
          killedAt = progress.done;
          process.kill(victim.pid, "SIGKILL");
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(code, 0, stderr);
    assert.ok(killedAt !== undefined && killedAt < items, `killed after ${killedAt} of ${items}`);
    assert.notEqual(stdout.trim(), "", `j1 eval printed no report; its stderr:\n${stderr.slice(-3000)}`);
    const result = JSON.parse(stdout) as { run: { runId: string; items: number; judged: number }; benchmarks: Array<{ uniform?: unknown }> };
    assert.equal(result.run.items, items);
    assert.equal(result.run.judged, items);

    const opened = openRunStore(store);
    try {
      const rows = [...opened.exportRun(result.run.runId)];
      assert.equal(rows.length, items, "one judgment per item: none lost, none twice");
      assert.equal(new Set(rows.map((row) => row.itemId)).size, items);
      const victimUrl = `${victim.baseUrl}/v1`;
      const survivor = `${servers[0].baseUrl}/v1`;
      for (const row of rows) assert.equal(row.judgment.status === "engine-error", false, `${row.itemId}: ${row.judgment.error}`);
      // Judgments whose server died went on on the other one, and say so.
      const moved = rows.filter((row) => row.judgment.runs.some((run) => (run.failovers ?? []).length > 0));
      assert.ok(moved.length > 0, "some judgment failed over");
      for (const row of moved) for (const run of row.judgment.runs) {
        assert.equal(run.server, survivor);
        for (const failover of run.failovers ?? []) assert.deepEqual([failover.from, failover.to], [victimUrl, survivor]);
      }
      // The run keeps each server's figures: the dead one is down, with the sessions it lost.
      const summary = opened.getRun(result.run.runId).summary as { servers: Array<{ baseUrl: string; up: boolean; failovers: number }> };
      assert.deepEqual(summary.servers.map((server) => [server.baseUrl, server.up]), [[survivor, true], [victimUrl, false]]);
      assert.ok(summary.servers[1].failovers > 0);
      assert.ok(stderr.includes(`server ${victimUrl} down: `) && /sessions moved away/.test(stderr), stderr);
    } finally {
      opened.close();
    }
  });

  it("a server that comes back on its address rejoins the fleet and gets its keys again", async () => {
    const victim = servers[1];
    const urls = servers.map((server) => `${server.baseUrl}/v1`);
    // The previous test killed it; start it again where it was.
    servers[1] = await startLlamaServer({ modelPath, binary, contextSize: 4096, parallel: 1, threads: 1, port: victim.port });
    const engine = await createOpenAIEngine({ baseUrl: urls[0], baseUrls: urls, timeoutMs: 30_000, healthIntervalMs: 100 });
    try {
      const judge = new Judge({ engine, scaling: { waits: 1 } });
      const key = Array.from({ length: 50 }, (_, index) => `k${index}`).find((candidate) => rendezvousOrder(candidate, urls)[0] === urls[1]) as string;
      await servers[1].stop();
      const moved = await judge.judgePair(PAIR(1), { itemKey: key });
      assert.equal(moved.runs[0].server, urls[0], "its server is down: the key's second choice");
      assert.equal(moved.runs[0].failovers?.[0]?.from, urls[1]);
      assert.equal(engine.servers()[1].up, false);
      servers[1] = await startLlamaServer({ modelPath, binary, contextSize: 4096, parallel: 1, threads: 1, port: victim.port });
      for (let attempt = 0; attempt < 100 && !engine.servers()[1].up; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(engine.servers()[1].up, true, "healthy again");
      const back = await judge.judgePair(PAIR(1), { itemKey: key });
      assert.equal(back.runs[0].server, urls[1]);
      assert.equal(back.runs[0].failovers, undefined);
      assert.equal(back.verdict, moved.verdict);
    } finally {
      await engine.dispose();
    }
  });
});
