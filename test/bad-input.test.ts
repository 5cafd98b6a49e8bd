/**
 * Bad input through the real CLI (`bin/j1` in a child process): every malformed flag value, usage error,
 * store path, run id, field map or input file exits 2 with a message that names the flag, file or field,
 * and what was there before (an earlier export, an earlier output file) is still there. A few valid edge
 * cases (the largest accepted values, a UTF-8 BOM, spaces around a number) are still accepted, so the
 * checks are not too eager. Cheap commands only: parse-time refusals, `--dry-run`, the tiny model once.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-bad-input-"));
const env: NodeJS.ProcessEnv = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), NO_COLOR: "1" };
delete env.J1_STORE;
delete env.J1_REWARD_TOKEN;

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking: the refusal tables run two at a time (a spawn is mostly Node starting up). */
function j1Async(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const file = (name: string) => path.join(work, name);
const PAIR = ["-q", "x", "-a", "y", "-b", "z"];
const JUDGE = ["judge", "--model", "tiny", ...PAIR];
const pairLine = (id: string, label = "A") => JSON.stringify({ id, question: `q ${id}`, a: "x", b: "y", label });

before(() => {
  writeFileSync(file("pairs.jsonl"), `${pairLine("p1")}\n${pairLine("p2", "B")}\n`);
  writeFileSync(file("bom.jsonl"), `\uFEFF${pairLine("p1")}\n${pairLine("p2", "B")}\n`);
  writeFileSync(file("bom.csv"), "\uFEFFquestion,a,b,label\nq1,x,y,A\nq2,x,y,B\n");
  writeFileSync(file("bom.json"), `\uFEFF[${pairLine("p1")}]\n`);
  writeFileSync(file("garbage.sqlite"), "this is not a SQLite database, only some text\n");
  writeFileSync(file("plain-file"), "a file, not a folder\n");
  mkdirSync(file("folder"));
});

after(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  args: string[];
  /** What stderr must say: the flag, file or field named, and the problem. */
  says: RegExp;
}

function refuses(cases: Case[]): void {
  for (const { args, says } of cases) {
    it(`${args.join(" ")} -> exit 2, ${says.source}`, async () => {
      const run = await j1Async(...args);
      assert.equal(run.code, 2, `exit code (stderr: ${run.stderr})`);
      assert.match(run.stderr, says);
      assert.doesNotMatch(run.stderr, /\n\s+at .*\.js:\d+/, "a message, not a stack trace");
    });
  }
}

describe("usage errors exit 2; --help and --version exit 0", { concurrency: 2 }, () => {
  refuses([
    { args: ["judge", "--bogus"], says: /unknown option '--bogus'/ },
    { args: ["eval", "--engine", "foo"], says: /'--engine <name>' argument 'foo' is invalid/ },
    { args: ["judge", "--waits"], says: /option '--waits <n>' argument missing/ },
    { args: ["runs", "show"], says: /missing required argument 'run'/ },
    { args: ["runs", "show", "a", "b"], says: /too many arguments for 'show'/ },
    { args: ["reward", "verl"], says: /required option '-o, --output <file>' not specified/ },
    { args: ["nosuch"], says: /unknown command 'nosuch'/ },
    { args: ["data", "sft", "--format", "yaml"], says: /'--format <name>' argument 'yaml' is invalid/ },
    { args: [], says: /Usage: j1/ },
  ]);

  it("--help, a command's --help and --version exit 0 on stdout; the help states numeric ranges", () => {
    const help = j1("--help");
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: j1/);
    const judgeHelp = j1("judge", "--help");
    assert.equal(judgeHelp.code, 0, judgeHelp.stderr);
    assert.match(judgeHelp.stdout, /--samples <n>\s+K samples per order, majority vote \(1\.\.1024\)/);
    assert.match(judgeHelp.stdout, /--waits <n>[\s\S]*?\(0\.\.1000\)/);
    const version = j1("--version");
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});

describe("numeric flags: whole numbers as digits, safe, within each flag's range", { concurrency: 2 }, () => {
  refuses([
    { args: [...JUDGE, "--samples", "9007199254740993"], says: /--samples: "9007199254740993" is not a whole number >= 1 and <= 1024/ },
    { args: [...JUDGE, "--samples", "1025"], says: /--samples: "1025" is not a whole number/ },
    { args: [...JUDGE, "--samples", "0"], says: /--samples: "0" is not a whole number >= 1/ },
    { args: [...JUDGE, "--samples", "1e3"], says: /--samples: "1e3" is not a whole number/ },
    { args: [...JUDGE, "--samples", "1.5"], says: /--samples: "1.5" is not a whole number/ },
    { args: [...JUDGE, "--samples", "0x10"], says: /--samples: "0x10" is not a whole number/ },
    { args: [...JUDGE, "--samples", ""], says: /field "--samples": must not be empty/ },
    { args: [...JUDGE, "--waits", "1e3"], says: /--waits: "1e3" is not a whole number >= 0 and <= 1000/ },
    { args: [...JUDGE, "--waits", "1001"], says: /--waits: "1001"/ },
    { args: [...JUDGE, "--waits", "-1"], says: /--waits: "-1" is not a whole number >= 0/ },
    { args: [...JUDGE, "--min-thinking", "1048577"], says: /--min-thinking: "1048577"/ },
    { args: [...JUDGE, "--max-thinking", "0"], says: /--max-thinking: "0"/ },
    { args: [...JUDGE, "--answer-tokens", "4097"], says: /--answer-tokens: "4097"/ },
    { args: [...JUDGE, "--timeout", "99999999999"], says: /--timeout: "99999999999" is not a whole number >= 1 and <= 86400000/ },
    { args: [...JUDGE, "--retries", "101"], says: /--retries: "101"/ },
    { args: [...JUDGE, "--threads", "0"], says: /--threads: "0"/ },
    { args: [...JUDGE, "--parallel", "257"], says: /--parallel: "257"/ },
    { args: [...JUDGE, "--context-size", "2000000"], says: /--context-size: "2000000"/ },
    { args: [...JUDGE, "--seed", "4294967296"], says: /--seed: "4294967296" is not a whole number >= 0 and <= 4294967295/ },
    { args: [...JUDGE, "--top-k", "2.5"], says: /--top-k: "2.5" is not a whole number/ },
    { args: [...JUDGE, "--temperature", "1e400"], says: /--temperature: "1e400" is not a number >= 0 and <= 100/ },
    { args: [...JUDGE, "--temperature", "Infinity"], says: /--temperature: "Infinity"/ },
    { args: [...JUDGE, "--temperature", "NaN"], says: /--temperature: "NaN"/ },
    { args: [...JUDGE, "--temperature", "-0.5"], says: /--temperature: "-0.5"/ },
    { args: [...JUDGE, "--top-p", "1.5"], says: /--top-p: "1.5" is not a number from 0 to 1/ },
    { args: [...JUDGE, "--min-p", "-0.1"], says: /--min-p: "-0.1" is not a number from 0 to 1/ },
    // The same parsers in every command that shares the flags, and in each command's own numeric flags.
    { args: ["eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--dry-run", "--samples", "9007199254740993"], says: /--samples: "9007199254740993"/ },
    { args: ["data", "sft", "--input", file("pairs.jsonl"), "--model", "tiny", "--samples", "1e3"], says: /--samples: "1e3"/ },
    { args: ["data", "sft", "--input", file("pairs.jsonl"), "--model", "tiny", "--max-tokens", "0"], says: /--max-tokens: "0"/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--openrlhf", file("never.jsonl"), "--limit", "1e3"], says: /--limit: "1e3" is not a whole number >= 1/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--openrlhf", file("never.jsonl"), "--limit", "0"], says: /--limit: "0"/ },
    { args: ["model", "shaped", "--family", "qwen3", "--width", "99999"], says: /--width: "99999" is not a whole number >= 1 and <= 4096/ },
    { args: ["model", "shaped", "--family", "qwen3", "--layers", "0"], says: /--layers: "0"/ },
    { args: ["reward", "serve", "--port", "65536"], says: /--port: "65536" is not a whole number >= 0 and <= 65535/ },
    { args: ["reward", "serve", "--port", "1e3"], says: /--port: "1e3"/ },
    { args: ["reward", "serve", "--max-body", "2gb"], says: /field "--max-body": must be at most 1gb/ },
    { args: ["reward", "check", "--label", "A", "--output", "x", "--correct", "1e7"], says: /--correct: "1e7" is not a number >= -1000000 and <= 1000000/ },
    { args: ["reward", "check", "--label", "A", "--output", "x", "--tolerance", "-1"], says: /--tolerance: "-1" is not a number >= 0/ },
    { args: ["reward", "check", "--label", "A", "--output", "x", "--scale", "1-1e9"], says: /field "--scale"/ },
  ]);
});

describe("--progress, --map and empty values", { concurrency: 2 }, () => {
  const dry = ["eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--dry-run"];
  refuses([
    { args: [...JUDGE, "--progress", "foo"], says: /field "--progress": "foo" is not a progress mode; use one of auto, bar, lines, quiet, jsonl/ },
    { args: [...dry, "--progress", "verbose"], says: /field "--progress": "verbose" is not a progress mode/ },
    { args: ["data", "sft", "--input", file("pairs.jsonl"), "--model", "tiny", "--progress", "Bar"], says: /field "--progress": "Bar"/ },
    { args: [...dry, "--map", "question=q", "--map", "question=x"], says: /field "--map": "question" is mapped twice \(to "q" and to "x"\)/ },
    { args: [...dry, "--map", "question=q,a=a,question=x"], says: /field "--map": "question" is mapped twice/ },
    { args: [...dry, "--map", "a=b=c"], says: /field "--map": entry "a=b=c" has more than one "="/ },
    { args: [...dry, "--map", "=prompt"], says: /field "--map": entry "=prompt" has no name before "="/ },
    { args: [...dry, "--map", "question="], says: /field "--map": entry "question=" has no column after "="/ },
    { args: [...dry, "--map", "question"], says: /field "--map": entry "question" has no "="/ },
    { args: [...dry, "--map", "question=q,,a=x"], says: /field "--map": an empty entry/ },
    { args: [...dry, "--map", ""], says: /field "--map": must not be empty/ },
    { args: ["data", "rl", "--bench", "pairs", "--data", file("pairs.jsonl"), "--openrlhf", file("never.jsonl"), "--map", "a=x", "--map", "a=y"], says: /field "--map": "a" is mapped twice/ },
    { args: ["judge", "--model", "", ...PAIR], says: /field "--model": must not be empty/ },
    { args: ["judge", "--base-url", "", ...PAIR], says: /field "--base-url": must not be empty/ },
    { args: ["reward", "serve", "--token", "", "--port", "0"], says: /field "--token": must not be empty/ },
    { args: ["reward", "serve", "--host", "", "--port", "0"], says: /field "--host": must not be empty/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--verl", file("never.parquet"), "--ability", ""], says: /field "--ability": must not be empty/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--verl", file("never.parquet"), "--data-source", " "], says: /field "--data-source": must not be empty/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--openrlhf", file("never.jsonl"), "--map", "question=q"], says: /pairs\.jsonl:1: row 1 \(id "p1"\): field "q": missing/ },
    { args: ["data", "rl", "--input", file("pairs.jsonl"), "--openrlhf", file("never.jsonl"), "--data", file("pairs.jsonl")], says: /field "--data": goes with --bench/ },
    { args: ["data", "rl", "--bench", "rewardbench2", "--data", path.join(root, "test", "fixtures", "rewardbench2", "test.jsonl"), "--openrlhf", file("never.jsonl")], says: /field "--bench": training data is built from pairs; rewardbench2 gives choice items/ },
  ]);
});

describe("run store paths and run ids", () => {
  let runId = "";
  let exported = "";

  before(() => {
    // Two real runs on the tiny model, so a prefix of both is ambiguous.
    for (const label of ["first", "second"]) {
      const run = j1("eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--model", "tiny", "--store", file("runs.sqlite"), "--progress", "quiet", "--label", label, "--json");
      assert.equal(run.code, 0, run.stderr);
      runId = (JSON.parse(run.stdout) as { run: { runId: string } }).run.runId;
    }
    exported = file("export.jsonl");
    const first = j1("runs", "export", runId, "--store", file("runs.sqlite"), "-o", exported);
    assert.equal(first.code, 0, first.stderr);
  });

  it("an unknown or ambiguous run id exits 2 in every command that takes one, naming the id and the store", () => {
    const store = ["--store", file("runs.sqlite")];
    for (const args of [["runs", "show", "nope"], ["runs", "export", "nope"], ["report", "nope"], ["eval", "--resume", "nope"], ["data", "sft", "--resume", "nope", "--out", file("never.jsonl")]]) {
      const run = j1(...args, ...store);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /no run "nope" in .*runs\.sqlite/, args.join(" "));
    }
    const ambiguous = j1("runs", "show", runId.slice(0, 3), ...store);
    assert.equal(ambiguous.code, 2, ambiguous.stderr);
    assert.match(ambiguous.stderr, /is ambiguous/);
  });

  it("an export to an existing file is not truncated when the run id is unknown", () => {
    const before = readFileSync(exported, "utf8");
    assert.ok(before.trim().split("\n").length >= 2, "the first export holds the run's judgments");
    const run = j1("runs", "export", "nope", "--store", file("runs.sqlite"), "-o", exported);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(readFileSync(exported, "utf8"), before);
  });

  it("an export to a folder is refused naming --output", () => {
    const run = j1("runs", "export", runId, "--store", file("runs.sqlite"), "-o", file("folder"));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /folder: field "--output": cannot write the export/);
  });

  refuses([
    { args: ["runs", "list", "--store", file("folder")], says: /run store .*folder: is a directory, not a SQLite file; pass --store/ },
    { args: ["runs", "show", "x", "--store", file("garbage.sqlite")], says: /run store .*garbage\.sqlite: is not a SQLite database/ },
    { args: ["eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--model", "tiny", "--store", file("garbage.sqlite")], says: /garbage\.sqlite: is not a SQLite database/ },
    { args: ["eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--model", "tiny", "--store", path.join(file("plain-file"), "runs.sqlite")], says: /plain-file.runs\.sqlite: cannot be created: a part of its folder is a file/ },
    { args: ["report", "x", "--store", file("folder")], says: /folder: is a directory/ },
  ]);

  it("a store that does not exist is not created by commands that only read it", () => {
    const missing = file("typo.sqlite");
    const show = j1("runs", "show", "x", "--store", missing);
    assert.equal(show.code, 2, show.stderr);
    assert.match(show.stderr, /typo\.sqlite: field "--store": no run store here/);
    const list = j1("runs", "list", "--store", missing, "--json");
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    const report = j1("report", "x", "--store", missing);
    assert.equal(report.code, 2, report.stderr);
    assert.match(report.stderr, /typo\.sqlite: field "--store": no run store here/);
    assert.equal(existsSync(missing), false);
  });

  it("an unreadable store file exits 2 (when not running as root, who reads everything)", { skip: process.getuid?.() === 0 }, () => {
    const locked = file("locked.sqlite");
    writeFileSync(locked, "");
    spawnSync("chmod", ["000", locked]);
    const run = j1("runs", "list", "--store", locked);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /locked\.sqlite: cannot be opened/);
  });
});

