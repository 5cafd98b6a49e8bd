/**
 * `j1 data sft` end to end through the CLI on the real engine (tiny model): files written and read back,
 * the label rule, a run killed with SIGKILL and resumed giving the same files, a benchmark-loader source,
 * and bad input named by file, line and field before any model loads.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-data-sft-cli-"));
const env = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), J1_STORE: path.join(work, "default-store.sqlite"), NO_COLOR: "1" };
const bin = path.join(root, "bin/j1");

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: work, env, encoding: "utf8", timeout: 180_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writePairs(name: string, count: number): string {
  const file = path.join(work, name);
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({ id: `q${index}`, question: `Question number ${index}?`, a: `answer ${index}`, b: `other ${index}`, label: index % 2 === 0 ? "A" : "B" }),
  );
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, any>);

function folderContents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(path.join(dir, name), "utf8")]));
}

describe("j1 data sft (CLI, real engine, tiny model)", () => {
  it("writes OpenRLHF, sharegpt and TRL files that read back, and the stats, following the label rule", () => {
    const input = writePairs("pairs.jsonl", 4);
    const out = path.join(work, "out");
    const run = j1("data", "sft", "--input", input, "--model", "tiny", "--output-dir", out, "--store", path.join(work, "e2e.sqlite"), "--samples", "2", "--temperature", "0", "--no-balance", "--progress", "quiet");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /verdicts mean nothing/);
    assert.match(run.stderr, /acceptance \(verdict = label\) 50\.0%: 8 matched, 8 mismatched/);
    assert.match(run.stderr, /after dedup\s+4/);
    assert.match(run.stderr, /completion length \(tokens\)/);
    assert.deepEqual(run.stdout.trim().split("\n").map((file) => path.basename(file)), ["sft-openrlhf.jsonl", "sft-sharegpt.jsonl", "sft-trl.jsonl", "dataset_info.json", "sft-stats.json"]);

    const openrlhf = readJsonl(path.join(out, "sft-openrlhf.jsonl"));
    // Label A pairs are accepted in the AB order, label B pairs in BA; greedy samples dedup to one each.
    assert.deepEqual(openrlhf.map((row) => row.id), ["q0:AB:0", "q1:BA:0", "q2:AB:0", "q3:BA:0"]);
    for (const row of openrlhf) {
      assert.equal(row.output, "<think>\nLet me compare both.Wait, check again.</think>[[A]]", "--waits defaults to 1 here");
      assert.ok((row.input as string).startsWith("<|im_start|>system\n"));
    }
    for (const row of readJsonl(path.join(out, "sft-sharegpt.jsonl"))) assert.deepEqual(row.conversations.map((turn: { from: string }) => turn.from), ["system", "human", "gpt"]);
    for (const row of readJsonl(path.join(out, "sft-trl.jsonl"))) assert.deepEqual(row.messages.map((message: { role: string }) => message.role), ["system", "user", "assistant"]);
    assert.equal(JSON.parse(readFileSync(path.join(out, "dataset_info.json"), "utf8")).j1_sft.file_name, "sft-sharegpt.jsonl");

    const stats = JSON.parse(readFileSync(path.join(out, "sft-stats.json"), "utf8"));
    assert.equal(stats.pairs, 4);
    assert.equal(stats.candidates, 16);
    assert.equal(stats.acceptanceRate, 0.5);
    assert.equal(stats.reflectionRate, 1);
    assert.equal(stats.examples, 4);
    assert.deepEqual(stats.balance.after, { A: 4, B: 0 });
    assert.equal(stats.completionLength.histogram.reduce((sum: number, bin: { count: number }) => sum + bin.count, 0), 4);

    // Writing again refuses to clobber; --force overwrites.
    const again = j1("data", "sft", "--input", input, "--model", "tiny", "--output-dir", out, "--store", path.join(work, "e2e.sqlite"), "--progress", "quiet");
    assert.equal(again.code, 2);
    assert.match(again.stderr, /sft-openrlhf\.jsonl: exists already \(use --force to overwrite\)/);
  });

  it("a run killed with SIGKILL resumes with --resume and writes the same files as an uninterrupted run", async () => {
    const input = writePairs("many.jsonl", 16);
    const common = ["--input", input, "--model", "tiny", "--samples", "2", "--parallel", "1", "--require-reflection", "--progress", "quiet"];
    const reference = j1("data", "sft", ...common, "--store", path.join(work, "reference.sqlite"), "--output-dir", path.join(work, "reference"));
    assert.equal(reference.code, 0, reference.stderr);

    const store = path.join(work, "killed.sqlite");
    const child = spawn(process.execPath, [bin, "data", "sft", ...common, "--store", store, "--output-dir", path.join(work, "killed")], { cwd: work, env, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let saved = 0;
    for (let attempt = 0; attempt < 3000 && saved === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (!existsSync(store)) continue;
      try {
        const db = new Database(store, { readonly: true, fileMustExist: true });
        try {
          saved = (db.prepare("SELECT COUNT(*) AS n FROM judgments").get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        // The schema may not exist yet.
      }
    }
    child.kill("SIGKILL");
    await exited;
    assert.ok(saved >= 1 && saved < 16, `killed after ${saved} of 16 judgments`);
    assert.equal(existsSync(path.join(work, "killed", "sft-openrlhf.jsonl")), false, "nothing written by the killed run");

    const db = new Database(store, { readonly: true });
    const runId = (db.prepare("SELECT id FROM runs").get() as { id: string }).id;
    const before = (db.prepare("SELECT COUNT(*) AS n FROM judgments").get() as { n: number }).n;
    db.close();
    const resumed = j1("data", "sft", "--resume", runId, "--store", store, "--output-dir", path.join(work, "resumed"), "--progress", "quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`16 pairs \\(${16 - before} judged now, 0 reused, ${before} done before\\)`));
    assert.deepEqual(folderContents(path.join(work, "resumed")), folderContents(path.join(work, "reference")));
  });

  it("reads pairs through a benchmark loader with a field map", () => {
    const csv = path.join(work, "prefs.csv");
    writeFileSync(csv, "prompt,first,second,winner\nWhat is 1+1?,2,3,A\nPick a color,blue,,B\nName a fruit,apple,chair,B\n");
    const out = path.join(work, "bench.jsonl");
    const run = j1("data", "sft", "--bench", "pairs", "--data", csv, "--map", "question=prompt,a=first,b=second,label=winner", "--model", "tiny", "--samples", "1", "--temperature", "0", "--no-balance", "--output", out, "--format", "trl", "--store", path.join(work, "bench.sqlite"), "--progress", "quiet");
    assert.equal(run.code, 0, run.stderr);
    const rows = readJsonl(out);
    assert.equal(rows.length, 3);
    assert.match(rows[1].messages[1].content, /\[Response A\]\n\n\[End of Response A\]/, "label B accepted in the BA order, the empty response shown first");
  });

  it("bad input names the file, line and field, and stops before a model loads or a run is recorded", () => {
    const bad = path.join(work, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify({ id: "ok", question: "q", a: "x", b: "y", label: "A" })}\n${JSON.stringify({ id: "broken", question: "q", a: "x", label: "A" })}\n`);
    const store = path.join(work, "bad.sqlite");
    const run = j1("data", "sft", "--input", bad, "--model", "tiny", "--output-dir", path.join(work, "bad-out"), "--store", store, "--progress", "quiet");
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: row 2 \\(id "broken"\\): field "b": missing`));
    assert.doesNotMatch(run.stderr, /verdicts mean nothing/, "no model was loaded");
    assert.equal(existsSync(path.join(work, "bad-out")), false);
    const db = new Database(store, { readonly: true });
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n, 0);
    db.close();

    writeFileSync(bad, `${JSON.stringify({ question: "q", a: "x", b: "y", label: "maybe" })}\n`);
    const label = j1("data", "sft", "--input", bad, "--model", "tiny", "--output", path.join(work, "x.jsonl"), "--store", store);
    assert.equal(label.code, 2);
    assert.match(label.stderr, /bad\.jsonl:1: row 1: field "label": label the string "maybe" is not understood/);

    mkdirSync(path.join(work, "flags"), { recursive: true });
    const both = j1("data", "sft", "--input", bad, "--output", path.join(work, "flags", "x.jsonl"), "--format", "all");
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--output writes one format/);
  });
});
