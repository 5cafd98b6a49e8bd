import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PromptSegment } from "../src/core/template.js";
import type { LlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const prompt = (k: number): PromptSegment[] => [{ text: `Question ${k}: which is better?\n<think>\n`, trusted: true }];

/** The sequence ids of each decode batch node-llama-cpp hands llama.cpp (its native context is private; read, not replaced). */
function recordBatches(engine: LlamaCppEngine): number[][] {
  const native = (engine as unknown as { context: { _ctx: Record<string, (...a: unknown[]) => unknown> } }).context._ctx;
  const batches: number[][] = [];
  let current: number[] = [];
  const add = native.addToBatch.bind(native);
  const decode = native.decodeBatch.bind(native);
  Object.defineProperty(native, "addToBatch", { value: (...a: unknown[]) => (current.push(a[0] as number), add(...a)) });
  Object.defineProperty(native, "decodeBatch", { value: (...a: unknown[]) => (batches.push(current), (current = []), decode(...a)) });
  return batches;
}

describe("decode batches in sequence id order (llama.cpp runs one ubatch per run of consecutive ids)", () => {
  let engine: LlamaCppEngine;
  before(async () => {
    engine = await tinyEngine({ sequences: 4 });
  });
  after(async () => {
    await engine.dispose();
  });

  it("sessions holding sequences 3, 2, 1, 0 still decode together, listed 0, 1, 2, 3", async () => {
    // Each prompt once on its own sequence, then again in reverse, so the prefix each sequence holds makes the
    // pool lend them in reverse: the sessions queue their decodes as sequences 3, 2, 1, 0.
    const first = await Promise.all([0, 1, 2, 3].map((k) => engine.open(prompt(k))));
    await Promise.all(first.map((session) => session.generate({ stopAt: "</think>", maxTokens: 1, temperature: 0, seed: 1 })));
    await Promise.all(first.map((session) => session.close()));
    const sessions = [];
    for (const k of [3, 2, 1, 0]) sessions.push(await engine.open(prompt(k)));
    const batches = recordBatches(engine);
    await Promise.all(sessions.map((session) => session.generate({ stopAt: "</think>", maxTokens: 4, temperature: 0, seed: 1 })));
    await Promise.all(sessions.map((session) => session.close()));
    assert.ok(batches.length > 0);
    for (const batch of batches) assert.deepEqual(batch, [...batch].sort((a, b) => a - b), `batch ${batch.join(",")} is not in id order`);
    // node-llama-cpp starts a batch before the sequence sampled last has queued; the batch waits for it.
    assert.deepEqual(batches.slice(0, 4), Array(4).fill([0, 1, 2, 3]));
  });
});
