/**
 * Output flags read one way in every command (src/cli/output-flags.ts): `-o, --output <file>` for the one
 * output file, `--output-dir <dir>` for a folder, a flag per format where a command writes several at
 * once. The spellings j1 had before (`--out`, `--out-dir`, `reward check --output`) still work, hidden from
 * --help, and a spelling given together with its alias exits 2 naming both. Run through bin/j1 as a user
 * would, with the tiny model where a command judges.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { registerCommands } from "../src/cli/commands/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-output-flags-"));
const env = { ...process.env, J1_CACHE_DIR: path.join(work, "cache"), J1_STORE: path.join(work, "default.sqlite"), NO_COLOR: "1" };
const file = (name: string) => path.join(work, name);

function j1(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 180_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every command's path ("model tiny") with the long flags its --help shows and the ones it hides. */
function commandFlags(): Map<string, { visible: string[]; hidden: string[] }> {
  const program = new Command("j1");
  registerCommands(program);
  const found = new Map<string, { visible: string[]; hidden: string[] }>();
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = `${prefix}${sub.name()}`;
      const visible = new Set(sub.createHelp().visibleOptions(sub).map((option) => option.flags));
      found.set(name, {
        visible: [...visible],
        hidden: sub.options.filter((option) => !visible.has(option.flags)).map((option) => option.flags),
      });
      walk(sub, `${name} `);
    }
  };
  walk(program, "");
  return found;
}

describe("output flags: one scheme in every command", () => {
  it("the one output file is -o, --output <file> wherever a command has one; a folder is --output-dir; --out and --out-dir show nowhere", () => {
    const flags = commandFlags();
    const withOutputFile = [...flags].filter(([, { visible }]) => visible.includes("-o, --output <file>")).map(([name]) => name);
    assert.deepEqual(withOutputFile.sort(), ["data sft", "judge", "model shaped", "model tiny", "reward verl", "runs export"]);
    const withOutputDir = [...flags].filter(([, { visible }]) => visible.includes("--output-dir <dir>")).map(([name]) => name);
    assert.deepEqual(withOutputDir, ["data sft"]);
    for (const [name, { visible, hidden }] of flags) {
      for (const shown of visible) {
        assert.doesNotMatch(shown, /--out(-dir)?\b/, `${name} shows ${shown}`);
        // `--output` is an output file or nothing: never a text the command reads.
        if (/--output( |$)/.test(shown)) assert.match(shown, /^-o, --output <file>$/, `${name}: ${shown}`);
      }
      for (const alias of hidden) assert.match(alias, /^--(out|out-dir|output) /, `${name} hides ${alias}: only the old output spellings are hidden`);
    }
    // The old spellings are still there, hidden, where they were.
    assert.deepEqual(flags.get("model tiny")?.hidden, ["--out <file>"]);
    assert.deepEqual(flags.get("reward verl")?.hidden, ["--out <file>"]);
    assert.deepEqual(flags.get("data sft")?.hidden.sort(), ["--out <file>", "--out-dir <dir>"]);
    assert.deepEqual(flags.get("reward check")?.hidden, ["--output <text>"]);
    assert.ok(flags.get("reward check")?.visible.includes("--judge-output <text>"));
  });

  it("--help of each command shows the new spelling, not the old", () => {
    for (const [args, shows] of [
      [["model", "tiny", "--help"], "-o, --output <file>"],
      [["model", "shaped", "--help"], "-o, --output <file>"],
      [["reward", "verl", "--help"], "-o, --output <file>"],
      [["data", "sft", "--help"], "--output-dir <dir>"],
      [["reward", "check", "--help"], "--judge-output <text>"],
    ] as const) {
      const help = j1(...args);
      assert.equal(help.code, 0, help.stderr);
      assert.ok(help.stdout.includes(shows), `${args.join(" ")}: ${help.stdout}`);
      assert.doesNotMatch(help.stdout, /--out(-dir)? </, args.join(" "));
      assert.doesNotMatch(help.stdout, /--out(-dir)? \S/, `${args.join(" ")}: its examples use the new spelling`);
    }
  });
});

