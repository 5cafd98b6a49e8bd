/**
 * A generated matrix of bad invocations of every j1 command, run through the CLI's own entry (`main`) in
 * this process, so several hundred take seconds, not minutes. The rule for each: exit code 2, a message that
 * names the flag, file, row or field, never a stack trace; never exit 0 (a bad flag silently taken) or 1.
 *
 * Generated from the commands' own flag definitions (commander), for every flag of every command: its value
 * missing, a number that is not one or out of its range, a value outside its choices, a value given to a
 * switch, and, by what the flag names, a file or folder that is missing, a folder where a file belongs, or a
 * place that cannot be written. Written out by hand: malformed data files (bad JSON, a bad JSONL row, bad
 * CSV, wrong types, empty data) for every command that reads pairs, bad stores, bad templates, and flags that
 * conflict or would do nothing in that combination.
 *
 * The tally (tried, wrong exit codes, stack traces) is printed as a diagnostic; set J1_MATRIX_VERBOSE=FILE to
 * append every invocation that does not keep the rule to FILE (J1_MATRIX_DUMP=FILE: every invocation and its
 * message, to review them; J1_MATRIX_TRACE=1: each invocation on stderr before it runs).
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { Command, type Option } from "commander";
import { registerCommands } from "../src/cli/commands/index.js";
import { SCHEMA_VERSION } from "../src/store/schema.js";
import { openRunStore } from "../src/store/run-store.js";
import { runCli, stopCli, STACK_FRAME, type CliRun } from "./helpers/cli-in-process.js";

const work = mkdtempSync(path.join(os.tmpdir(), "j1-bad-invocations-"));
const file = (name: string) => path.join(work, name);
let fresh = 0;
/** A path that does not exist yet, in a folder that does (an output that may be written). */
const out = (extension = ".jsonl") => path.join(work, "out", `o${++fresh}${extension}`);

const pairLine = (id: string, label = "A") => JSON.stringify({ id, question: `q ${id}`, a: "x", b: "y", label });
const PAIRS = file("pairs.jsonl");
const STORE = file("runs.sqlite");
let RUN = "";
let JUDGE_RUN = "";

/** Data files that no command reading pairs may accept, and what the message must name. */
const BAD_DATA: Array<{ name: string; text: string | Buffer; says: RegExp }> = [
  { name: "truncated.json", text: `[${pairLine("p1")}, {"question": "q", "a": `, says: /truncated\.json/ },
  { name: "bad-row.jsonl", text: `${pairLine("p1")}\n{"question": "q", "a": \n`, says: /bad-row\.jsonl:2/ },
  { name: "bad-label.jsonl", text: `${pairLine("p1")}\n${JSON.stringify({ question: "q", a: "x", b: "y", label: "maybe" })}\n`, says: /bad-label\.jsonl:2.*label/ },
  { name: "missing-b.jsonl", text: `${pairLine("p1")}\n${JSON.stringify({ question: "q", a: "x", label: "A" })}\n`, says: /missing-b\.jsonl:2.*"b"/ },
  { name: "array-question.jsonl", text: `${pairLine("p1")}\n${JSON.stringify({ question: ["q"], a: "x", b: "y", label: "A" })}\n`, says: /array-question\.jsonl:2.*question/ },
  { name: "object-a.jsonl", text: `${JSON.stringify({ question: "q", a: { text: "x" }, b: "y", label: "B" })}\n`, says: /object-a\.jsonl:1.*"a"/ },
  { name: "scalar-row.jsonl", text: `${pairLine("p1")}\n42\n`, says: /scalar-row\.jsonl:2/ },
  { name: "unclosed.csv", text: `question,a,b,label\n"q1,x,y,A\nq2,x,y,B\n`, says: /unclosed\.csv/ },
  { name: "ragged.csv", text: "question,a,b,label\nq1,x,y,A\nq2,x\n", says: /ragged\.csv.*(row|line) 3|ragged\.csv:3/ },
  { name: "empty.jsonl", text: "", says: /empty\.jsonl/ },
  { name: "blank.jsonl", text: "\n  \n\n", says: /blank\.jsonl/ },
  { name: "header-only.csv", text: "question,a,b,label\n", says: /header-only\.csv/ },
  { name: "empty-array.json", text: "[]\n", says: /empty-array\.json/ },
  { name: "scalar.json", text: "42\n", says: /scalar\.json/ },
  { name: "not-parquet.parquet", text: "this is text, not Parquet\n", says: /not-parquet\.parquet/ },
  { name: "pairs.txt", text: `${pairLine("p1")}\n`, says: /pairs\.txt/ },
  { name: "binary.jsonl", text: Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x0a, 0x80, 0x81, 0x0a]), says: /binary\.jsonl:1/ },
  { name: "same-id.jsonl", text: `${pairLine("p1")}\n${pairLine("p1", "B")}\n`, says: /same-id\.jsonl:2.*p1/ },
];

