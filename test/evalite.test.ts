/**
 * j1 inside evalite, run as a user runs it: the real `evalite run` (0.19, on vitest 4) on a fixture eval
 * file (test/fixtures/evalite/answers.eval.ts) in a temporary folder whose node_modules links j1 (this
 * checkout, as `npm install j1-judge` would give), evalite and vitest. Its scorers are `j1Scorer`s on the tiny
 * model; the results are read back from the JSON evalite exports with --outputPath (its own export of the
 * run it stored in node_modules/.evalite).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import { j1Scorer } from "../src/integrations/evalite.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const evaliteBin = path.join(repo, "node_modules/.bin/evalite");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-evalite-"));
mkdirSync(path.join(work, "node_modules"));
symlinkSync(repo, path.join(work, "node_modules/j1-judge"), "dir");
for (const name of ["evalite", "vitest"]) symlinkSync(path.join(repo, "node_modules", name), path.join(work, "node_modules", name), "dir");
copyFileSync(path.join(repo, "test/fixtures/evalite/answers.eval.ts"), path.join(work, "answers.eval.ts"));

interface ScoreRow {
  name: string;
  score: number;
  metadata: { kind: string; verdict: string | null; rawScore: number | null; status: string; error?: string; confidence?: number; waitsUsed: number; thinking: string; usage: { thinkingTokens: number; evaluatedTokens: number }; pass: boolean; reason: string };
}
interface ResultRow {
  input: string;
  output: string;
  expected: string;
  averageScore: number;
  scores: ScoreRow[];
}

/** `evalite run --outputPath out.json [--threshold N]` in the temp folder. */
function evaliteRun(extra: string[] = []): Promise<{ code: number; output: string; results: ResultRow[]; averageScore?: number }> {
  const out = path.join(work, "out.json");
  rmSync(out, { force: true });
  const env = { PATH: process.env.PATH ?? "", HOME: path.join(work, "home"), NO_COLOR: "1", CI: "1" };
  return new Promise((resolve) => {
    execFile(evaliteBin, ["run", "--outputPath", out, ...extra], { cwd: work, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      const exported = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : undefined;
      const evals = exported?.evals ?? [];
      resolve({ code, output: `${stdout}\n${stderr}`, results: evals.flatMap((entry: { results: ResultRow[] }) => entry.results), averageScore: evals[0]?.averageScore });
    });
  });
}

function scoreOf(result: ResultRow, name: string): ScoreRow {
  const found = result.scores.find((score) => score.name === name);
  assert.ok(found, `no score "${name}" for input ${result.input}`);
  return found;
}

// The tiny model's greedy thinking (TINY_TRAJECTORY): "Let me compare both.", then "Wait, check again." per wait.
const thinkingAfter = (waits: number) => TINY_TRAJECTORY.start.join("") + `${TINY_TRAJECTORY.wait}${TINY_TRAJECTORY.afterWait.join("")}`.repeat(waits);
const THINKING_ONE_WAIT = thinkingAfter(1);

describe("evalite run with j1 scorers (tiny model)", () => {
  it("scores each output: a rating, a pairwise verdict against expected, and one with both orders", async () => {
    const { code, output, results, averageScore } = await evaliteRun();
    assert.equal(code, 0, output);
    assert.match(output, /its verdicts mean nothing/);
    assert.deepEqual(results.map((result) => [result.input, result.output, result.expected]), [["2+2?", "4", "5"], ["Capital of France?", "Paris", "Lyon"]]);
    for (const result of results) {
      // The tiny model rates 1 on 1–10: 0 after normalising, with its thinking after two waits.
      const rating = scoreOf(result, "j1 rating");
      assert.equal(rating.score, 0);
      assert.deepEqual([rating.metadata.kind, rating.metadata.rawScore, rating.metadata.status, rating.metadata.waitsUsed, rating.metadata.pass], ["pointwise", 1, "ok", 2, false]);
      assert.equal(rating.metadata.thinking, thinkingAfter(2));
      assert.equal(rating.metadata.usage.thinkingTokens, 14);
      // Pairwise: the output is A and the tiny model's greedy verdict is A, with P(A | A or B) = e³/(e³+e²).
      const pairwise = scoreOf(result, "j1 pairwise");
      assert.equal(pairwise.score, 1);
      assert.deepEqual([pairwise.metadata.verdict, pairwise.metadata.status, pairwise.metadata.pass], ["A", "ok", true]);
      assert.ok(Math.abs((pairwise.metadata.confidence ?? 0) - TINY_TRAJECTORY.pAGivenAOrB) < 1e-6);
      assert.equal(pairwise.metadata.thinking, THINKING_ONE_WAIT);
      assert.ok(pairwise.metadata.reason.endsWith(`Thinking: ${THINKING_ONE_WAIT}`), pairwise.metadata.reason);
      // Both orders: A each time, so the orders disagree and there is no verdict: score 0, and why.
      const swapped = scoreOf(result, "j1 pairwise, both orders");
      assert.equal(swapped.score, 0);
      assert.deepEqual([swapped.metadata.verdict, swapped.metadata.status, swapped.metadata.error], [null, "inconsistent", "orders disagree: AB gave A, BA gave B"]);
      assert.equal(swapped.metadata.thinking, `[order AB, sample 1] ${THINKING_ONE_WAIT}\n[order BA, sample 1] ${THINKING_ONE_WAIT}`);
      assert.ok(Math.abs(result.averageScore - 1 / 3) < 1e-9);
    }
    assert.ok(averageScore !== undefined && Math.abs(averageScore - 1 / 3) < 1e-9);
  });

  it("evalite's --threshold fails the run on j1's scores (33% is below 50)", async () => {
    const { code, output } = await evaliteRun(["--threshold", "50"]);
    assert.notEqual(code, 0, output);
    assert.match(output, /33%/);
  });

  it("options are checked when the scorer is made, and pairwise needs expected", async () => {
    assert.throws(() => j1Scorer({ waits: -1 }), (error: unknown) => error instanceof J1Error && /field "j1Scorer\.waits"/.test(error.message));
    assert.throws(() => j1Scorer({ mode: "best" } as never), (error: unknown) => error instanceof J1Error && /field "j1Scorer\.mode"/.test(error.message));
    const scorer = j1Scorer<string, string>({ model: "tiny", mode: "pairwise" });
    await assert.rejects(async () => scorer({ input: "2+2?", output: "4" }), (error: unknown) => error instanceof J1Error && /field "expected": pairwise mode judges the output against `expected`/.test(error.message));
    const rating = j1Scorer<{ prompt: string }, string>({ model: "tiny" });
    await assert.rejects(async () => rating({ input: { prompt: "2+2?" }, output: "4" }), (error: unknown) => error instanceof J1Error && /field "input"/.test(error.message));
  });
});