describe("model tiny, model shaped, reward verl: -o/--output, and --out as before", { concurrency: 2 }, () => {
  for (const [name, args, check] of [
    ["model tiny", ["model", "tiny"], (written: string) => assert.equal(readFileSync(written).subarray(0, 4).toString(), "GGUF")],
    ["model shaped", ["model", "shaped", "--family", "qwen3"], (written: string) => assert.equal(readFileSync(written).subarray(0, 4).toString(), "GGUF")],
    ["reward verl", ["reward", "verl"], (written: string) => assert.match(readFileSync(written, "utf8"), /^def compute_score\(/m)],
  ] as const) {
    it(`${name}: -o, --output and the hidden --out each write the file; --out with --output exits 2 naming both`, () => {
      const slug = name.replace(" ", "-");
      for (const flag of ["-o", "--output", "--out"]) {
        const target = file(`${slug}${flag}.out`);
        const run = j1(...args, flag, target);
        assert.equal(run.code, 0, `${name} ${flag}: ${run.stderr}`);
        assert.equal(run.stdout.trim(), target, `${name} ${flag} prints the file it wrote`);
        check(target);
      }
      const both = j1(...args, "--out", file(`${slug}-a`), "--output", file(`${slug}-b`));
      assert.equal(both.code, 2, both.stderr);
      assert.match(both.stderr, /option '--out <file>' cannot be used with option '-o, --output <file>'/);
      assert.ok(!existsSync(file(`${slug}-a`)) && !existsSync(file(`${slug}-b`)), "nothing written");
    });
  }

  it("reward verl without an output names the new flag (exit 2)", () => {
    const run = j1("reward", "verl");
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /required option '-o, --output <file>' not specified/);
  });
});

describe("reward check: --judge-output is the text to score; --output still reads it", () => {
  it("scores the text given either way, and refuses both at once", () => {
    for (const flag of ["--judge-output", "--output"]) {
      const run = j1("reward", "check", "--label", "B", flag, "<think>\nfine\n</think>[[B]]");
      assert.equal(run.code, 0, `${flag}: ${run.stderr}`);
      assert.equal((JSON.parse(run.stdout) as { reward: number }).reward, 1, flag);
    }
    writeFileSync(file("judge-output.txt"), "<think>\nfine\n</think>[[A]]");
    const fromFile = j1("reward", "check", "--label", "B", "--judge-output", `@${file("judge-output.txt")}`);
    assert.equal((JSON.parse(fromFile.stdout) as { reward: number }).reward, 0, "@file is read: a wrong verdict scores 0");
    const both = j1("reward", "check", "--label", "B", "--output", "x", "--judge-output", "y");
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /option '--output <text>' cannot be used with option '--judge-output <text>'/);
  });
});