before(async () => {
  process.chdir(work);
  process.env.J1_CACHE_DIR = file("cache");
  process.env.J1_STORE = file("default-store.sqlite");
  process.env.NO_COLOR = "1";
  delete process.env.J1_SERVE_TOKEN;
  delete process.env.J1_REWARD_TOKEN;
  delete process.env.J1_DEBUG;
  mkdirSync(file("out"));
  mkdirSync(file("folder"));
  mkdirSync(file("empty-folder"));
  writeFileSync(PAIRS, `${pairLine("p1")}\n${pairLine("p2", "B")}\n`);
  writeFileSync(file("existing.jsonl"), "KEEP\n");
  writeFileSync(file("plain-file"), "a file, not a folder\n");
  writeFileSync(file("garbage.sqlite"), "this is not a SQLite database, only some text\n");
  writeFileSync(file("garbage.gguf"), "GGUF? no: text\n");
  writeFileSync(file("bad-template.json"), '{"name": "x", "kind": ');
  writeFileSync(file("wrong-template.json"), JSON.stringify({ name: 7, kind: "pairwise" }));
  writeFileSync(file("kind-template.json"), JSON.stringify({ name: "x", kind: "ranking", system: "s", user: "{question}" }));
  writeFileSync(file("bad.jinja"), "{% if messages %}{{ messages[0].content ");
  writeFileSync(file("urls-bad.txt"), "http://127.0.0.1:1/v1\nftp://example.com/v1\n");
  writeFileSync(file("urls-empty.txt"), "# no servers\n\n");
  for (const { name, text } of BAD_DATA) writeFileSync(file(name), text);
  openRunStore(file("newer.sqlite")).close();
  const db = new Database(file("newer.sqlite"));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  // Real runs for the commands that read one: an eval run, a judge --input run, two shards of one eval.
  const evalRun = await runCli(["eval", "--bench", "pairs", "--data", PAIRS, "--model", "tiny", "--store", STORE, "--progress", "quiet", "--json"]);
  assert.equal(evalRun.code, 0, evalRun.stderr);
  RUN = (JSON.parse(evalRun.stdout) as { run: { runId: string } }).run.runId;
  const judged = await runCli(["judge", "--model", "tiny", "-i", PAIRS, "--store", STORE, "--progress", "quiet", "-o", file("judged.jsonl"), "--json"]);
  assert.equal(judged.code, 0, judged.stderr);
  JUDGE_RUN = (JSON.parse(judged.stdout) as { run: string }).run;
  for (const shard of ["1/2", "2/2"]) {
    const run = await runCli(["eval", "--bench", "pairs", "--data", PAIRS, "--model", "tiny", "--store", file(`shard${shard[0]}.sqlite`), "--progress", "quiet", "--shard", shard, "--json"]);
    assert.equal(run.code, 0, run.stderr);
  }
});

after(async () => {
  await stopCli();
  process.chdir(os.tmpdir());
  rmSync(work, { recursive: true, force: true });
});

interface Case {
  args: string[];
  /** What stderr must name: the flag, file, row or field. */
  says: RegExp;
  /** Why it is bad (for the listing). */
  what: string;
}

/** The command paths and, for each, an invocation that works: a bad flag added to it is the only problem. */
const BASES: Record<string, () => string[]> = {
  judge: () => ["judge", "--model", "tiny", "-q", "x", "-a", "y", "-b", "z"],
  eval: () => ["eval", "--bench", "pairs", "--data", PAIRS, "--model", "tiny", "--store", STORE, "--progress", "quiet"],
  report: () => ["report", RUN, "--store", STORE],
  "runs list": () => ["runs", "list", "--store", STORE],
  "runs show": () => ["runs", "show", RUN, "--store", STORE],
  "runs export": () => ["runs", "export", RUN, "--store", STORE, "-o", out()],
  "runs merge": () => ["runs", "merge", file("shard1.sqlite"), file("shard2.sqlite"), "--store", out(".sqlite")],
  "data rl": () => ["data", "rl", "--input", PAIRS, "--openrlhf", out()],
  "data sft": () => ["data", "sft", "--input", PAIRS, "--model", "tiny", "--output", out(), "--store", STORE, "--progress", "quiet", "--samples", "1"],
  "reward serve": () => ["reward", "serve", "--port", "0"],
  "reward verl": () => ["reward", "verl", "--output", out(".py")],
  "reward check": () => ["reward", "check", "--label", "A", "--output", "<think>x</think>[[A]]"],
  serve: () => ["serve", "--model", "tiny", "--port", "0", "--store", STORE],
  "model tiny": () => ["model", "tiny", "--output", out(".gguf")],
  "model shaped": () => ["model", "shaped", "--family", "qwen3", "--output", out(".gguf")],
};

/**
 * Flags whose command needs another base to get that far: judge's file flags go with --input (with a pair
 * on the command line they are refused for that reason alone, which the combinations below check).
 */
const FLAG_BASES: Record<string, Record<string, () => string[]>> = {
  judge: Object.fromEntries(["--input", "--output", "--map", "--resume", "--force", "--allow-empty", "--store", "--progress"].map((flag) => [flag, () => ["judge", "--model", "tiny", "-i", PAIRS, "--progress", "quiet", "-o", out()]])),
  "data rl": { "--data": () => ["data", "rl", "--bench", "pairs", "--openrlhf", out()] },
  "data sft": {
    "--data": () => ["data", "sft", "--bench", "pairs", "--model", "tiny", "--output", out(), "--store", STORE, "--progress", "quiet", "--samples", "1"],
    "--output-dir": () => ["data", "sft", "--input", PAIRS, "--model", "tiny", "--store", STORE, "--progress", "quiet", "--samples", "1"],
  },
};

