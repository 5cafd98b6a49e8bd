// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner. Node 20's --test does
// not expand globs, so the files are listed here. Extra arguments are passed on (e.g. a name filter).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";

const root = path.resolve("dist/test");
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith(".test.js")) files.push(full);
  }
};
walk(root);
files.sort();
const only = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const selected = only.length ? files.filter((file) => only.some((part) => file.includes(part))) : files;
const flags = process.argv.slice(2).filter((arg) => arg.startsWith("-"));
// One libuv pool thread: node-llama-cpp's parallel samplers race on llama.cpp's lazy logits reorder when
// several sequences share a batch (see src/cli/engine-flags.ts, samplersSerialised). Tests that need the
// default pool set it themselves.
const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? "1" };
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...flags, ...selected], { stdio: "inherit", env });
process.exitCode = result.status ?? 1;
