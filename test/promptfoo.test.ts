/**
 * j1 inside promptfoo, run as a user runs it: the real `promptfoo eval` (0.121.20) on small configs
 * (test/fixtures/promptfoo) whose outputs come from promptfoo's echo provider, graded by j1 on the tiny
 * model through `package:j1-judge/promptfoo:…`, which promptfoo resolves from a node_modules/j1-judge next to the
 * config (a symlink to this checkout, as `npm install j1-judge` would give). Everything promptfoo writes goes
 * to a temporary HOME and PROMPTFOO_CONFIG_DIR; telemetry and update checks are off; no network.
 * Assertions read the results JSON promptfoo writes with -o.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { TINY_TRAJECTORY } from "../src/engines/tiny/tiny-model.js";
import { j1Assert, parsePromptfooOptions } from "../src/integrations/promptfoo.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const promptfooBin = path.join(repo, "node_modules/.bin/promptfoo");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-promptfoo-"));
mkdirSync(path.join(work, "node_modules"));
symlinkSync(repo, path.join(work, "node_modules/j1-judge"), "dir");
cpSync(path.join(repo, "test/fixtures/promptfoo"), work, { recursive: true });

interface ComponentResult {
  pass: boolean;
  score: number;
  reason: string;
  assertion?: { type: string; metric?: string };
  metadata?: { j1?: Record<string, unknown> };
}
interface EvalRow {
  testIdx: number;
  promptIdx: number;
  success: boolean;
  error?: string;
  gradingResult: { componentResults: ComponentResult[] } | null;
}

/** `promptfoo eval -c <config> --no-cache -o out.json` in the temp folder; resolves with its exit code, output and rows. */
function promptfooEval(config: string): Promise<{ code: number; output: string; rows: EvalRow[] }> {
  const out = path.join(work, `${path.basename(config, ".yaml")}.out.json`);
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: path.join(work, "home"),
    PROMPTFOO_CONFIG_DIR: path.join(work, "promptfoo-config"),
    PROMPTFOO_DISABLE_TELEMETRY: "1",
    PROMPTFOO_DISABLE_UPDATE: "1",
    NO_COLOR: "1",
  };
  return new Promise((resolve) => {
    execFile(promptfooBin, ["eval", "-c", config, "--no-cache", "-o", out], { cwd: work, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      const rows = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")).results.results as EvalRow[]) : [];
      resolve({ code, output: `${stdout}\n${stderr}`, rows });
    });
  });
}

function row(rows: EvalRow[], testIdx: number, promptIdx: number): EvalRow {
  const found = rows.find((candidate) => candidate.testIdx === testIdx && candidate.promptIdx === promptIdx);
  assert.ok(found, `no result for test ${testIdx}, prompt ${promptIdx}`);
  return found;
}

function component(found: EvalRow, type: string, metric?: string): ComponentResult {
  const result = found.gradingResult?.componentResults.find((candidate) => candidate.assertion?.type === type && (metric === undefined || candidate.assertion?.metric === metric));
  assert.ok(result, `no ${type}${metric ? ` (${metric})` : ""} result in test ${found.testIdx}, prompt ${found.promptIdx}`);
  return result;
}

// The tiny model's greedy thinking (TINY_TRAJECTORY): "Let me compare both.", then "Wait, check again." per wait.
const thinkingAfter = (waits: number) => TINY_TRAJECTORY.start.join("") + `${TINY_TRAJECTORY.wait}${TINY_TRAJECTORY.afterWait.join("")}`.repeat(waits);
const THINKING_ONE_WAIT = thinkingAfter(1);
const THINKING_TWO_WAITS = thinkingAfter(2);

