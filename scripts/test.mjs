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
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...flags, ...selected], { stdio: "inherit" });
process.exitCode = result.status ?? 1;