describe("input and output files", { concurrency: 2 }, () => {
  refuses([
    { args: ["judge", "--model", "tiny", "-i", file("folder")], says: /folder: .*folder/ },
    { args: ["judge", "--model", "tiny", "-i", file("missing.jsonl")], says: /missing\.jsonl: field "--input": no such file/ },
    { args: ["data", "rl", "--input", file("folder"), "--openrlhf", file("never.jsonl")], says: /folder: field "--input": a folder, not a file of pairs/ },
    { args: ["model", "tiny", "--output", file("folder")], says: /folder: field "--output": is a folder/ },
  ]);

  it("a bad line in data rl's input leaves an existing output as it was, even with --force", () => {
    const output = file("kept-rl.jsonl");
    writeFileSync(output, "KEEP\n");
    writeFileSync(file("bad-rl.jsonl"), `${pairLine("p1")}\n${JSON.stringify({ question: "q", a: "x", b: "y", label: "maybe" })}\n`);
    const run = j1("data", "rl", "--input", file("bad-rl.jsonl"), "--openrlhf", output, "--force");
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /bad-rl\.jsonl:2: row 2: field "label": label the string "maybe" is not understood/);
    assert.equal(readFileSync(output, "utf8"), "KEEP\n");
  });

  it("a UTF-8 BOM is accepted by judge -i, data rl --input and the JSONL, CSV and JSON readers of eval", () => {
    const judged = j1("judge", "--model", "tiny", "-i", file("bom.jsonl"), "--progress", "quiet");
    assert.equal(judged.code, 0, judged.stderr);
    assert.deepEqual(judged.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { id: string }).id), ["p1", "p2"]);
    const rl = j1("data", "rl", "--input", file("bom.jsonl"), "--openrlhf", file("bom-rl.jsonl"));
    assert.equal(rl.code, 0, rl.stderr);
    assert.equal(readFileSync(file("bom-rl.jsonl"), "utf8").trim().split("\n").length, 4, "both orders of both pairs");
    for (const [name, items] of [["bom.jsonl", 2], ["bom.csv", 2], ["bom.json", 1]] as const) {
      const dry = j1("eval", "--bench", "pairs", "--data", file(name), "--dry-run", "--json");
      assert.equal(dry.code, 0, `${name}: ${dry.stderr}`);
      assert.equal((JSON.parse(dry.stdout) as { items: number }).items, items, name);
    }
  });
});

