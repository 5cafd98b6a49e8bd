/**
 * The commands j1 prints as next steps run as printed: after `j1 eval … --store FILE` (a store other than
 * the default one), the suggested `j1 report RUN … --html report.html` finds the run, and so does
 * `j1 eval --resume RUN`'s line after a stop. Real CLI, tiny model, real SQLite.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { shellQuote, storeFlag } from "../src/cli/suggest.js";
import { samplePairsRun } from "./helpers/sample-runs.js";
import { testCacheDir } from "./helpers/tiny-engine.js";

const bin = path.join(fileURLToPath(new URL("../..", import.meta.url)), "bin", "j1");

describe("suggested next commands", () => {
  it("quote a store path for the shell and leave the default store out", () => {
    assert.equal(storeFlag(undefined), "");
    assert.equal(storeFlag("s.sqlite"), " --store s.sqlite");
    assert.equal(storeFlag("my runs/s.sqlite"), " --store 'my runs/s.sqlite'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  it("j1 eval --store FILE suggests a report command that runs as printed", () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "j1-suggest-"));
    samplePairsRun(work, {});
    const env = { ...process.env, J1_CACHE_DIR: testCacheDir, J1_STORE: "" };
    const run = spawnSync(process.execPath, [bin, "eval", "--bench", "pairs", "--data", "pairs.jsonl", "--model", "tiny", "--threads", "1", "--progress", "quiet", "--store", "my runs.sqlite"], { cwd: work, env, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const next = /^j1: next: (j1 report .*)$/m.exec(run.stderr)?.[1];
    assert.ok(next, `no suggested report command in:\n${run.stderr}`);
    assert.match(next, /--store 'my runs\.sqlite'/);
    // Run it through a shell, exactly as printed (with bin/j1 for the j1 on the PATH).
    const report = spawnSync("sh", ["-c", next.replace(/^j1 /, `${shellQuote(process.execPath)} ${shellQuote(bin)} `)], { cwd: work, env, encoding: "utf8" });
    assert.equal(report.status, 0, report.stderr);
    assert.ok(existsSync(path.join(work, "report.html")));
    assert.match(readFileSync(path.join(work, "report.html"), "utf8"), /pairs/);
    // --json is a switch as everywhere else: the JSON on stdout; "-" means stdout too, never a file named "-".
    const runId = /j1 report (\S+)/.exec(next)![1];
    for (const json of [["--json"], ["--json", "-"]]) {
      const shown = spawnSync(process.execPath, [bin, "report", runId, "--store", "my runs.sqlite", ...json], { cwd: work, env, encoding: "utf8" });
      assert.equal(shown.status, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout)[0].runId, runId);
    }
    assert.ok(!existsSync(path.join(work, "-")));
    const filed = spawnSync(process.execPath, [bin, "report", runId, "--store", "my runs.sqlite", "--json", "r.json"], { cwd: work, env, encoding: "utf8" });
    assert.equal(filed.status, 0, filed.stderr);
    assert.ok(existsSync(path.join(work, "r.json")));
  });
});
