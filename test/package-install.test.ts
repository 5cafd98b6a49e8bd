/**
 * The package as a user gets it: `npm pack` of this checkout, the tarball installed into an empty folder
 * with npm (its dependencies from the registry, better-sqlite3 compiled there), then, in that folder, the
 * CLI through `npx j1 judge --model tiny …` and the library through `import { judge } from "j1-judge"`.
 * Slow (minutes: the install compiles better-sqlite3), and the one proof that the published files suffice.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { testCacheDir } from "./helpers/tiny-engine.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const manifest = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { name: string; version: string; bin: Record<string, string> };

describe("npm pack, installed into an empty project", () => {
  it("is named to publish, and its command is j1", () => {
    assert.equal(manifest.name, "j1-judge");
    assert.deepEqual(Object.keys(manifest.bin), ["j1"]);
  });

  it("runs npx j1 judge and a library call there", { timeout: 20 * 60_000 }, () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "j1-pack-"));
    // dist/ is built by npm test before the tests run; --ignore-scripts skips "prepare" building it again.
    const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], { cwd: repo, encoding: "utf8" });
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info.files.map((file) => file.path);
    assert.ok(files.includes("bin/j1") && files.includes("dist/src/index.js") && files.includes("src/server/viewer/app.js"), "the CLI, the library and the viewer are packed");
    assert.ok(!files.some((file) => file.startsWith("dist/test/") || file.startsWith("test/")), "no tests are packed");
    const project = path.join(root, "project");
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name: "empty-project", private: true, type: "module" })}\n`);
    const env = { ...process.env, J1_CACHE_DIR: testCacheDir, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" };
    const installed = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", path.join(root, info.filename)], { cwd: project, env, encoding: "utf8", timeout: 15 * 60_000 });
    assert.equal(installed.status, 0, `npm install of the tarball failed (status ${installed.status}, signal ${installed.signal}):\n${installed.stdout.slice(-2000)}\n${installed.stderr.slice(-3000)}`);

    const cli = spawnSync("npx", ["--no-install", "j1", "judge", "--model", "tiny", "-q", "2+2?", "-a", "4", "-b", "5", "--waits", "1", "--json"], { cwd: project, env, encoding: "utf8", timeout: 120_000 });
    assert.equal(cli.status, 0, cli.stderr);
    const judgment = JSON.parse(cli.stdout) as { kind: string; status: string; waitsUsed: number };
    assert.equal(judgment.kind, "pairwise");
    assert.equal(judgment.status, "ok");
    assert.equal(judgment.waitsUsed, 1);

    writeFileSync(path.join(project, "use.js"), [
      `import { judge, VERSION } from "j1-judge";`,
      `const judgment = await judge({ question: "2+2?", a: "4", b: "5", model: "tiny", waits: 1, threads: 1 });`,
      `console.log(JSON.stringify({ version: VERSION, verdict: judgment.verdict, status: judgment.status, injected: judgment.usage.injectedTokens }));`,
    ].join("\n"));
    const library = spawnSync(process.execPath, ["use.js"], { cwd: project, env, encoding: "utf8", timeout: 120_000 });
    assert.equal(library.status, 0, library.stderr);
    const result = JSON.parse(library.stdout.trim().split("\n").pop()!) as { version: string; verdict: string; status: string; injected: number };
    assert.equal(result.version, manifest.version);
    assert.equal(result.status, "ok");
    assert.ok(result.verdict === "A" || result.verdict === "B");
    assert.ok(result.injected > 0, "the wait was injected");
  });
});
