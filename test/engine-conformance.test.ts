/**
 * One suite of engine behaviours that every engine must pass (as hono runs one shared suite over
 * all its routers). It drives the engine seam directly, on the tiny model whose greedy trajectory is known
 * (TINY_TRAJECTORY), over:
 * - llamacpp: node-llama-cpp in-process;
 * - openai: a real llama-server serving the same model file (skipped when the binary is not built,
 *   except under CI, where that fails).
 * A new engine joins by adding one `engineConformance(...)` call with its factory.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PromptSegment } from "../src/core/template.js";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import type { Engine, EngineSession, SessionUsage } from "../src/engines/engine.js";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { createOpenAIEngine } from "../src/engines/openai/openai-engine.js";
import { ensureTinyModel, TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import { Judge } from "../src/judge/judge.js";
import { findLlamaServer, startLlamaServer } from "./helpers/llama-server.js";

/** An engine under test and how to free what it needs; undefined with a reason when it cannot run here. */
export type EngineFactory = () => Promise<{ engine: Engine; cleanup: () => Promise<void> } | { skip: string }>;

const START = TINY_TRAJECTORY.start.join("");
const AFTER_WAIT = TINY_TRAJECTORY.afterWait.join("");
const THINK = { stopAt: TINY_TRAJECTORY.endThink, temperature: 0, seed: 7 } as const;
const ANSWER = { choices: ["A", "B"], suffix: "]]", maxTokens: 4, temperature: 0, seed: 7 } as const;

