import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Judgment } from "../src/core/judgment.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-cli-"));
const env = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), NO_COLOR: "1" };

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("j1 judge (CLI, real engine, tiny model)", () => {
  it("the issue's done-when command: waits 2, two injected waits, usage adds up", () => {
    const run = j1("judge", "--model", "tiny", "--question", "2+2?", "--a", "4", "--b", "5", "--waits", "2", "--json");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /verdicts mean nothing/, "the tiny model says plainly that its verdicts mean nothing");
    const judgment = JSON.parse(run.stdout) as Judgment;
    assert.equal(judgment.verdict, "A");
    assert.equal(judgment.waitsUsed, 2);
    assert.equal(judgment.forcedEnd, false);
    const waits = judgment.trace.filter((span) => span.source === "injected" && span.text === "Wait");
    assert.equal(waits.length, 2);
    for (const span of judgment.trace) assert.ok(["prompt", "generated", "injected"].includes(span.source));
    const { usage } = judgment;
    const spanTokens = judgment.trace.reduce((sum, span) => sum + span.tokens, 0);
    assert.equal(usage.promptTokens + usage.thinkingTokens + usage.injectedTokens + usage.answerTokens, spanTokens);
    // Every token evaluated once, except the verdict (read at its position, not fed) and the "]]" after it.
    assert.equal(usage.evaluatedTokens + usage.cachedTokens, spanTokens - 2);
  });

  it("the human view streams thinking with injected parts marked, then the verdict", () => {
    const run = j1("judge", "--model", "tiny", "-q", "2+2?", "-a", "4", "-b", "5", "--waits", "1");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Let me compare both\.⟦Wait⟧, check again\.<\/think>⟦\[\[⟧A\]\]/);
    assert.match(run.stdout, /verdict A, confidence 0\.731/);
    assert.match(run.stdout, /waits used 1, thinking ended: by the model, after every wait/);
  });

  it("@file values and a pointwise score", () => {
    writeFileSync(path.join(work, "q.txt"), "What is 2+2?");
    const run = j1("judge", "--model", "tiny", "--pointwise", "-q", "@q.txt", "--response", "4", "--json");
    assert.equal(run.code, 0, run.stderr);
    const judgment = JSON.parse(run.stdout) as Judgment;
    assert.equal(judgment.kind, "pointwise");
    assert.ok(judgment.score !== null && judgment.score >= 1 && judgment.score <= 10, String(judgment.score));
    assert.ok(judgment.trace[0].text.includes("What is 2+2?"));
  });

  it("--input / --output writes one judgment per line and --resume judges only the rest", () => {
    const input = path.join(work, "pairs.jsonl");
    const output = path.join(work, "out.jsonl");
    writeFileSync(input, ["p1", "p2", "p3"].map((id) => JSON.stringify({ id, question: `q ${id}`, a: "x", b: "y" })).join("\n") + "\n");
    const first = j1("judge", "--model", "tiny", "--input", input, "--output", output, "--progress", "quiet");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 3);
    const refused = j1("judge", "--model", "tiny", "--input", input, "--output", output);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /exists: pass --resume/);
    appendFileSync(input, ["p4", "p5"].map((id) => JSON.stringify({ id, question: `q ${id}`, a: "x", b: "y" })).join("\n") + "\n");
    const resumed = j1("judge", "--model", "tiny", "--input", input, "--output", output, "--resume", "--progress", "quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming: 3 of 5 already judged/);
    const ids = readFileSync(output, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { id: string }).id);
    assert.deepEqual(ids.sort(), ["p1", "p2", "p3", "p4", "p5"]);
  });

  it("bad input lines name the file, line and field, and nothing is judged", () => {
    const input = path.join(work, "bad.jsonl");
    const output = path.join(work, "bad-out.jsonl");
    writeFileSync(input, `${JSON.stringify({ question: "q", a: "x", b: "y" })}\n{not json\n`);
    const notJson = j1("judge", "--model", "tiny", "--input", input, "--output", output);
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /bad\.jsonl:2: row 2: not valid JSON/);
    writeFileSync(input, `${JSON.stringify({ question: "q", a: "x", b: "y" })}\n\n${JSON.stringify({ question: "q", a: "x" })}\n`);
    const missing = j1("judge", "--model", "tiny", "--input", input, "--output", output);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /bad\.jsonl:3: row 2: field "b": missing/);
    const wrongType = path.join(work, "type.jsonl");
    writeFileSync(wrongType, `${JSON.stringify({ question: "q", a: 4, b: "y" })}\n`);
    assert.match(j1("judge", "--model", "tiny", "--input", wrongType).stderr, /type\.jsonl:1: row 1: field "a": must be a string, found number 4/);
  });

  it("--input reads what j1 eval reads (CSV with --map), keeps the judgments in the run store, and a rerun reuses them", () => {
    const input = path.join(work, "pairs.csv");
    writeFileSync(input, 'prompt,first,second\n"2+2?",4,5\n"capital of France?",Paris,Lyon\n');
    const store = path.join(work, "judge-store.sqlite");
    const args = ["judge", "--model", "tiny", "--input", input, "--map", "question=prompt,a=first,b=second", "--store", store, "--json", "--progress", "quiet"];
    const first = j1(...args);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split("\n").map((line) => JSON.parse(line) as { id?: string; verdict?: string; judged?: number; reused?: number; run?: string });
    assert.deepEqual(lines.slice(0, 2).map((line) => line.id).sort(), ["1", "2"]);
    for (const line of lines.slice(0, 2)) assert.ok(line.verdict === "A" || line.verdict === "B");
    assert.equal(lines[2].judged, 2);
    const second = j1(...args);
    assert.equal(second.code, 0, second.stderr);
    const summary = JSON.parse(second.stdout.trim().split("\n").pop() as string) as { judged: number; reused: number };
    assert.deepEqual([summary.judged, summary.reused], [0, 2]);
    const listed = j1("runs", "list", "--store", store, "--json");
    assert.equal(listed.code, 0, listed.stderr);
    const runs = JSON.parse(listed.stdout) as Array<{ kind: string; status: string }>;
    assert.deepEqual(runs.map((run) => [run.kind, run.status]), [["judge", "done"], ["judge", "done"]]);
    const mistyped = j1("judge", "--model", "tiny", "--input", input, "--map", "question=prompt,a=first,b=scond", "--store", store);
    assert.equal(mistyped.code, 2);
    assert.match(mistyped.stderr, /pairs\.csv:2: row 1: field "scond": missing/);
  });

  it("an unreadable model file and an unreachable model URI say what to do instead", () => {
    const missing = j1("judge", "--model", path.join(work, "nope.gguf"), "-q", "x", "-a", "y", "-b", "z");
    assert.equal(missing.code, 2, "a model path that is not there is bad input, as a missing --data is");
    assert.match(missing.stderr, /nope\.gguf: cannot read the model file/);
    const folder = j1("judge", "--model", work, "-q", "x", "-a", "y", "-b", "z");
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /is a folder, not a model file/);
    const garbage = path.join(work, "garbage.gguf");
    writeFileSync(garbage, "this is not a GGUF file");
    // A file that is not a GGUF is bad input too, refused before llama.cpp reads it: one that starts with
    // the letters "GGUF" was read as GGUF version 3 and grew the process until the kernel killed it.
    const notGguf = j1("judge", "--model", garbage, "-q", "x", "-a", "y", "-b", "z");
    assert.equal(notGguf.code, 2, notGguf.stderr);
    assert.match(notGguf.stderr, /garbage\.gguf: not a well-formed GGUF file: the magic is "this", not "GGUF"; field "--model"/);
    writeFileSync(garbage, "GGUF? no: text\n");
    const lookalike = j1("judge", "--model", garbage, "-q", "x", "-a", "y", "-b", "z");
    assert.equal(lookalike.code, 2, lookalike.stderr);
    assert.match(lookalike.stderr, /garbage\.gguf: not a well-formed GGUF file: GGUF version 1869488191 \(j1 reads versions 2 and 3\)/);
    // No model hub is reachable from here (and none should be needed): the real download path fails
    // with advice, rather than hanging or crashing.
    const offline = j1("judge", "--model", "hf:nobody/no-such-model-GGUF:Q4_K_M", "-q", "x", "-a", "y", "-b", "z");
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /cannot fetch hf:nobody\/no-such-model-GGUF:Q4_K_M/);
    assert.match(offline.stderr, /--model \.\/model\.gguf/);
  });

  it("bad flag values are refused with the flag's name", () => {
    const run = j1("judge", "--model", "tiny", "-q", "x", "-a", "y", "-b", "z", "--samples", "0");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--samples: "0" is not a whole number >= 1/);
    const noPair = j1("judge", "--model", "tiny", "-q", "x", "-a", "y");
    assert.match(noPair.stderr, /needs both --a and --b/);
  });

  it("the format and sampling flags refuse bad values with exit 2, naming the flag, file and field", () => {
    const pair = ["judge", "--model", "tiny", "-q", "x", "-a", "y", "-b", "z"];
    const topP = j1(...pair, "--top-p", "2");
    assert.equal(topP.code, 2);
    assert.match(topP.stderr, /--top-p: "2" is not a number from 0 to 1/);
    const reasoning = j1(...pair, "--reasoning-format", "nope");
    assert.equal(reasoning.code, 2);
    assert.match(reasoning.stderr, /field "--reasoning-format": "nope" is not a reasoning format; use one of think, harmony/);
    const config = path.join(work, "tokenizer_config.json");
    writeFileSync(config, JSON.stringify({ chat_template: 5 }));
    const template = j1(...pair, "--chat-template", config);
    assert.equal(template.code, 2);
    assert.match(template.stderr, /tokenizer_config\.json: field "chat_template" must be a string/);
    const withNamed = j1(...pair, "--chat-format", "chatml", "--chat-template", config);
    assert.equal(withNamed.code, 2);
    assert.match(withNamed.stderr, /--chat-template goes with --chat-format auto/);
  });

  it("flags that would do nothing, and an output folder that is not there, exit 2 naming the flag (no stack trace)", () => {
    const input = path.join(work, "flags.jsonl");
    writeFileSync(input, `${JSON.stringify({ question: "q", a: "x", b: "y" })}\n`);
    const pair = ["-q", "x", "-a", "y", "-b", "z"];
    for (const [args, pattern] of [
      [["--pointwise", "-q", "x", "--response", "y", "--swap"], /--swap judges a pair in both orders/],
      [["--pointwise", "-q", "x", "--response", "y", "--tie"], /--tie allows \[\[tie\]\]/],
      [[...pair, "--output", path.join(work, "o.jsonl")], /--output goes with --input/],
      [[...pair, "--resume"], /--resume goes with --input and --output/],
      [[...pair, "--map", "question=q"], /--map goes with --input/],
      [["--input", input, "--output", path.join(work, "no", "such", "dir", "x.jsonl")], /no folder .*no[/\\]such[/\\]dir to write/],
    ] as const) {
      const result = j1("judge", "--model", "tiny", ...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stderr, /Unhandled|    at /, "no stack trace");
    }
  });
});

describe("j1 report of a j1 judge --input run", () => {
  it("says what the run holds and where its judgments are (exit 2), not an unknown benchmark", () => {
    const input = path.join(work, "report-pairs.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: "q1", question: "q", a: "x", b: "y" })}\n`);
    const store = path.join(work, "report-runs.sqlite");
    const judged = j1("judge", "--model", "tiny", "--input", input, "--store", store, "--json");
    assert.equal(judged.code, 0, judged.stderr);
    const runId = (JSON.parse(judged.stdout.trim().split("\n").pop() as string) as { run: string }).run;
    const report = j1("report", runId, "--store", store);
    assert.equal(report.code, 2, report.stderr);
    assert.match(report.stderr, new RegExp(`run ${runId} is a j1 judge --input run: it holds judgments, not benchmark scores; list them with j1 runs show ${runId}`));
    assert.doesNotMatch(report.stderr, /unknown benchmark/);
  });
});