describe("valid edge cases are still accepted", () => {
  it("the largest value of every numeric flag, digits with spaces around or leading zeros, decimals without a leading zero", () => {
    const run = j1(
      "eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--dry-run", "--json",
      "--samples", "1024", "--waits", "1000", "--min-thinking", "0", "--max-thinking", "1048576", "--answer-tokens", "4096",
      "--seed", "4294967295", "--temperature", "100", "--top-p", "1", "--min-p", ".05", "--top-k", "1000000",
      "--threads", " 8 ", "--parallel", "0256", "--context-size", "1048576",
      "--progress", "jsonl", "--map", "question = question", "--map", "a=a,b=b",
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { items: number; judgments: number };
    assert.equal(summary.items, 2);
    assert.equal(summary.judgments, 2 * 1024, "1024 samples per item were read as 1024");
    // The request flags go with a server (a dry run makes no request, so none need answer).
    const served = j1("eval", "--bench", "pairs", "--data", file("pairs.jsonl"), "--dry-run", "--json", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "86400000", "--retries", "100");
    assert.equal(served.code, 0, served.stderr);
  });

  it("a judgment with the smallest values, and a data rl limit of 1", () => {
    const judged = j1(...JUDGE, "--samples", "1", "--waits", "0", "--seed", "0", "--temperature", "0", "--answer-tokens", "1", "--max-thinking", "1", "--json");
    assert.equal(judged.code, 0, judged.stderr);
    assert.equal((JSON.parse(judged.stdout) as { waitsUsed: number }).waitsUsed, 0);
    const rl = j1("data", "rl", "--input", file("pairs.jsonl"), "--openrlhf", file("one-rl.jsonl"), "--limit", "1");
    assert.equal(rl.code, 0, rl.stderr);
    assert.equal(readFileSync(file("one-rl.jsonl"), "utf8").trim().split("\n").length, 2, "one pair, both orders");
  });

  it("reward flags: negative rewards, a decimal tolerance and port 0 parse", () => {
    const run = j1("reward", "check", "--label", "A", "--output", "<think>ok</think>[[B]]", "--wrong", "-1", "--malformed", "-0.5", "--tolerance", "0.5");
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { reward: number }).reward, -1);
  });
});
