import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSweep } from "../src/eval/sweep.js";
import { parseData } from "../src/cli/commands/eval.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-eval-input-"));
const env = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), NO_COLOR: "1" };

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function pairsFile(name: string, labels: string[]): string {
  const file = path.join(work, name);
  writeFileSync(file, labels.map((label, index) => JSON.stringify({ id: `p${index + 1}`, question: `q${index}`, a: "x", b: "y", label })).join("\n") + (labels.length ? "\n" : ""));
  return file;
}

const model = ["--model", path.join(work, "no-such-model.gguf")];

test("bad eval input exits 2 with a message naming the flag, before any model is loaded", () => {
  const data = pairsFile("ok.jsonl", ["A", "B"]);
  const cases: Array<[string[], RegExp]> = [
    [["--retry-errors", "--bench", "pairs", "--data", data], /--retry-errors.*--resume/],
    [["--bench", "pairs", "--data", data, "--progress", "foo"], /field "--progress": "foo" is not a progress mode/],
    [["--bench", "pairs", "--data", data, "--sweep", ""], /field "--sweep"/],
    [["--bench", "pairs", "--data", data, "--sweep", "waits="], /field "--sweep": "waits=" has no values/],
    [["--bench", "pairs", "--data", data, "--sweep", "waits=1,,2"], /field "--sweep"/],
    [["--bench", "pairs", "--data", data, "--sweep", "waits=1000000"], /field "--sweep": waits value "1000000" is not a whole number from 0 to 1000/],
    [["--bench", "pairs", "--data", data, "--sweep", "max-thinking=0x10"], /field "--sweep"/],
    [["--bench", "pairs", "--data", data, "--order", "sideways"], /field "--order": "sideways" is not an order/],
    [["--bench", "harmless", "--order", "both"], /field "--order": --order applies to pairs/],
    [["--bench", "pairs", "--data", pairsFile("empty.jsonl", [])], /field "--data": no items to judge in pairs \(.*empty\.jsonl\): pass --allow-empty/],
  ];
  for (const [args, message] of cases) {
    const run = j1("eval", ...args, ...model, "--progress", args.includes("--progress") ? args[args.indexOf("--progress") + 1] : "quiet", "--store", path.join(work, "s.sqlite"));
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(" "));
  }
  // The same empty file with --allow-empty passes the check (the dry run prints 0 items).
  const allowed = j1("eval", "--bench", "pairs", "--data", path.join(work, "empty.jsonl"), "--allow-empty", "--dry-run", "--json");
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((JSON.parse(allowed.stdout) as { items: number }).items, 0);
  const refused = j1("eval", "--bench", "pairs", "--data", path.join(work, "empty.jsonl"), "--dry-run");
  assert.equal(refused.code, 2);
});

test("--help documents exit code 3 and --allow-errors", () => {
  const help = j1("eval", "--help");
  assert.match(help.stdout, /--allow-errors/);
  assert.match(help.stdout, /3 the run finished but\s+some judgments failed/);
});

test("parseSweep: plain digits in range, at most 64 points; parseData: a repeated --data adds files", () => {
  assert.deepEqual(parseSweep("waits=2,0,1,2"), { setting: "waits", values: [0, 1, 2] });
  assert.deepEqual(parseSweep(" max-thinking = 256, 512 "), { setting: "max-thinking", values: [256, 512] });
  for (const bad of ["waits=1e3", "waits=-1", "waits=1.0", "max-thinking=0", "max-thinking=2000000", "waits", "tokens=1"]) {
    assert.throws(() => parseSweep(bad), /--sweep/, bad);
  }
  assert.throws(() => parseSweep(`waits=${Array.from({ length: 65 }, (_, index) => index).join(",")}`), /more than a sweep may have \(64\)/);
  assert.equal(parseSweep(`waits=${Array.from({ length: 64 }, (_, index) => index).join(",")}`).values.length, 64);
  assert.deepEqual(parseData(["a.jsonl", "b.jsonl"], ["pairs"]), { pairs: ["a.jsonl", "b.jsonl"] });
  assert.deepEqual(parseData(["pairs=a.jsonl", "harmless=h.jsonl", "pairs=b.jsonl"], ["pairs", "harmless"]), { pairs: ["a.jsonl", "b.jsonl"], harmless: ["h.jsonl"] });
  assert.throws(() => parseData(["a.jsonl"], ["pairs", "harmless"]), /NAME=FILE/);
});

test("pairs: --order decides the protocol (default shuffle); as-given with 90% one label warns", () => {
  const skewed = pairsFile("skewed.jsonl", ["A", "A", "A", "A", "A", "A", "A", "A", "A", "B"]);
  const dry = (...extra: string[]) => {
    const run = j1("eval", "--bench", "pairs", "--data", skewed, "--dry-run", "--json", ...extra);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as { judgments: number; benchmarks: Array<{ protocol: string; warning?: string }> };
  };
  assert.equal(dry().benchmarks[0].protocol, "shuffle");
  assert.equal(dry().benchmarks[0].warning, undefined);
  const asGiven = dry("--order", "as-given").benchmarks[0];
  assert.equal(asGiven.protocol, "as-is");
  assert.match(asGiven.warning ?? "", /pairs: 90\.0% of the 10 labels are A .*always answers A scores 90\.0/);
  const both = dry("--order", "both");
  assert.equal(both.benchmarks[0].protocol, "both");
  assert.equal(both.judgments, 20);
  // Balanced labels as given: no warning.
  const balanced = j1("eval", "--bench", "pairs", "--data", pairsFile("balanced.jsonl", ["A", "B", "A", "B"]), "--order", "as-given", "--dry-run", "--json");
  assert.equal((JSON.parse(balanced.stdout) as { benchmarks: Array<{ warning?: string }> }).benchmarks[0].warning, undefined);
});
