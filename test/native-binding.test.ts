/**
 * Which binary j1 runs (src/engines/llamacpp/llama-runtime.ts): node-llama-cpp's prebuilt one, or the native
 * local build of scripts/build-node-llama-cpp.sh. The engine's reported `binding` must be what was actually
 * loaded, checked against the llama-addon.node mapped into the process (/proc/self/maps), not against
 * node-llama-cpp's word: once per J1_LLAMA_BINDING value, each in its own process (one binding per process).
 * `j1 judge --json` and a `judge --input` run's summary carry the same value.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BINDING_ENV, NATIVE_BUILD_RECIPE, bindingChoice, bindingOf, cpuFlagsLine, readNativeBuild, type NativeBuildRecord } from "../src/engines/llamacpp/llama-runtime.js";
import { openRunStore } from "../src/store/run-store.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const engineModule = pathToFileURL(path.resolve(here, "../src/engines/llamacpp/llamacpp-engine.js")).href;
const work = mkdtempSync(path.join(os.tmpdir(), "j1-binding-"));
const linux = process.platform === "linux";

describe("binding: what j1 reports", () => {
  it("names the binary from what node-llama-cpp loaded: prebuilt, j1's native build, or another local build", () => {
    assert.equal(bindingOf({ buildType: "prebuilt", cmakeOptions: {} }), "prebuilt");
    assert.equal(bindingOf({ buildType: "localBuild", cmakeOptions: { J1_NATIVE_RECIPE: "1", GGML_NATIVE: "OFF" } }), "native (local build)");
    assert.equal(bindingOf({ buildType: "localBuild", cmakeOptions: {} }), "local build");
  });

  it(`reads ${BINDING_ENV}: auto by default, refuses anything else`, () => {
    assert.equal(bindingChoice({}), "auto");
    assert.equal(bindingChoice({ [BINDING_ENV]: "native" }), "native");
    assert.throws(() => bindingChoice({ [BINDING_ENV]: "fast" }), /expected auto, native or prebuilt/);
  });

  it("uses a native build record only of this recipe, made on this CPU", () => {
    const write = (name: string, record: Partial<NativeBuildRecord> | string) => {
      const file = path.join(work, name);
      writeFileSync(file, typeof record === "string" ? record : JSON.stringify(record));
      return file;
    };
    const good: NativeBuildRecord = { recipe: NATIVE_BUILD_RECIPE, folderName: "linux-x64-abc", cmakeOptions: { J1_NATIVE_RECIPE: String(NATIVE_BUILD_RECIPE) }, cpuFlags: cpuFlagsLine() };
    assert.deepEqual(readNativeBuild(path.join(work, "missing.json")), {});
    assert.deepEqual(readNativeBuild(write("good.json", good)).record, good);
    assert.match(readNativeBuild(write("old.json", { ...good, recipe: NATIVE_BUILD_RECIPE - 1 })).skipped ?? "", /recipe/);
    assert.match(readNativeBuild(write("cpu.json", { ...good, cpuFlags: `${good.cpuFlags} imaginary_isa` })).skipped ?? "", /another|other instruction sets/);
    assert.match(readNativeBuild(write("bad.json", "{")).skipped ?? "", /not JSON/);
  });

  it("reads the CPU flags line as the build script does", { skip: !linux && "Linux only" }, () => {
    const shell = execFileSync("bash", ["-c", `. "${path.join(root, "scripts/lib/ggml-cpu-options.sh")}"; j1_cpu_flags`], { encoding: "utf8" }).replace(/\n$/, "");
    assert.equal(cpuFlagsLine(), shell);
  });
});

interface Probe {
  binding?: string;
  bindingNote?: string;
  addon?: string[];
  error?: string;
}

/** A fresh process with J1_LLAMA_BINDING=value: the tiny model's engine, its report, and the addon it mapped. */
function probe(value: string): Probe {
  const script = `
    import { readFileSync } from "node:fs";
    try {
      const { createLlamaCppEngine } = await import(${JSON.stringify(engineModule)});
      const engine = await createLlamaCppEngine({ model: "tiny", threads: 1, contextSize: 256 });
      const addon = [...new Set(readFileSync("/proc/self/maps", "utf8").split("\\n").map((line) => line.split(/\\s+/).slice(5).join(" ")).filter((file) => file.endsWith("llama-addon.node")))];
      const { binding, bindingNote } = engine.describe();
      await engine.dispose();
      console.log(JSON.stringify({ binding, bindingNote, addon }));
    } catch (error) {
      console.log(JSON.stringify({ error: String(error?.message ?? error) }));
    }`;
  // A file, not `node -e`: node-llama-cpp tests a prebuilt binary in a fork, which inherits execArgv.
  const file = path.join(work, "probe.mjs");
  writeFileSync(file, script);
  const result = spawnSync(process.execPath, [file], { env: { ...process.env, [BINDING_ENV]: value }, encoding: "utf8", timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop() as string) as Probe;
}

/** The report against the mapped file: prebuilt ⇔ outside localBuilds; native ⇔ inside the recorded build's folder. */
function assertLoaded(found: Probe, native: NativeBuildRecord | undefined): void {
  assert.equal(found.error, undefined);
  assert.equal(found.addon?.length, 1, `one llama-addon.node mapped: ${found.addon?.join(", ")}`);
  const addon = found.addon![0];
  const local = addon.split(path.sep).includes("localBuilds");
  if (found.binding === "prebuilt") assert.ok(!local, `reported prebuilt, but loaded ${addon}`);
  else if (found.binding === "native (local build)") {
    assert.ok(native, "reported the native build with no record of one");
    assert.ok(addon.includes(`${path.sep}localBuilds${path.sep}${native!.folderName}${path.sep}`), `reported the native build, but loaded ${addon}`);
  } else {
    assert.equal(found.binding, "local build");
    assert.ok(local, `reported a local build, but loaded ${addon}`);
  }
}

describe("binding: reported as loaded, one process per choice", { skip: !linux && "reads /proc/self/maps" }, () => {
  const native = readNativeBuild().record;

  it("J1_LLAMA_BINDING=prebuilt loads the prebuilt binary, and says so", () => {
    const found = probe("prebuilt");
    assertLoaded(found, native);
    assert.equal(found.binding, "prebuilt");
  });

  it("J1_LLAMA_BINDING=auto loads the native build when its record is current, else the prebuilt one", () => {
    const found = probe("auto");
    assertLoaded(found, native);
    assert.equal(found.binding === "native (local build)", native !== undefined, `binding ${found.binding} with ${native ? `a native build in ${native.folderName}` : "no usable native build"}`);
  });

  it("J1_LLAMA_BINDING=native loads the native build, or refuses to run without one", () => {
    const found = probe("native");
    if (native) {
      assertLoaded(found, native);
      assert.equal(found.binding, "native (local build)");
    } else assert.match(found.error ?? "", /no native build to use.*build-node-llama-cpp\.sh/);
  });

  it("j1 judge --json and a judge --input run's summary report the binding the engine loaded", () => {
    const expected = probe("auto").binding;
    const j1 = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "bin/j1"), ...args], { cwd: work, encoding: "utf8", timeout: 300_000, env: { ...process.env, [BINDING_ENV]: "auto" } });
    const single = j1("judge", "--model", "tiny", "--question", "2+2?", "--a", "4", "--b", "5", "--json");
    assert.equal(single.status, 0, single.stderr);
    assert.equal((JSON.parse(single.stdout) as { engine: { binding: string } }).engine.binding, expected);

    writeFileSync(path.join(work, "pairs.jsonl"), `${JSON.stringify({ id: "p1", question: "2+2?", a: "4", b: "5" })}\n`);
    const store = path.join(work, "runs.sqlite");
    const run = j1("judge", "--model", "tiny", "--input", "pairs.jsonl", "--output", "out.jsonl", "--store", store, "--progress", "quiet");
    assert.equal(run.status, 0, run.stderr);
    const runs = openRunStore(store);
    try {
      const summary = runs.listRuns()[0].summary as { engine?: { binding?: string } };
      assert.equal(summary.engine?.binding, expected);
    } finally {
      runs.close();
    }
  });
});