/** Flags that take text, not a path, though their names say otherwise: `reward check --output` is the judge's output. */
const TEXT_FLAGS = new Set(["reward check --output"]);
/** Where an empty value means something (as src/cli/main.ts allows): an empty judge output, no reflection markers. */
const BLANK_ALLOWED = new Set(["reward check --output", "data sft --reflection-markers"]);

/** Services that would start (and wait for a signal) if a bad flag were taken: a short limit, then SIGTERM. */
const SERVICES = new Set(["reward serve", "serve"]);

/** Flags that name a file or folder the command reads. */
const READS = new Set(["--input", "--data", "--template", "--chat-template", "--base-url-file", "--tokenizer-dir", "--data-root"]);
/** Flags that name a file or folder the command writes. */
const WRITES = new Set(["--output", "--output-dir", "--out", "--out-dir", "--openrlhf", "--verl", "--stats", "--html", "--md", "--json"]);

function commandsOf(): Map<string, Command> {
  const program = new Command();
  registerCommands(program);
  const leaves = new Map<string, Command>();
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = `${prefix} ${sub.name()}`.trim();
      if (sub.commands.length > 0) walk(sub, name);
      else leaves.set(name, sub);
    }
  };
  walk(program, "");
  return leaves;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Values no numeric flag may take, from the range its parser enforces. */
function badNumbers(rule: { integer: boolean; min: number; max: number }): string[] {
  const values = ["abc", "", "NaN", "Infinity", "1e400", "0x10", "12abc"];
  if (rule.integer) values.push("1.5", "1e3", "-0", "+1");
  if (rule.min > -1e15) values.push(String(rule.min - 1));
  values.push(rule.max < 1e15 ? String(rule.max + 1) : "9007199254740993");
  return [...new Set(values)].filter((value) => !(value === "-0" && rule.min <= 0 && !rule.integer));
}

function generated(): Case[] {
  const cases: Case[] = [];
  for (const [name, command] of commandsOf()) {
    assert.ok(BASES[name], `a base invocation for "j1 ${name}" (add it to BASES)`);
    const service = SERVICES.has(name);
    cases.push({ args: [...BASES[name](), "--no-such-flag"], says: /--no-such-flag/, what: `${name}: unknown flag` });
    cases.push({ args: [...BASES[name](), "stray-argument"], says: /stray-argument|too many arguments/, what: `${name}: a stray argument` });
    for (const option of command.options as Option[]) {
      const flag = option.long;
      // Hidden aliases (--out for --output) are the same option under an old name: tested by the alias tests.
      if (flag === undefined || flag === "--help" || flag === "--version" || option.hidden) continue;
      const base = FLAG_BASES[name]?.[flag] ?? BASES[name];
      const says = new RegExp(escape(flag));
      if (option.required) cases.push({ args: [...base(), flag], says, what: `${name} ${flag}: value missing` });
      const rule = (option.parseArg as { rule?: { integer: boolean; min: number; max: number } } | undefined)?.rule;
      if (rule) for (const value of badNumbers(rule)) cases.push({ args: [...base(), flag, value], says, what: `${name} ${flag} ${JSON.stringify(value)}: not a number in range` });
      if (option.argChoices) cases.push({ args: [...base(), flag, "bogus"], says, what: `${name} ${flag} bogus: not a choice` });
      if (!option.required && !option.optional && !option.negate) cases.push({ args: [...base(), `${flag}=yes`], says, what: `${name} ${flag}=yes: a switch given a value` });
      const text = TEXT_FLAGS.has(`${name} ${flag}`);
      if (option.required && rule === undefined && option.argChoices === undefined && ((!READS.has(flag) && !WRITES.has(flag)) || text) && !BLANK_ALLOWED.has(`${name} ${flag}`)) {
        cases.push({ args: [...base(), flag, " "], says: new RegExp(`${escape(flag)}|" "`), what: `${name} ${flag} " ": a blank value` });
      }
      if (READS.has(flag)) {
        cases.push({ args: [...base(), flag, file("missing.json")], says: /missing\.json/, what: `${name} ${flag}: a missing file` });
        const folderWanted = flag === "--tokenizer-dir" || flag === "--data-root";
        if (folderWanted) cases.push({ args: [...base(), flag, file("plain-file")], says: /plain-file/, what: `${name} ${flag}: a file where a folder belongs` });
        else if (flag !== "--data") cases.push({ args: [...base(), flag, file("folder")], says: /folder/, what: `${name} ${flag}: a folder where a file belongs` });
      }
      if (WRITES.has(flag) && (option.required || option.optional) && !text) {
        const folderWanted = flag === "--output-dir" || flag === "--out-dir";
        if (!folderWanted) cases.push({ args: [...base(), flag, file("folder")], says: /folder/, what: `${name} ${flag}: a folder where a file is written` });
        cases.push({ args: [...base(), flag, path.join(work, "no", "such", "dir", folderWanted ? "d" : "x.out")], says: /no.such.dir/, what: `${name} ${flag}: into a missing folder` });
        cases.push({ args: [...base(), flag, path.join(file("plain-file"), folderWanted ? "d" : "x.out")], says: /plain-file/, what: `${name} ${flag}: under a file` });
      }
      if (flag === "--store") {
        cases.push({ args: [...base(), flag, file("garbage.sqlite")], says: /garbage\.sqlite/, what: `${name} --store: not SQLite` });
        cases.push({ args: [...base(), flag, file("folder")], says: /folder/, what: `${name} --store: a folder` });
        cases.push({ args: [...base(), flag, file("newer.sqlite")], says: /newer\.sqlite/, what: `${name} --store: from a newer j1` });
        // `runs list` of a store that is not there lists nothing (exit 0, by design: nothing is created).
        if (name !== "runs list") cases.push({ args: [...base(), flag, path.join(file("plain-file"), "runs.sqlite")], says: /plain-file/, what: `${name} --store: under a file` });
      }
      if (flag === "--model" && !service) {
        for (const [model, says] of [[file("missing.gguf"), /missing\.gguf/], [file("folder"), /folder/], [file("garbage.gguf"), /garbage\.gguf/]] as const) {
          cases.push({ args: [...base(), flag, model], says, what: `${name} --model ${path.basename(model)}` });
        }
      }
    }
  }
  return cases;
}

