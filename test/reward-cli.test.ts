/**
 * The `j1 reward` command's own pieces: `verl` writes the Python file (and refuses to overwrite it),
 * `check` scores one output, sizes and bad flags are refused with the flag named.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parseSize, registerReward } from "../src/cli/commands/reward.js";
import { renderVerlRewardFile } from "../src/reward/verl-client.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "j1-reward-cli-"));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<string[]> {
  const program = new Command().exitOverride();
  registerReward(program);
  const printed: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (line: string) => printed.push(String(line));
  console.error = (line: string) => printed.push(String(line));
  try {
    await program.parseAsync(args, { from: "user" });
  } finally {
    console.log = log;
    console.error = error;
  }
  return printed;
}

test("reward verl: writes a Python file with compute_score, and will not overwrite it", async () => {
  const file = join(dir, "j1_reward.py");
  await run(["reward", "verl", "--output", file, "--url", "http://10.0.0.5:8765/", "--token-env", "MY_TOKEN"]);
  const text = await readFile(file, "utf8");
  assert.match(text, /^def compute_score\(data_source, solution_str, ground_truth, extra_info=None, \*\*kwargs\):/m);
  assert.match(text, /DEFAULT_URL = "http:\/\/10\.0\.0\.5:8765"/);
  assert.match(text, /TOKEN_ENV = "MY_TOKEN"/);
  assert.doesNotMatch(text, /@@/);
  await assert.rejects(run(["reward", "verl", "--output", file]), /exists already/);
  await run(["reward", "verl", "--output", file, "--force"]);
  if (spawnSync("python3", ["--version"]).status === 0) {
    const compiled = spawnSync("python3", ["-m", "py_compile", file]);
    assert.equal(compiled.status, 0, compiled.stderr.toString());
  }
});

test("reward verl: a URL or variable name that would break the file is refused", () => {
  assert.throws(() => renderVerlRewardFile({ url: 'http://x"; import os', tokenEnv: "T" }), /not an http\(s\) URL/);
  assert.throws(() => renderVerlRewardFile({ url: "ftp://x", tokenEnv: "T" }), /not an http\(s\) URL/);
  assert.throws(() => renderVerlRewardFile({ url: "http://x", tokenEnv: "A-B" }), /not an environment variable name/);
});

test("reward check: one output, with the reason", async () => {
  const printed = await run(["reward", "check", "--label", "B", "--judge-output", "x</think>[[A]] [[B]]"]);
  const result = JSON.parse(printed.join("\n"));
  assert.equal(result.status, "malformed");
  assert.equal(result.problem, "several-verdicts");
  const lenient = JSON.parse((await run(["reward", "check", "--label", "B", "--after-verdict", "text", "--judge-output", "x</think>[[B]] since B is right"])).join("\n"));
  assert.equal(lenient.reward, 1);
});

test("reward flags: bad values name the flag", async () => {
  await assert.rejects(run(["reward", "check", "--label", "A", "--malformed", "minus one", "--judge-output", "x"]), /--malformed/);
  await assert.rejects(run(["reward", "check", "--label", "A", "--opening-tag", "sometimes", "--judge-output", "x"]), /--opening-tag/);
  await assert.rejects(run(["reward", "check", "--label", "A", "--scale", "10-1", "--judge-output", "x"]), /--scale/);
  await assert.rejects(run(["reward", "serve", "--port", "70000"]), /--port/);
});

test("sizes: units and refusals", () => {
  assert.equal(parseSize("10mb", "--max-body"), 10 * 1024 * 1024);
  assert.equal(parseSize("512kb", "--max-body"), 512 * 1024);
  assert.equal(parseSize("1048576", "--max-body"), 1048576);
  assert.equal(parseSize("1.5 MB", "--max-body"), 1.5 * 1024 * 1024);
  assert.throws(() => parseSize("ten", "--max-body"), /--max-body/);
  assert.throws(() => parseSize("0", "--max-body"), /at least 1 byte/);
});