describe("promptfoo eval with the j1 grader (tiny model)", () => {
  it("select-best between two outputs and j1Assert against a reference", async () => {
    const { code, output, rows } = await promptfooEval("pairwise.yaml");
    // promptfoo exits 100 when some test failed; the swap test fails by design.
    assert.equal(code, 100, output);
    // One engine for the whole process: two grader configs and the assertion share one load (one note).
    assert.equal(output.split("its verdicts mean nothing").length - 1, 1, output);
    assert.equal(rows.length, 4);
    // One order: the tiny model's greedy verdict is A, so the first output is the best.
    const first = component(row(rows, 0, 0), "select-best");
    const second = component(row(rows, 0, 1), "select-best");
    assert.deepEqual([first.pass, first.score, second.pass, second.score], [true, 1, false, 0]);
    // Pairwise against the reference var: the output is A, so it wins, with P(A | A or B) = e³/(e³+e²).
    for (const promptIdx of [0, 1]) {
      const graded = component(row(rows, 0, promptIdx), "javascript");
      assert.equal(graded.pass, true);
      assert.equal(graded.score, 1);
      assert.ok(graded.reason.startsWith(`j1 pairwise: the response is better than the reference (confidence ${TINY_TRAJECTORY.pAGivenAOrB.toFixed(3)})`), graded.reason);
      assert.ok(graded.reason.endsWith(`Thinking: ${THINKING_ONE_WAIT}`), graded.reason);
      assert.equal(graded.metadata?.j1?.verdict, "A");
      assert.equal(graded.metadata?.j1?.waitsUsed, 1);
    }
    // Both orders: A in each order means the two orders disagree, so no output is the best, and why.
    for (const promptIdx of [0, 1]) {
      const swapped = component(row(rows, 1, promptIdx), "select-best");
      assert.equal(swapped.pass, false);
      assert.equal(swapped.score, 0);
      assert.match(swapped.reason, /no verdict \(inconsistent: orders disagree: AB gave A, BA gave B\)/);
      assert.match(swapped.reason, new RegExp(`\\[order AB, sample 1\\] ${escape(THINKING_ONE_WAIT)}\\n\\[order BA, sample 1\\] ${escape(THINKING_ONE_WAIT)}$`));
    }
  });

  it("rating through llm-rubric and j1Assert, normalised to 0–1 with a threshold", async () => {
    const { code, output, rows } = await promptfooEval("rating.yaml");
    assert.equal(code, 100, output);
    // The tiny model rates 1 on 1–10 (all ten scores are equally likely; greedy takes the first): 0 after normalising.
    const rubric = component(row(rows, 0, 0), "llm-rubric");
    assert.equal(rubric.pass, false);
    assert.equal(rubric.score, 0);
    // promptfoo applies an llm-rubric assertion's own threshold after j1's pass: the reason says whose mark it states.
    assert.ok(rubric.reason.startsWith("j1 rating 1 on 1–10 = 0.000 (fail at j1's threshold ≥ 0.5; promptfoo then applies the assertion's threshold, when it has one); 2 wait(s), 14 thinking tokens"), rubric.reason);
    assert.ok(rubric.reason.endsWith(`Thinking: ${THINKING_TWO_WAITS}`), rubric.reason);
    assert.equal(rubric.metadata?.j1?.rawScore, 1);
    assert.equal(rubric.metadata?.j1?.confidence, 0.1);
    const lenient = component(row(rows, 1, 0), "javascript", "lenient");
    const strict = component(row(rows, 1, 0), "javascript", "strict");
    assert.deepEqual([lenient.pass, lenient.score, strict.pass, strict.score], [true, 0, false, 0]);
    assert.match(lenient.reason, /\(pass at ≥ 0\)/);
    assert.ok(lenient.reason.endsWith(`Thinking: ${THINKING_ONE_WAIT}`), lenient.reason);
    assert.match(strict.reason, /\(fail at ≥ 1\)/);
    // A pairwise j1Assert without its reference var is an error (not a fail) that names the var.
    const missing = row(rows, 2, 0);
    assert.equal(missing.success, false);
    assert.match(missing.error ?? "", /field "vars\.reference": pairwise mode needs the reference in the "reference" var/);
  });

  it("select-best among three outputs is a choice; with swap, judged in reverse order too", async () => {
    const { code, output, rows } = await promptfooEval("choice.yaml");
    assert.equal(code, 100, output);
    const picked = [0, 1, 2].map((promptIdx) => component(row(rows, 0, promptIdx), "select-best"));
    assert.deepEqual(picked.map((result) => [result.pass, result.score]), [[true, 1], [false, 0], [false, 0]]);
    for (const promptIdx of [0, 1, 2]) {
      const swapped = component(row(rows, 1, promptIdx), "select-best");
      assert.equal(swapped.pass, false);
      assert.match(swapped.reason, /orders disagree: in the given order output 0, in reverse output 2/);
      assert.match(swapped.reason, new RegExp(`\\[given order\\] ${escape(THINKING_ONE_WAIT)}\\n\\[reverse order\\] ${escape(THINKING_ONE_WAIT)}$`));
    }
  });

  it("a mistyped option is a failed grading with j1's message, not an uncaught error", async () => {
    const { code, output, rows } = await promptfooEval("bad-option.yaml");
    // promptfoo's exit code for failed assertions (100), not 1 for a crash; no stack trace.
    assert.equal(code, 100, output);
    assert.doesNotMatch(output, /\n\s+at .*\(.*:\d+:\d+\)/);
    assert.equal(rows.length, 2);
    for (const result of rows) {
      assert.equal(result.success, false);
      const graded = component(result, "select-best");
      assert.equal(graded.pass, false);
      assert.match(graded.reason, /unknown option\(s\) "wats"/);
      assert.match(graded.reason, /did you mean "waits"|known: /);
    }
  });

  it("j1Assert with a refused config fails the assertion with j1's message", async () => {
    const result = await j1Assert("4", { vars: { question: "2+2?" }, config: { model: "tiny", wats: 2 } });
    assert.equal(result.pass, false);
    assert.equal(result.score, 0);
    assert.match(result.reason, /^j1: .*"wats"/);
  });

  it("options are checked before any model loads: wrong types and unknown names", () => {
    const refusal = (raw: unknown) => {
      try {
        parsePromptfooOptions(raw);
      } catch (error) {
        assert.ok(error instanceof J1Error && error.code === "bad-input");
        return error.message;
      }
      assert.fail("accepted");
    };
    assert.match(refusal({ samples: "3" }), /field "config\.samples"/);
    assert.match(refusal({ mode: "best" }), /field "config\.mode"/);
    assert.match(refusal({ wait: 2 }), /field "config": unknown option\(s\) "wait"; known: engine, model/);
    assert.match(refusal({ engine: "llamacpp", baseUrl: "http://127.0.0.1:1/v1" }), /field "config\.baseUrl": baseUrl is for engine "openai"/);
    assert.deepEqual(parsePromptfooOptions({ model: "tiny", waits: 2, swap: true, questionVar: "q" }), { model: "tiny", waits: 2, swap: true, questionVar: "q" });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
