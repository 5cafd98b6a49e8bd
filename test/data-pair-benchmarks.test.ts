/**
 * The benchmarks the data commands' help names as pair sources (PAIR_BENCHMARK_NAMES) each give pairs from
 * their loader on the project's fixtures, a benchmark of choices is refused by name, and both commands'
 * --help list the names.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PAIR_BENCHMARK_NAMES, preferencePairs } from "../src/data/pair-source.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = (...parts: string[]) => path.join(root, "test/fixtures/benchmarks", ...parts);

async function pairsOf(bench: string, data: string): Promise<number> {
  let count = 0;
  for await (const pair of preferencePairs({ bench, data }).read()) {
    assert.ok(pair.label === "A" || pair.label === "B", `${bench}: ${pair.id}`);
    count++;
  }
  return count;
}

test("every benchmark named as a pair source gives pairs from its loader; a benchmark of choices is refused", async () => {
  const pairsFile = path.join(mkdtempSync(path.join(os.tmpdir(), "j1-pair-benchmarks-")), "pairs.jsonl");
  writeFileSync(pairsFile, `${JSON.stringify({ question: "q", a: "x", b: "y", label: "B" })}\n`);
  const data: Record<(typeof PAIR_BENCHMARK_NAMES)[number], string> = {
    rewardbench: fixture("rewardbench", "filtered.jsonl"),
    harmless: fixture("harmless", "test.jsonl"),
    codepref: fixture("codepref"),
    rmbench: fixture("rm-bench", "chat_filtered.json"),
    judgebench: fixture("judgebench", "judgebench.jsonl"),
    llmbar: fixture("llmbar"),
    "rewardmath-pairwise": fixture("rewardmath", "pairwise.json"),
    pairs: pairsFile,
  };
  for (const name of PAIR_BENCHMARK_NAMES) assert.ok((await pairsOf(name, data[name])) > 0, name);
  await assert.rejects(pairsOf("rewardbench2", path.join(root, "test/fixtures/rewardbench2/test.jsonl")), /training data is built from pairs; rewardbench2 gives choice items/);
});

test("j1 data sft --help and j1 data rl --help name the pair benchmarks", () => {
  for (const command of ["sft", "rl"]) {
    const run = spawnSync(process.execPath, [path.join(root, "bin/j1"), "data", command, "--help"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const help = run.stdout.replace(/\s+/g, " ");
    assert.ok(help.includes(`(ties are skipped): ${PAIR_BENCHMARK_NAMES.join(", ")} (pairs: with --data and --map)`), `${command}: ${help}`);
  }
});
