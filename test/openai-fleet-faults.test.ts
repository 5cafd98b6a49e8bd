/**
 * Fleet faults a real server will not produce on demand (the scripted stand-in of helpers/fault-server.ts):
 * a server that hangs mid-judgment is left for another after the timeout, with the move recorded and the
 * sequence re-sent whole; a 500 is the request's fault, not the server's, and moves nothing. Every request
 * carries the judgment's affinity header. (A killed server is tested with real llama-servers in
 * openai-fleet.test.ts.)
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { affinityToken } from "../src/core/rendezvous.js";
import { rendezvousOrder } from "../src/core/rendezvous.js";
import type { GenerateRequest } from "../src/engines/engine.js";
import { AFFINITY_HEADER } from "../src/engines/openai/fleet.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { startFaultServer, type FaultServer } from "./helpers/fault-server.js";

const servers: FaultServer[] = [];
const engines: OpenAIEngine[] = [];
after(async () => {
  await Promise.all(engines.map((engine) => engine.dispose()));
  await Promise.all(servers.map((server) => server.close()));
});

const PROMPT = [{ text: "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n", trusted: true }];
const think: GenerateRequest = { stopAt: "</think>", maxTokens: 32, temperature: 0, seed: 1 };

async function fleet(): Promise<{ engine: OpenAIEngine; first: FaultServer; second: FaultServer; key: string }> {
  const pair = await Promise.all([startFaultServer(), startFaultServer()]);
  servers.push(...pair);
  const urls = pair.map((server) => server.baseUrl);
  const engine = await createOpenAIEngine({ baseUrl: urls[0], baseUrls: urls, retryDelayMs: 10, timeoutMs: 1_000, healthIntervalMs: 60_000 });
  engines.push(engine);
  // A key whose first choice is the first server.
  const key = Array.from({ length: 40 }, (_, index) => `item-${index}`).find((candidate) => rendezvousOrder(candidate, urls)[0] === urls[0]) as string;
  return { engine, first: pair[0], second: pair[1], key };
}

test("a server that hangs mid-judgment: after the timeout the session goes on on the other, whole sequence re-sent, move recorded", async () => {
  const { engine, first, second, key } = await fleet();
  const session = await engine.open(PROMPT, { affinityKey: key });
  first.script({ kind: "ok", text: "step one", stopType: "word" }, { kind: "hang" });
  second.defaultStep = { kind: "ok", text: "step two", stopType: "word" };
  assert.equal((await session.generate(think)).text, "step one");
  await session.append("Wait");
  assert.equal((await session.generate(think)).text, "step two");
  const route = session.route?.();
  assert.equal(route?.server, second.baseUrl);
  assert.equal(route?.failovers.length, 1);
  assert.equal(route?.failovers[0].from, first.baseUrl);
  assert.match(route?.failovers[0].error ?? "", /no complete answer within 1000 ms/);
  // The other server got the whole sequence so far: the prompt, the first step and the wait.
  const resent = second.completionRequests()[0].body?.prompt as number[];
  const sentFirst = first.completionRequests()[0].body?.prompt as number[];
  assert.ok(resent.length > sentFirst.length && sentFirst.every((id, index) => resent[index] === id), "the first request's prompt is a prefix of the re-sent one");
  const figures = engine.servers();
  assert.deepEqual(figures.map((server) => [server.up, server.downs, server.failovers]), [[false, 1, 1], [true, 0, 0]]);
  // Every request of the session carried its affinity key.
  for (const request of [...first.completionRequests(), ...second.completionRequests()]) assert.equal(request.headers[AFFINITY_HEADER], affinityToken(key));
  // New sessions of the same key avoid the server marked down.
  const next = await engine.open(PROMPT, { affinityKey: key });
  assert.equal(next.route?.()?.server, second.baseUrl);
});

test("a 500 is the request's failure, not the server's: the session stays and the error is thrown", async () => {
  const { engine, first, key } = await fleet();
  const session = await engine.open(PROMPT, { affinityKey: key });
  first.defaultStep = { kind: "status", status: 500, body: JSON.stringify({ error: { message: "bad bytes" } }) };
  await assert.rejects(session.generate(think), /HTTP 500/);
  assert.equal(session.route?.()?.server, first.baseUrl);
  assert.deepEqual(session.route?.()?.failovers, []);
  assert.equal(engine.servers()[0].up, true);
  assert.ok(engine.servers()[0].errors >= 1);
});

test("--base-url repeated and --base-url-file make one fleet; a bad line is named by file and line", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const { engineConfig } = await import("../src/cli/engine-flags.js");
  const dir = mkdtempSync(path.join(os.tmpdir(), "j1-fleet-file-"));
  const file = path.join(dir, "servers.txt");
  writeFileSync(file, "# the fleet\nhttp://10.0.0.2:8080/v1\n\nhttp://10.0.0.3:8080/v1  # third\n");
  const flags = { engine: "llamacpp", baseUrl: ["http://10.0.0.1:8080/v1"], baseUrlFile: file, api: "completions", chatFormat: "auto" } as const;
  const config = engineConfig({ ...flags, baseUrl: [...flags.baseUrl] });
  assert.equal(config.engine, "openai");
  assert.equal(config.baseUrl, "http://10.0.0.1:8080/v1");
  assert.deepEqual(config.baseUrls, ["http://10.0.0.1:8080/v1", "http://10.0.0.2:8080/v1", "http://10.0.0.3:8080/v1"]);
  assert.equal(config.parallel, undefined, "each server's own slots, not a client-wide default");
  writeFileSync(file, "http://10.0.0.2:8080/v1\nftp://nope\n");
  assert.throws(() => engineConfig({ ...flags, baseUrl: [] }), (error: Error) => error.message.includes(`${file}:2`) && /not an http\(s\) base URL/.test(error.message));
  await assert.rejects(createOpenAIEngine({ baseUrl: "http://127.0.0.1:1/v1", baseUrls: ["http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1/"] }), /given twice/);
});
