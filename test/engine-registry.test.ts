import assert from "node:assert/strict";
import { test } from "node:test";
import { J1Error } from "../src/core/errors.js";
import { createEngine } from "../src/engines/create-engine.js";
import { ENGINES, capabilityNotes, engineFactory, requireCapabilities } from "../src/engines/engine-registry.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { startFaultServer } from "./helpers/fault-server.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

test("the engine registry: every engine by its kind; an unknown one names the known ones (exit 2)", async () => {
  assert.deepEqual(ENGINES.map((entry) => entry.kind), ["llamacpp", "openai", "ai-sdk"]);
  assert.equal(engineFactory("openai").kind, "openai");
  assert.throws(() => engineFactory("vllm-native"), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && /known: llamacpp, openai, ai-sdk/.test(error.message));
  await assert.rejects(createEngine({ engine: "openai" }), /needs --base-url/);
  await assert.rejects(createEngine({ engine: "ai-sdk", model: "m" }), /--engine ai-sdk needs --base-url/);
});

test("capabilities are read: the tiny engine can do everything; a server without grammar says so, and a need for it is refused", async () => {
  const tiny = await tinyEngine();
  try {
    assert.deepEqual(capabilityNotes(tiny), []);
    requireCapabilities(tiny, ["grammar", "probabilities"], "a confidence rule");
  } finally {
    await tiny.dispose();
  }
  const server = await startFaultServer({ flavor: "generic" });
  const engine = await createOpenAIEngine({ baseUrl: server.baseUrl, allowTextPrompt: true, retryDelayMs: 10 });
  try {
    assert.equal(engine.capabilities.grammar, false);
    const notes = capabilityNotes(engine);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /engine openai cannot constrain the verdict to the valid choices/);
    assert.throws(
      () => requireCapabilities(engine, ["grammar"], "a grammar-constrained verdict"),
      (error: unknown) => error instanceof J1Error && error.code === "unsupported" && /a grammar-constrained verdict needs an engine that can constrain the verdict to the valid choices; engine openai cannot/.test(error.message),
    );
    requireCapabilities(engine, ["probabilities"], "confidence");
  } finally {
    await engine.dispose();
    await server.close();
  }
});
