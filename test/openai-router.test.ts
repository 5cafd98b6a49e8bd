/**
 * j1 behind a real load balancer: Debian's nginx with `hash $http_x_j1_affinity consistent` in front of
 * two real llama-servers (tiny model). j1 sends each judgment's affinity key as a header, so every request
 * of a judgment (both orders, waits, the answer, the probes) reaches one replica, whose prefix cache then
 * serves the re-sent prefix; the judgments spread over both. Read from nginx's own access log. Skipped
 * when llama-server or nginx is missing, except under CI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { AFFINITY_HEADER } from "../src/engines/openai/fleet.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";
import { findNginx, startNginx, type RunningNginx } from "./helpers/nginx.js";

const binary = findLlamaServer();
const nginxBinary = findNginx();
if ((!binary || !nginxBinary) && process.env.CI) throw new Error("llama-server or nginx missing (.ci/run builds the one and installs the other)");
const skip = !binary ? "llama-server not built: run scripts/build-llama-server.sh" : !nginxBinary ? "nginx not installed (apt-get install nginx)" : false;

describe("j1 behind nginx (hash on j1's affinity header) in front of two llama-servers", { skip }, () => {
  let servers: RunningLlamaServer[] = [];
  let nginx: RunningNginx;

  before(async () => {
    const modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
    servers = await Promise.all([0, 1].map(() => startLlamaServer({ modelPath, binary, contextSize: 4096, parallel: 2, threads: 1 })));
    nginx = await startNginx({ upstreams: servers.map((server) => `127.0.0.1:${server.port}`), header: AFFINITY_HEADER, binary: nginxBinary });
  });
  after(async () => {
    await nginx?.stop();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("every request of a judgment reaches one replica, judgments spread over both, and waits hit its cache", async () => {
    const engine = await createOpenAIEngine({ baseUrl: `${nginx.baseUrl}/v1`, concurrency: 4, timeoutMs: 30_000 });
    try {
      const judge = new Judge({ engine, scaling: { waits: 2 } });
      const judgments = await Promise.all(
        Array.from({ length: 16 }, (_, index) => judge.judgePair({ question: `What is ${index} + ${index}?`, a: String(2 * index), b: String(2 * index + 1) }, { swap: true, itemKey: `pairs:p${index}` })),
      );
      for (const judgment of judgments) assert.notEqual(judgment.status, "engine-error", judgment.error);
      const byKey = new Map<string, Set<string>>();
      let judgmentRequests = 0;
      for (const entry of nginx.accessLog()) {
        // Startup requests (detection, /props) carry no key; nginx logs "-".
        if (entry.affinity === "-" || entry.affinity === "") continue;
        judgmentRequests++;
        const upstreams = byKey.get(entry.affinity) ?? new Set<string>();
        upstreams.add(entry.upstream);
        byKey.set(entry.affinity, upstreams);
      }
      assert.equal(byKey.size, 16, "one key per judgment");
      assert.ok(judgmentRequests >= 16 * 2 * 4, `${judgmentRequests} requests`);
      for (const [key, upstreams] of byKey) assert.equal(upstreams.size, 1, `judgment ${key} went to ${[...upstreams].join(" and ")}`);
      const used = new Set([...byKey.values()].map((upstreams) => [...upstreams][0]));
      assert.equal(used.size, 2, "both replicas judged");
      const evaluated = judgments.reduce((sum, judgment) => sum + judgment.usage.evaluatedTokens, 0);
      const cached = judgments.reduce((sum, judgment) => sum + judgment.usage.cachedTokens, 0);
      assert.ok(cached > evaluated, `cached ${cached}, evaluated ${evaluated}`);
    } finally {
      await engine.dispose();
    }
  });
});