/** Files of pairs every reader must refuse, through every command that reads pairs. */
function badData(): Case[] {
  const cases: Case[] = [];
  for (const { name, says } of BAD_DATA) {
    const data = file(name);
    cases.push({ args: ["judge", "--model", "tiny", "-i", data, "--progress", "quiet", "-o", out()], says, what: `judge -i ${name}` });
    cases.push({ args: ["eval", "--bench", "pairs", "--data", data, "--dry-run"], says, what: `eval --dry-run --data ${name}` });
    cases.push({ args: ["eval", "--bench", "pairs", "--data", data, "--model", "tiny", "--store", out(".sqlite"), "--progress", "quiet"], says, what: `eval --data ${name}` });
    cases.push({ args: ["data", "rl", "--input", data, "--openrlhf", out()], says, what: `data rl --input ${name}` });
    cases.push({ args: ["data", "sft", "--input", data, "--model", "tiny", "--output", out(), "--store", out(".sqlite"), "--progress", "quiet", "--samples", "1"], says, what: `data sft --input ${name}` });
  }
  return cases;
}

/** Conflicting flags, flags that would do nothing in the combination, and bad values only a command can judge. */
function combinations(): Case[] {
  const judge = BASES.judge();
  const input = ["judge", "--model", "tiny", "-i", PAIRS, "--progress", "quiet"];
  const dry = ["eval", "--bench", "pairs", "--data", PAIRS, "--dry-run"];
  const evalBase = BASES.eval();
  const rl = BASES["data rl"];
  const sft = BASES["data sft"];
  const check = BASES["reward check"]();
  const c = (args: string[], says: RegExp, what: string): Case => ({ args, says, what });
  return [
    // judge
    c(["judge", "--model", "tiny"], /--question|--input/, "judge: nothing to judge"),
    c([...judge, "-i", PAIRS], /--input/, "judge: a pair and --input"),
    c(["judge", "--model", "tiny", "-q", "x", "-a", "y"], /--b/, "judge: --a without --b"),
    c(["judge", "--model", "tiny", "-a", "y", "-b", "z"], /--question/, "judge: no --question"),
    c([...judge, "--pointwise"], /--response|--pointwise/, "judge --pointwise without --response"),
    c(["judge", "--model", "tiny", "-q", "x", "--response", "r"], /--response|--pointwise/, "judge --response without --pointwise"),
    c(["judge", "--model", "tiny", "-q", "x", "--response", "r", "--pointwise", "-a", "y", "-b", "z"], /--a|--b|--pointwise/, "judge --pointwise with a pair"),
    c(["judge", "--model", "tiny", "-q", "x", "--response", "r", "--pointwise", "--swap"], /--swap/, "judge --pointwise --swap"),
    c(["judge", "--model", "tiny", "-q", "x", "--response", "r", "--pointwise", "--tie"], /--tie/, "judge --pointwise --tie"),
    c([...judge, "--output", out()], /--output/, "judge --output without --input"),
    c([...judge, "--resume"], /--resume/, "judge --resume without --input"),
    c([...judge, "--force"], /--force/, "judge --force without --input"),
    c([...judge, "--map", "question=q"], /--map/, "judge --map without --input"),
    c([...judge, "--allow-empty"], /--allow-empty/, "judge --allow-empty without --input"),
    c([...judge, "--store", out(".sqlite")], /--store/, "judge --store without --input"),
    c([...judge, "--progress", "lines"], /--progress/, "judge --progress without --input"),
    c([...input, "--resume"], /--resume/, "judge -i --resume without --output"),
    c([...input, "-o", file("existing.jsonl")], /existing\.jsonl/, "judge -i -o an existing file without --force or --resume"),
    c([...input, "-o", out(), "--resume", "--force"], /--resume|--force/, "judge --resume --force"),
    c([...input, "--pointwise"], /--pointwise/, "judge -i --pointwise"),
    c([...judge, "-q", "@" + file("missing.txt")], /missing\.txt/, "judge -q @missing"),
    c([...judge, "-a", "@" + file("folder")], /folder/, "judge -a @folder"),
    c([...judge, "--context", "@" + file("missing.txt")], /missing\.txt/, "judge --context @missing"),
    c([...judge, "--early-stop", "decided"], /--early-stop/, "judge --early-stop without --samples"),
    c([...judge, "--samples", "3", "--early-stop", "sometimes"], /--early-stop/, "judge --early-stop bogus"),
    c([...judge, "--stop-when", "confidence:0.9"], /--stop-when|--waits/, "judge --stop-when without --waits"),
    c([...judge, "--waits", "2", "--stop-when", "bogus:1"], /--stop-when|bogus/, "judge --stop-when bogus"),
    c([...judge, "--waits", "2", "--stop-when", "confidence:7"], /--stop-when|confidence/, "judge --stop-when confidence out of range"),
    c([...judge, "--min-thinking", "100", "--max-thinking", "10"], /--min-thinking|--max-thinking/, "judge --min-thinking above --max-thinking"),
    c([...judge, "--chat-format", "bogus"], /--chat-format/, "judge --chat-format bogus"),
    c([...judge, "--chat-format", "chatml", "--chat-template", file("bad.jinja")], /--chat-template/, "judge --chat-template without auto"),
    c([...judge, "--chat-template", file("bad.jinja")], /bad\.jinja/, "judge --chat-template with broken Jinja"),
    c([...judge, "--reasoning-format", "bogus"], /--reasoning-format|bogus/, "judge --reasoning-format bogus"),
    c([...judge, "--template", file("bad-template.json")], /bad-template\.json/, "judge --template bad JSON"),
    c([...judge, "--template", file("wrong-template.json")], /wrong-template\.json/, "judge --template wrong types"),
    c([...judge, "--template", file("kind-template.json")], /kind-template\.json/, "judge --template unknown kind"),
    c([...judge, "--timeout", "1000"], /--timeout/, "judge --timeout without --base-url"),
    c([...judge, "--retries", "2"], /--retries/, "judge --retries without --base-url"),
    c([...judge, "--allow-text-prompt"], /--allow-text-prompt/, "judge --allow-text-prompt without --base-url"),
    c([...judge, "--api-key", "k"], /--api-key/, "judge --api-key without --base-url"),
    c([...judge, "--api", "chat"], /--api/, "judge --api without --base-url"),
    c(["judge", "--base-url", "ftp://example.com/v1", "-q", "x", "-a", "y", "-b", "z"], /--base-url/, "judge --base-url not http"),
    c(["judge", "--base-url", "http://127.0.0.1:1/v1", "--base-url", "http://127.0.0.1:1/v1", "-q", "x", "-a", "y", "-b", "z"], /--base-url/, "judge --base-url twice"),
    c(["judge", "--base-url-file", file("urls-bad.txt"), "-q", "x", "-a", "y", "-b", "z"], /urls-bad\.txt:2/, "judge --base-url-file with a bad line"),
    c(["judge", "--base-url-file", file("urls-empty.txt"), "-q", "x", "-a", "y", "-b", "z"], /urls-empty\.txt/, "judge --base-url-file listing no server"),
    c(["judge", "--engine", "ai-sdk", "--model", "tiny", "-q", "x", "-a", "y", "-b", "z"], /ai-sdk|--engine/, "judge --engine ai-sdk from the command line"),
    c(["judge", "--base-url", "http://127.0.0.1:1/v1", "--model", "tiny", "--threads", "2", "-q", "x", "-a", "y", "-b", "z"], /--threads/, "judge --threads with --base-url"),
    c(["judge", "--base-url", "http://127.0.0.1:1/v1", "--context-size", "512", "-q", "x", "-a", "y", "-b", "z"], /--context-size/, "judge --context-size with --base-url"),
    // eval
    c(["eval", "--model", "tiny"], /--bench/, "eval without --bench"),
    c([...dry, "--bench", "nosuch"], /nosuch/, "eval --bench unknown"),
    c(["eval", "--bench", "pairs,", "--data", PAIRS, "--dry-run", "--bench", ""], /--bench/, "eval --bench empty"),
    c(["eval", "--bench", "pairs,harmless", "--data", PAIRS, "--dry-run"], /--data/, "eval --data without NAME= for several benchmarks"),
    c(["eval", "--bench", "pairs", "--data", "nosuch=" + PAIRS, "--dry-run"], /nosuch|--data/, "eval --data for a benchmark not asked for"),
    c(["eval", "--bench", "pairs", "--data", file("folder"), "--dry-run"], /folder/, "eval --data a folder for pairs"),
    c(["eval", "--bench", "rewardbench", "--data", PAIRS, "--dry-run"], /pairs\.jsonl/, "eval --bench rewardbench with a pairs file"),
    c(["eval", "--bench", "rewardbench2", "--data", PAIRS, "--dry-run"], /pairs\.jsonl/, "eval --bench rewardbench2 with a pairs file"),
    c([...dry, "--variant", "ratings"], /--variant/, "eval --variant for a benchmark without variants"),
    c(["eval", "--bench", "rewardbench2", "--variant", "bogus", "--dry-run"], /--variant|bogus/, "eval --variant unknown"),
    c([...dry, "--map", "question=nosuch"], /nosuch/, "eval --map to a missing column"),
    c(["eval", "--bench", "harmless", "--map", "question=q", "--dry-run"], /--map/, "eval --map with a benchmark that is not pairs"),
    c([...dry, "--limit-first"], /--limit-first/, "eval --limit-first without --limit"),
    c([...dry, "--shard", "3/2"], /--shard/, "eval --shard 3/2"),
    c([...dry, "--shard", "0/2"], /--shard/, "eval --shard 0/2"),
    c([...dry, "--shard", "x"], /--shard/, "eval --shard x"),
    c([...dry, "--sweep", "waits="], /--sweep/, "eval --sweep waits= (no values)"),
    c([...dry, "--sweep", "bogus=1,2"], /--sweep|bogus/, "eval --sweep unknown setting"),
    c([...dry, "--sweep", "waits=2,x"], /--sweep/, "eval --sweep a value not a number"),
    c([...dry, "--sweep", "confidence=0.7"], /--sweep|--waits/, "eval --sweep confidence without --waits"),
    c([...dry, "--sweep", "waits=1", "--sweep", "waits=2"], /--sweep/, "eval --sweep twice the same setting"),
    c([...dry, "--order", "random"], /--order/, "eval --order unknown"),
    c(["eval", "--bench", "harmless", "--order", "both", "--dry-run"], /--order/, "eval --order with a benchmark that keeps its order"),
    c([...evalBase, "--retry-errors"], /--retry-errors/, "eval --retry-errors without --resume"),
    c(["eval", "--resume", RUN, "--store", STORE, "--order", "both"], /--order/, "eval --resume --order"),
    c(["eval", "--resume", RUN, "--store", STORE, "--dry-run"], /--dry-run|--resume/, "eval --resume --dry-run"),
    c(["eval", "--resume", RUN, "--store", STORE, "--waits", "3", "--progress", "quiet"], /--waits/, "eval --resume with a setting it would ignore (--waits)"),
    c(["eval", "--resume", RUN, "--store", STORE, "--bench", "harmless", "--progress", "quiet"], /--bench/, "eval --resume with --bench"),
    c(["eval", "--resume", RUN, "--store", STORE, "--model", file("garbage.gguf"), "--progress", "quiet"], /--model/, "eval --resume with --model"),
    c(["eval", "--resume", JUDGE_RUN, "--store", STORE, "--progress", "quiet"], /judge|eval/, "eval --resume a judge run"),
    c(["eval", "--resume", "nosuch", "--store", STORE], /nosuch/, "eval --resume unknown run"),
    c(["eval", "--resume", RUN, "--store", out(".sqlite")], /no run store here/, "eval --resume in a missing store"),
    c([...evalBase, "--label", " "], /--label/, "eval --label blank"),
    // report, runs
    c(["report", "nosuch", "--store", STORE], /nosuch/, "report unknown run"),
    c(["report", RUN, "--store", out(".sqlite")], /--store/, "report from a missing store"),
    c(["report", RUN, "--store", STORE, "--html", file("existing.jsonl") + "/x.html"], /existing\.jsonl/, "report --html under a file"),
    c(["report", RUN, "--store", STORE, "--md", out(".md"), "--html", file("folder")], /folder/, "report --html a folder with --md"),
    c(["report", RUN, RUN, "--store", STORE], /twice|RUN|r\d/, "report the same run twice"),
    c(["runs", "show", "nosuch", "--store", STORE], /nosuch/, "runs show unknown run"),
    c(["runs", "show", RUN.slice(0, 1), "--store", STORE], /ambiguous|r/, "runs show a one-letter prefix"),
    c(["runs", "export", "nosuch", "--store", STORE], /nosuch/, "runs export unknown run"),
    c(["runs", "merge", file("shard1.sqlite"), "--store", out(".sqlite")], /shard|merge/, "runs merge one shard"),
    c(["runs", "merge", file("shard1.sqlite"), file("shard1.sqlite"), "--store", out(".sqlite")], /shard1\.sqlite|twice|same/, "runs merge the same shard twice"),
    c(["runs", "merge", file("shard1.sqlite"), file("missing.sqlite"), "--store", out(".sqlite")], /missing\.sqlite/, "runs merge a missing store"),
    c(["runs", "merge", file("shard1.sqlite"), `${file("shard2.sqlite")}@nosuch`, "--store", out(".sqlite")], /nosuch/, "runs merge STORE@unknown"),
    c(["runs", "merge", file("shard1.sqlite"), STORE, "--store", out(".sqlite")], /runs\.sqlite|shard/, "runs merge a store of unsharded runs"),
    c(["runs", "merge", file("shard1.sqlite"), file("garbage.sqlite"), "--store", out(".sqlite")], /garbage\.sqlite/, "runs merge a store that is not SQLite"),
    // data rl
    c(["data", "rl", "--input", PAIRS], /--openrlhf|--verl/, "data rl without an output"),
    c(["data", "rl", "--openrlhf", out()], /--input|--bench/, "data rl without pairs"),
    c([...rl(), "--bench", "pairs"], /--input|--bench/, "data rl --input and --bench"),
    c(["data", "rl", "--bench", "nosuch", "--openrlhf", out()], /nosuch/, "data rl --bench unknown"),
    c(["data", "rl", "--bench", "harmless", "--map", "question=q", "--openrlhf", out()], /--map/, "data rl --map with a benchmark that is not pairs"),
    c(["data", "sft", "--resume", RUN, "--store", out(".sqlite"), "--output", out()], /--store|no run store/, "data sft --resume in a missing store"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", file("existing.jsonl")], /existing\.jsonl/, "data rl --openrlhf existing without --force"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(), "--data-source", "x"], /--data-source|--verl/, "data rl --data-source without --verl"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(), "--ability", "x"], /--ability|--verl/, "data rl --ability without --verl"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(), "--split", "x"], /--split|--verl/, "data rl --split without --verl"),
    c(["data", "rl", "--input", PAIRS, "--verl", out(".parquet"), "--pair-labels"], /--pair-labels|--openrlhf/, "data rl --pair-labels without --openrlhf"),
    c(["data", "rl", "--input", PAIRS, "--verl", out(".parquet"), "--chat-format", "chatml"], /--chat-format|--openrlhf/, "data rl --chat-format without --openrlhf"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(), "--chat-format", "bogus"], /--chat-format/, "data rl --chat-format bogus"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(), "--template", file("kind-template.json")], /kind-template\.json/, "data rl --template unknown kind"),
    c(["data", "rl", "--input", PAIRS, "--openrlhf", out(".jsonl"), "--verl", file("existing.jsonl")], /existing\.jsonl/, "data rl --verl existing without --force"),
    // data sft
    c(["data", "sft", "--input", PAIRS, "--model", "tiny", "--store", out(".sqlite")], /--out/, "data sft without --out or --out-dir"),
    c([...sft(), "--out-dir", out("")], /--out|--out-dir/, "data sft --out and --out-dir"),
    c([...sft(), "--bench", "pairs"], /--input|--bench/, "data sft --input and --bench"),
    c([...sft(), "--data", PAIRS], /--data|--bench/, "data sft --data without --bench"),
    c([...sft(), "--tie"], /--tie/, "data sft --tie"),
    c([...sft(), "--dataset-name", "x"], /--dataset-name|sharegpt/, "data sft --dataset-name without sharegpt"),
    c([...sft(), "--openrlhf-input", "messages", "--format", "trl"], /--openrlhf-input|openrlhf/, "data sft --openrlhf-input with --format trl"),
    c([...sft(), "--require-reflection", "--reflection-markers", " ", "--no-count-injected-waits"], /--reflection-markers|--require-reflection/, "data sft: nothing could pass --require-reflection"),
    c([...sft(), "--template", file("wrong-template.json")], /wrong-template\.json/, "data sft --template wrong types"),
    c(["data", "sft", "--input", PAIRS, "--model", "tiny", "--out", file("existing.jsonl"), "--store", out(".sqlite")], /existing\.jsonl/, "data sft --out existing without --force"),
    c(["data", "sft", "--resume", RUN, "--store", STORE, "--output", out()], /data-sft|eval|sft/, "data sft --resume an eval run"),
    // reward
    c(["reward", "check", "--label", "C", "--output", "<think>x</think>[[A]]"], /field "--label"/, "reward check --label C"),
    c(["reward", "check", "--label", "", "--output", "x"], /--label/, "reward check --label empty"),
    c(["reward", "check", "--label", "A", "--output", "@" + file("missing.txt")], /missing\.txt/, "reward check --output @missing"),
    c([...check, "--scale", "5-1"], /--scale/, "reward check --scale reversed"),
    c([...check, "--scale", "a-b"], /--scale/, "reward check --scale not numbers"),
    c([...check, "--opening-tag", "bogus"], /--opening-tag/, "reward check --opening-tag bogus"),
    c([...check, "--after-verdict", "bogus"], /--after-verdict/, "reward check --after-verdict bogus"),
    c([...check, "--normalise", "nfd"], /--normalise/, "reward check --normalise nfd"),
    c([...check, "--pointwise-shape", "bogus"], /--pointwise-shape/, "reward check --pointwise-shape bogus"),
    c([...check, "--template", file("kind-template.json")], /kind-template\.json/, "reward check --template unknown kind"),
    c([...check, "--inconsistent", "-1"], /--inconsistent|--consistency/, "reward check --inconsistent (no --consistency in check)"),
    c(["reward", "serve", "--port", "0", "--inconsistent", "-1"], /--inconsistent|--consistency/, "reward serve --inconsistent without --consistency"),
    c(["reward", "serve", "--port", "0", "--max-body", "lots"], /--max-body/, "reward serve --max-body lots"),
    c(["reward", "serve", "--port", "0", "--max-body", "0"], /--max-body/, "reward serve --max-body 0"),
    c(["reward", "serve", "--port", "0", "--host", "not a host"], /--host|not a host/, "reward serve --host not a host"),
    c(["reward", "verl", "--out", file("existing.jsonl")], /existing\.jsonl/, "reward verl --out existing without --force"),
    c(["reward", "verl", "--output", out(".py"), "--url", "not a url"], /--url/, "reward verl --url not a URL"),
    c(["reward", "verl", "--output", out(".py"), "--url", "ftp://example.com"], /--url/, "reward verl --url ftp"),
    c(["reward", "verl", "--output", out(".py"), "--token-env", "1 bad name"], /--token-env/, "reward verl --token-env not a variable name"),
    // serve
    c([...BASES.serve(), "--data-root", file("missing-root")], /missing-root|--data-root/, "serve --data-root missing"),
    c([...BASES.serve(), "--cors", "not an origin"], /--cors/, "serve --cors not an origin"),
    c([...BASES.serve(), "--cors", "http://page.example/path"], /--cors/, "serve --cors with a path"),
    c([...BASES.serve(), "--max-body", "2gb"], /--max-body/, "serve --max-body over 1gb"),
    c([...BASES.serve(), "--host", ""], /--host/, "serve --host empty"),
    c([...BASES.serve(), "--token", ""], /--token/, "serve --token empty"),
    c([...BASES.serve(), "--allow-host", ""], /--allow-host/, "serve --allow-host empty"),
    c([...BASES.serve(), "--template", file("wrong-template.json")], /wrong-template\.json/, "serve --template wrong types"),
    c(["serve", "--model", file("missing.gguf"), "--port", "0", "--store", STORE], /missing\.gguf/, "serve --model missing"),
    c(["serve", "--model", file("garbage.gguf"), "--port", "0", "--store", STORE], /garbage\.gguf/, "serve --model not a GGUF"),
    c(["serve", "--model", "tiny", "--port", "0", "--store", file("garbage.sqlite")], /garbage\.sqlite/, "serve --store not SQLite"),
    c(["serve", "--model", "tiny", "--host", "203.0.113.1", "--port", "0", "--store", STORE], /203\.0\.113\.1|--host/, "serve --host an address not on this machine"),
    // model
    c(["model", "tiny", "--out", file("existing.jsonl")], /existing\.jsonl/, "model tiny --out an existing file that is not a model"),
    c(["model", "shaped", "--output", out(".gguf")], /--family/, "model shaped without --family"),
    c(["model", "shaped", "--family", "qwen3", "--tokenizer-dir", file("empty-folder"), "--output", out(".gguf")], /empty-folder|tokenizer/, "model shaped --tokenizer-dir without tokenizer.json"),
    // usage
    c(["nosuch"], /nosuch/, "an unknown command"),
    c(["runs"], /runs|Usage/, "runs without a subcommand"),
    c(["data"], /data|Usage/, "data without a subcommand"),
    c(["reward", "nosuch"], /nosuch/, "reward with an unknown subcommand"),
    c(["report"], /runs|missing/, "report without a run"),
  ];
}

