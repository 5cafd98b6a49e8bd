/**
 * Long judged text on the real engine: the context check names the size instead of crashing (no spread of a
 * huge token array), a text far past any context is refused before it is tokenized, and `j1 judge` exits
 * non-zero when its only judgment failed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Judge } from "../src/judge/judge.js";
import { tinyEngine } from "./helpers/tiny-engine.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("long inputs", () => {
  it("200,000 byte tokens in a 32k context: an error naming the token count, not a stack overflow", async () => {
    const engine = await tinyEngine({ contextSize: 32768 });
    try {
      const judge = new Judge({ engine });
      // Control characters are byte tokens in the tiny vocabulary: one token each, under the size bound.
      const judgment = await judge.judgePair({ question: "q", a: "4", b: "\u0001".repeat(200_000) });
      assert.equal(judgment.status, "engine-error");
      assert.match(judgment.error ?? "", /the prompt has \d+ tokens but the context holds 32768/);
    } finally {
      await engine.dispose();
    }
  });

  it("a response far past any context is refused from its size, before tokenizing", async () => {
    const engine = await tinyEngine({ contextSize: 2048 });
    try {
      const judgment = await new Judge({ engine }).judgePair({ question: "q", a: "4", b: "x".repeat(400_000) });
      assert.equal(judgment.status, "engine-error");
      assert.match(judgment.error ?? "", /characters, more than a context of 2048 tokens can hold/);
    } finally {
      await engine.dispose();
    }
  });

  it("j1 judge exits 1 when its only judgment failed in the engine", () => {
    // Through @file: a 400,000-character argument is past the kernel's limit for one argument.
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "j1-long-")), "response.txt");
    writeFileSync(file, "x".repeat(400_000));
    const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), "judge", "--model", "tiny", "--context-size", "2048", "-q", "q", "-a", "4", "-b", `@${file}`, "--json"], { encoding: "utf8" });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(JSON.parse(result.stdout).status, "engine-error");
  });
});

describe("SIGTERM on a long eval", () => {
  it("stops after the judgments in flight, records the run as interrupted and exits 130 (not killed)", async () => {
    const { spawn } = await import("node:child_process");
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-term-"));
    const data = path.join(work, "pairs.jsonl");
    writeFileSync(data, Array.from({ length: 400 }, (_, index) => JSON.stringify({ id: `p${index}`, question: `q${index}`, a: "a", b: "b", label: "A" })).join("\n"));
    const child = spawn(process.execPath, [path.join(root, "bin/j1"), "eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--parallel", "1", "--store", path.join(work, "runs.sqlite"), "--progress", "jsonl"], { cwd: work });
    let stderr = "";
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/"done":[1-9]/.test(stderr) && !child.killed) child.kill("SIGTERM");
      });
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    assert.equal(exit.signal, null, stderr);
    assert.equal(exit.code, 130, stderr);
    assert.match(stderr, /stopping after the judgments in flight/);
    assert.match(stderr, /continue: j1 eval --resume/);
  });
});
