/**
 * Requests the openai engine sends again are told, counted, in the engine's warnings (which runs keep and
 * reports show): a timed-out attempt is named as such, because the server evaluated tokens for it that no
 * answer reports, so the run's evaluated-token figures are a lower bound. Before, retries were silent.
 * The faults come from test/helpers/fault-server.ts (a real server will not hang or fail on demand).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { warningText } from "../src/engines/engine-warnings.js";
import type { GenerateRequest } from "../src/engines/engine.js";
import { createOpenAIEngine, type OpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { startFaultServer, type FaultServer } from "./helpers/fault-server.js";

let server: FaultServer;
const engines: OpenAIEngine[] = [];

before(async () => {
  server = await startFaultServer();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  server.defaultStep = { kind: "ok", text: "fine" };
  server.requests.length = 0;
});
after(async () => {
  await server.close();
});

const PROMPT = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n";
const think: GenerateRequest = { stopAt: "</think>", maxTokens: 32, temperature: 0, seed: 1 };

async function engineWith(timeoutMs: number): Promise<OpenAIEngine> {
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, retryDelayMs: 10, timeoutMs });
  engines.push(engine);
  return engine;
}

const texts = (engine: OpenAIEngine) => (engine.warnings ?? []).map(warningText);

test("requests sent again after the timeout are counted in one warning that says the evaluated tokens are a lower bound", async () => {
  const engine = await engineWith(300);
  const session = await engine.open([{ text: PROMPT, trusted: true }]);
  assert.deepEqual(texts(engine).filter((text) => /sent again/.test(text)), [], "no warning before any retry");
  server.script({ kind: "hang" }, { kind: "ok", text: "awake", stopType: "word" });
  assert.equal((await session.generate(think)).text, "awake");
  const once = texts(engine).filter((text) => /sent again/.test(text));
  assert.equal(once.length, 1);
  assert.match(once[0], /^1 request was sent again after taking longer than the timeout \(300 ms\): .*lower bound.*--timeout.*--parallel/);

  server.script({ kind: "hang" }, { kind: "hang" }, { kind: "ok", text: "late", stopType: "word" });
  assert.equal((await session.generate(think)).text, "late");
  const thrice = texts(engine).filter((text) => /sent again/.test(text));
  assert.equal(thrice.length, 1, "one entry, its count rewritten");
  assert.match(thrice[0], /^3 requests were sent again after taking longer than the timeout/);
});

test("requests sent again after a server error are counted apart from timeouts, naming the last error", async () => {
  const engine = await engineWith(5_000);
  const session = await engine.open([{ text: PROMPT, trusted: true }]);
  server.script({ kind: "status", status: 503, body: "busy" }, { kind: "ok", text: "back", stopType: "word" });
  assert.equal((await session.generate(think)).text, "back");
  const retried = texts(engine).filter((text) => /sent again/.test(text));
  assert.equal(retried.length, 1);
  assert.match(retried[0], /^1 request was sent again after a failure \(the last: .*503/);
  assert.doesNotMatch(retried[0], /timeout/);
});