export function engineConformance(name: string, factory: EngineFactory): void {
  describe(`engine conformance: ${name}`, () => {
    let engine: Engine | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let skipReason: string | undefined;
    let prompt: PromptSegment[];

    before(async () => {
      const made = await factory();
      if ("skip" in made) {
        skipReason = made.skip;
        return;
      }
      ({ engine, cleanup } = made);
      prompt = new Judge({ engine }).renderPair({ question: "2+2?", a: "4", b: "5" });
    });
    after(async () => {
      await cleanup?.();
    });

    /** Runs `body` on a fresh session, closed afterwards; skipped (with the reason) when the engine cannot run. */
    const withSession = (title: string, body: (session: EngineSession, engine: Engine) => Promise<void>) =>
      it(title, async (t) => {
        if (skipReason !== undefined || !engine) {
          t.skip(skipReason);
          return;
        }
        const session = await engine.open(prompt);
        try {
          await body(session, engine);
        } finally {
          await session.close();
        }
      });

    withSession("generate stops at the delimiter, without it in the text", async (session) => {
      assert.ok(session.promptTokens > 0);
      const step = await session.generate(THINK);
      assert.equal(step.stop, "delimiter");
      assert.equal(step.text, START);
      assert.ok(!step.text.includes(TINY_TRAJECTORY.endThink));
      assert.equal(step.tokens, TINY_TRAJECTORY.start.length);
    });

    withSession("generate stops at maxTokens with stop 'length'", async (session) => {
      const step = await session.generate({ ...THINK, maxTokens: 2 });
      assert.equal(step.stop, "length");
      assert.equal(step.tokens, 2);
      assert.equal(step.text, TINY_TRAJECTORY.start.slice(0, 2).join(""));
    });

    withSession("generate reports 'end' at the end of generation, and counts no end token", async (session) => {
      await session.generate(THINK);
      await session.append(`${TINY_TRAJECTORY.endThink}[[`);
      await session.answer(ANSWER);
      // After "]]" the tiny model ends its output ("</s>").
      const step = await session.generate(THINK);
      assert.deepEqual([step.stop, step.text, step.tokens], ["end", "", 0]);
    });

    withSession("append then generate continues from the appended text", async (session) => {
      await session.generate(THINK);
      const waitTokens = await session.append(TINY_TRAJECTORY.wait);
      assert.equal(waitTokens, 1);
      const step = await session.generate(THINK);
      assert.equal(step.stop, "delimiter");
      assert.equal(step.text, AFTER_WAIT);
      assert.equal(step.tokens, TINY_TRAJECTORY.afterWait.length);
    });

    withSession("mark/rollback restores the session: a read-out leaves no trace", async (session) => {
      await session.generate(THINK);
      const mark = session.mark();
      await session.append(TINY_TRAJECTORY.endThink);
      await session.append("[[");
      const readOut = await session.answer(ANSWER);
      assert.equal(readOut.text, "A]]");
      await session.rollback(mark);
      // Back where thinking tried to end: a wait continues the thinking, not the verdict.
      await session.append(TINY_TRAJECTORY.wait);
      const step = await session.generate(THINK);
      assert.equal(step.text, AFTER_WAIT);
      // And a second read-out at the new point gives the same verdict again.
      const second = session.mark();
      await session.append(`${TINY_TRAJECTORY.endThink}[[`);
      assert.equal((await session.answer(ANSWER)).text, "A]]");
      await session.rollback(second);
      await session.append(TINY_TRAJECTORY.wait);
      assert.equal((await session.generate(THINK)).text, AFTER_WAIT);
    });

    withSession("answer returns a valid choice, with normalised probabilities where reported", async (session) => {
      await session.generate(THINK);
      await session.append(`${TINY_TRAJECTORY.endThink}[[`);
      const answer = await session.answer(ANSWER);
      assert.match(answer.text, /^(A|B)\]\]$/);
      assert.equal(answer.text, "A]]");
      assert.ok(answer.tokens >= 1 && answer.tokens <= ANSWER.maxTokens);
      if (answer.choiceProbabilities) {
        const total = Object.values(answer.choiceProbabilities).reduce((sum, p) => sum + p, 0);
        assert.ok(Math.abs(total - 1) < 1e-6, `probabilities sum to ${total}`);
        assert.ok(Math.abs((answer.choiceProbabilities.A ?? 0) - TINY_TRAJECTORY.pAGivenAOrB) < 0.01, JSON.stringify(answer.choiceProbabilities));
      }
    });

    withSession("usage is non-decreasing and counts real work", async (session) => {
      const seen: SessionUsage[] = [session.usage()];
      await session.generate(THINK);
      seen.push(session.usage());
      await session.append(TINY_TRAJECTORY.wait);
      await session.generate(THINK);
      seen.push(session.usage());
      const mark = session.mark();
      await session.append(`${TINY_TRAJECTORY.endThink}[[`);
      await session.answer(ANSWER);
      seen.push(session.usage());
      await session.rollback(mark);
      seen.push(session.usage());
      for (let index = 1; index < seen.length; index++) {
        assert.ok(seen[index].evaluatedTokens >= seen[index - 1].evaluatedTokens, `evaluated at step ${index}: ${JSON.stringify(seen)}`);
        assert.ok(seen[index].cachedTokens >= seen[index - 1].cachedTokens, `cached at step ${index}`);
        assert.equal(seen[index].promptTokens, session.promptTokens);
      }
      assert.ok(seen[seen.length - 1].evaluatedTokens > 0);
    });

    withSession("close is idempotent, and a closed session refuses work", async (session, engine) => {
      await session.close();
      await session.close();
      await assert.rejects(session.generate(THINK));
      // The engine still serves new sessions.
      const next = await engine.open(prompt);
      try {
        assert.equal((await next.generate(THINK)).text, START);
      } finally {
        await next.close();
        await next.close();
      }
    });
  });
}

engineConformance("llamacpp (node-llama-cpp in-process)", async () => {
  const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 2048, cacheDir: j1CacheDir() });
  return { engine, cleanup: () => engine.dispose() };
});

engineConformance("openai (real llama-server)", async () => {
  const binary = findLlamaServer();
  if (!binary) {
    if (process.env.CI) throw new Error("llama-server not built (CI must run scripts/build-llama-server.sh first, or set J1_LLAMA_SERVER)");
    return { skip: "llama-server not built: run scripts/build-llama-server.sh" };
  }
  const modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
  const server = await startLlamaServer({ modelPath, binary, contextSize: 2048, parallel: 1, threads: 1 });
  try {
    const engine = await createOpenAIEngine({ baseUrl: `${server.baseUrl}/v1`, timeoutMs: 30_000 });
    return {
      engine,
      cleanup: async () => {
        await engine.dispose();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
});