describe("data sft: -o/--output and --output-dir, with --out and --out-dir as before (tiny model)", () => {
  const pairs = file("pairs.jsonl");
  writeFileSync(pairs, `${[{ id: "q0", question: "Q0?", a: "x", b: "y", label: "A" }, { id: "q1", question: "Q1?", a: "x", b: "y", label: "B" }].map((pair) => JSON.stringify(pair)).join("\n")}\n`);
  const common = ["--input", pairs, "--model", "tiny", "--samples", "1", "--temperature", "0", "--no-balance", "--progress", "quiet"];
  const formats = ["dataset_info.json", "sft-openrlhf.jsonl", "sft-sharegpt.jsonl", "sft-stats.json", "sft-trl.jsonl"];

  it("--output-dir and --out-dir fill a folder; -o, --output and --out write one format; a resumed run takes the old spelling too", () => {
    const store = file("sft.sqlite");
    const first = j1("data", "sft", ...common, "--store", store, "--output-dir", file("sft-new"));
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(readdirSync(file("sft-new")).sort(), formats);
    const runId = /run (r\S+) done/.exec(first.stderr)?.[1];
    assert.ok(runId, first.stderr);

    const old = j1("data", "sft", ...common, "--store", store, "--out-dir", file("sft-old"));
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(readdirSync(file("sft-old")).sort(), formats);
    assert.equal(readFileSync(file("sft-old/sft-trl.jsonl"), "utf8"), readFileSync(file("sft-new/sft-trl.jsonl"), "utf8"));

    for (const flag of ["-o", "--output", "--out"]) {
      const target = file(`one${flag}.jsonl`);
      const run = j1("data", "sft", ...common, "--store", store, flag, target, "--format", "trl");
      assert.equal(run.code, 0, `${flag}: ${run.stderr}`);
      assert.equal(readFileSync(target, "utf8"), readFileSync(file("sft-new/sft-trl.jsonl"), "utf8"), flag);
    }

    // On --resume an output flag given again replaces the saved one: the hidden spelling counts as given.
    const resumed = j1("data", "sft", "--resume", runId, "--store", store, "--out-dir", file("sft-resumed"), "--progress", "quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readdirSync(file("sft-resumed")).sort(), formats);
  });

  it("a spelling with its alias exits 2 naming both, before any model loads; messages name the new flags", () => {
    for (const [args, says] of [
      [["--out-dir", file("x"), "--output-dir", file("y")], /option '--out-dir <dir>' cannot be used with option '--output-dir <dir>'/],
      [["--out", file("x.jsonl"), "-o", file("y.jsonl")], /option '--out <file>' cannot be used with option '-o, --output <file>'/],
    ] as const) {
      const run = j1("data", "sft", ...common, "--store", file("never.sqlite"), ...args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, says);
      assert.doesNotMatch(run.stderr, /verdicts mean nothing/, "refused before the model loads");
    }
    const neither = j1("data", "sft", ...common, "--store", file("never.sqlite"));
    assert.equal(neither.code, 2, neither.stderr);
    assert.match(neither.stderr, /give exactly one of --output FILE \(one format\) or --output-dir DIR/);
    const all = j1("data", "sft", ...common, "--store", file("never.sqlite"), "--out", file("all.jsonl"), "--format", "all");
    assert.equal(all.code, 2, all.stderr);
    assert.match(all.stderr, /--output writes one format: .* or use --output-dir for all/);
  });
});

describe("report: --json is a switch wherever it stands; a file name after it still writes there", () => {
  it("--json RUN and --json RUN_A RUN_B print the JSON of those runs; RUN --json FILE and --json FILE RUN write FILE", () => {
    const store = file("report.sqlite");
    writeFileSync(file("eval-pairs.jsonl"), `${JSON.stringify({ id: "p1", question: "Q?", a: "x", b: "y", label: "A" })}\n`);
    const runs: string[] = [];
    for (const label of ["first", "second"]) {
      const made = j1("eval", "--bench", "pairs", "--data", file("eval-pairs.jsonl"), "--model", "tiny", "--label", label, "--store", store, "--progress", "quiet");
      assert.equal(made.code, 0, made.stderr);
      runs.push(/j1: run (r\S+) done/.exec(made.stderr)?.[1] as string);
    }
    const labels = (stdout: string) => (JSON.parse(stdout) as Array<{ label: string }>).map((report) => report.label);
    const one = j1("report", "--json", runs[0], "--store", store);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(labels(one.stdout), ["first"]);
    const both = j1("report", "--json", runs[0], runs[1], "--store", store);
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(labels(both.stdout), ["first", "second"]);
    assert.ok(!existsSync(file(runs[0])), "no file named after the run");

    for (const [args, target] of [
      [[runs[1], "--json", file("after.json")], file("after.json")],
      [["--json", file("before.json"), runs[1]], file("before.json")],
    ] as const) {
      const run = j1("report", ...args, "--store", store);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Run\b/, "the table on stdout");
      assert.deepEqual(labels(readFileSync(target, "utf8")), ["second"]);
    }
    const none = j1("report", "--store", store);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /missing required argument 'runs'/);
  });
});