interface Verdict {
  case: Case;
  run: CliRun;
  problems: string[];
}

function judgeRun(item: Case, run: CliRun): Verdict {
  const problems: string[] = [];
  if (run.timedOut) problems.push("still running at the time limit (the bad flag was taken)");
  if (run.crash) problems.push(`crashed: ${run.crash.split("\n")[0]}`);
  if (run.code !== 2) problems.push(`exit ${run.code}`);
  if (STACK_FRAME.test(run.stderr) || STACK_FRAME.test(run.stdout)) problems.push("a stack trace");
  if (run.code === 2 && !item.says.test(run.stderr)) problems.push(`stderr does not name ${item.says}`);
  return { case: item, run, problems };
}

async function runAll(cases: Case[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const item of cases) {
    if (process.env.J1_MATRIX_TRACE) process.stderr.write(`j1 ${item.args.join(" ")}\n`);
    const service = item.args[0] === "serve" || (item.args[0] === "reward" && item.args[1] === "serve");
    verdicts.push(judgeRun(item, await runCli(item.args, { timeoutMs: service ? 5_000 : 60_000 })));
  }
  return verdicts;
}

function tally(label: string, verdicts: Verdict[]): string {
  const wrongCode = verdicts.filter((verdict) => verdict.run.code !== 2 || verdict.run.timedOut).length;
  const stacks = verdicts.filter((verdict) => verdict.run.crash || STACK_FRAME.test(verdict.run.stderr) || STACK_FRAME.test(verdict.run.stdout)).length;
  const unnamed = verdicts.filter((verdict) => verdict.problems.some((problem) => problem.startsWith("stderr does not name"))).length;
  return `${label}: ${verdicts.length} invocations, ${wrongCode} wrong exit codes, ${stacks} stack traces, ${unnamed} messages not naming the flag/file`;
}

