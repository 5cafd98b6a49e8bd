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
