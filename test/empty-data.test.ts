/**
 * One rule for empty data everywhere: a source with no items is bad input (exit 2, naming the file) for
 * `j1 judge --input`, `j1 eval`, `j1 data sft`, and `runEval` (what `j1 serve`'s runs call), unless
 * `--allow-empty` says to run anyway; nothing is recorded for a refused source.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { createLlamaCppEngine } from "../src/engines/llamacpp/llamacpp-engine.js";
import { evalSettings } from "../src/index.js";
import { runEval } from "../src/eval/runner.js";
import { openRunStore } from "../src/store/run-store.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-empty-"));
const store = path.join(work, "runs.sqlite");
const j1 = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, encoding: "utf8", timeout: 120_000 });
const EMPTY = { "empty.jsonl": "", "array.json": "[]", "header.csv": "question,a,b,label\n" };
for (const [name, text] of Object.entries(EMPTY)) writeFileSync(path.join(work, name), text);

describe("empty data: exit 2 unless --allow-empty, the same everywhere", () => {
  for (const name of Object.keys(EMPTY)) {
    it(`j1 judge --input ${name}`, () => {
      const refused = j1("judge", "--model", "tiny", "--input", name, "--store", store);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`${name.replace(".", "\\.")}: no pairs to judge: pass --allow-empty`));
      const allowed = j1("judge", "--model", "tiny", "--input", name, "--store", store, "--allow-empty");
      assert.equal(allowed.status, 0, allowed.stderr);
    });
    it(`j1 eval --bench pairs --data ${name}`, () => {
      const refused = j1("eval", "--bench", "pairs", "--data", name, "--model", "tiny", "--store", store, "--progress", "quiet");
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /no items to judge in pairs .*pass --allow-empty/);
    });
    it(`j1 data sft --input ${name}`, () => {
      const refused = j1("data", "sft", "--input", name, "--model", "tiny", "--store", store, "--output-dir", path.join(work, `sft-${name}`), "--progress", "quiet");
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /no pairs to judge in .*: pass --allow-empty/);
    });
  }

  it("runEval (j1 serve's runs) refuses an empty source before recording a run; allowEmpty runs it", async () => {
    const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 2048, sequences: 1 });
    const library = openRunStore(path.join(work, "library.sqlite"));
    after(async () => {
      library.close();
      await engine.dispose();
    });
    const settings = evalSettings({ bench: "pairs", data: path.join(work, "empty.jsonl") });
    await assert.rejects(runEval({ settings, store: library, engine, label: "empty" }), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && /no items to judge in pairs/.test(error.message));
    assert.equal(library.listRuns().length, 0, "nothing recorded");
    const result = await runEval({ settings, store: library, engine, label: "empty", allowEmpty: true });
    assert.equal(result.items, 0);
  });
});