function listing(verdicts: Verdict[]): string[] {
  return verdicts
    .filter((verdict) => verdict.problems.length > 0)
    .map((verdict) => `${verdict.case.what}: ${verdict.problems.join("; ")} [j1 ${verdict.case.args.map((arg) => (arg.startsWith(work) ? arg.slice(work.length + 1) : arg)).join(" ")}] ${verdict.run.stderr.trim().split("\n").slice(0, 2).join(" | ").slice(0, 300)}`);
}

describe("bad invocations of every j1 command exit 2 with a message naming what is wrong", () => {
  for (const [label, make] of [
    ["generated from every command's flags", generated],
    ["malformed data files through every command that reads pairs", badData],
    ["conflicting flags, flags that do nothing, values a command checks", combinations],
  ] as const) {
    it(label, async (t) => {
      const verdicts = await runAll(make());
      t.diagnostic(tally(label, verdicts));
      const wrong = listing(verdicts);
      if (process.env.J1_MATRIX_DUMP) appendFileSync(process.env.J1_MATRIX_DUMP, verdicts.map((verdict) => `${verdict.case.what} => exit ${verdict.run.code}: ${verdict.run.stderr.trim().split("\n").filter((line) => !line.includes("tiny built-in model")).join(" | ").slice(0, 240)}\n`).join(""));
      if (process.env.J1_MATRIX_VERBOSE) appendFileSync(process.env.J1_MATRIX_VERBOSE, wrong.map((line) => `${line}\n`).join(""));
      assert.deepEqual(wrong, []);
    });
  }
});
