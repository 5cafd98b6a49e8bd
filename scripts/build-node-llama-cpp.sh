#!/usr/bin/env bash
# Build node-llama-cpp's binding natively (this CPU's instruction sets, AMX off, as llama-server is built
# by scripts/build-llama-server.sh) from the llama.cpp source node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle), fully offline. Opt-in: neither `npm test` nor
# .ci/run runs it (about 10 minutes of 2 cores); without it j1 runs node-llama-cpp's prebuilt binary.
#
#   nice -n 19 bash scripts/build-node-llama-cpp.sh      (or: npm run native:build)
#
# What it leaves, inside the node-llama-cpp package (node_modules is shared by every checkout that links
# it, so is the build):
#   llama/llama.cpp/                       the source, cloned from the bundle by `node-llama-cpp source download`
#   llama/localBuilds/linux-x64-<hash>/    node-llama-cpp's local build; <hash> is of its custom cmake options
#   llama/localBuilds/j1-native.json       j1's record: recipe, folder, cmake options, the CPU flags line
# j1 (src/engines/llamacpp/llama-runtime.ts) reads the record and asks getLlama for a build with those
# options, which node-llama-cpp finds under that folder name; it falls back to the prebuilt binary when the
# record is missing, from an older recipe, or made on a CPU with other flags. J1_LLAMA_BINDING=prebuilt
# forces the prebuilt binary (bench/native-binding.ts compares the two).
#
# Idempotent: when the record is current and the build is there, its folder is printed at once. stdout
# carries ONLY the build folder's path; progress and build output go to stderr.
#
# Environment:
#   J1_NODE_LLAMA_CPP_DIR   node-llama-cpp package dir (default <repo>/node_modules/node-llama-cpp)
#   npm_config_nodedir      Node headers for cmake-js (default: this node's install prefix, when it has
#                           include/node/node.h; the addon is Node-API, so cmake-js needs no download)
# Build jobs: node-llama-cpp picks them (the core count, up to 4).
set -euo pipefail

exec 3>&1 1>&2

log() { printf '[build-node-llama-cpp] %s\n' "$*" >&2; }
die() { printf '[build-node-llama-cpp] error: %s\n' "$*" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
nlc_dir=${J1_NODE_LLAMA_CPP_DIR:-$repo_root/node_modules/node-llama-cpp}
nlc_dir=$(cd "$nlc_dir" 2>/dev/null && pwd -P) || die "node-llama-cpp not found at ${J1_NODE_LLAMA_CPP_DIR:-$repo_root/node_modules/node-llama-cpp} (run npm install first)"
llama_dir=$nlc_dir/llama
bundle=$llama_dir/gitRelease.bundle
builds_dir=$llama_dir/localBuilds
record=$builds_dir/j1-native.json

# The build recipe: bump it when the options change; j1 then ignores a build of an older recipe. It is
# also passed to cmake as J1_NATIVE_RECIPE (unused by cmake), so each recipe gets its own folder.
# Recipe 1: scripts/lib/ggml-cpu-options.sh (explicit x86 instruction sets, AMX off).
recipe=1

[ -f "$bundle" ] || die "llama.cpp source bundle not found at $bundle"
command -v node >/dev/null 2>&1 || die "node not found"

# shellcheck source=lib/ggml-cpu-options.sh
. "$script_dir/lib/ggml-cpu-options.sh"
cpu_flags=$(j1_cpu_flags)
options=()
while IFS= read -r option; do options+=("$option"); done < <(j1_ggml_cpu_options)
options+=("J1_NATIVE_RECIPE=$recipe")

# Prints the build folder when the record is current (this recipe, this CPU, the build complete).
current_build() {
  RECORD=$record RECIPE=$recipe CPU_FLAGS=$cpu_flags BUILDS=$builds_dir node -e '
    const fs = require("node:fs"), path = require("node:path");
    let record;
    try { record = JSON.parse(fs.readFileSync(process.env.RECORD, "utf8")); } catch { process.exit(1); }
    const folder = path.join(process.env.BUILDS, String(record.folderName));
    const ok = record.recipe === Number(process.env.RECIPE) && record.cpuFlags === process.env.CPU_FLAGS &&
      ["buildDone.status", "Release/llama-addon.node", "Release/_nlcBuildMetadata.json"].every((file) => fs.existsSync(path.join(folder, file)));
    if (!ok) process.exit(1);
    console.log(folder);
  '
}

if folder=$(current_build); then
  printf '%s\n' "$folder" >&3
  exit 0
fi

command -v cmake >/dev/null 2>&1 || die "cmake not found; install it with: apt-get install cmake"
command -v git >/dev/null 2>&1 || die "git not found; install it with: apt-get install git"
if ! command -v "${CXX:-c++}" >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
  die "no C++ compiler found; install one with: apt-get install g++"
fi

mkdir -p "$builds_dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$builds_dir/.j1-native.lock"
  if ! flock -n 9; then
    log "another native build is running; waiting for it..."
    flock 9
  fi
  if folder=$(current_build); then
    printf '%s\n' "$folder" >&3
    exit 0
  fi
fi

# cmake-js takes Node's headers from npm_config_nodedir instead of downloading them.
if [ -z "${npm_config_nodedir:-}" ]; then
  node_prefix=$(node -p 'require("node:path").resolve(process.execPath, "..", "..")')
  if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir=$node_prefix; fi
fi

start=$(date +%s)
cd "$repo_root"

# --- source: cloned from the bundle (node-llama-cpp applies its own patches), offline ---------------
if [ ! -d "$llama_dir/llama.cpp/.git" ]; then
  log "cloning llama.cpp from $bundle (node-llama-cpp source download --skipBuild)"
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npx --no node-llama-cpp source download --skipBuild --noUsageExample --gpu false </dev/null
  [ -d "$llama_dir/llama.cpp/.git" ] || die "node-llama-cpp source download did not clone llama.cpp into $llama_dir/llama.cpp"
fi

# --- build ------------------------------------------------------------------------------------------
env_options=()
for option in "${options[@]}"; do env_options+=("NODE_LLAMA_CPP_CMAKE_OPTION_$option"); done
log "building node-llama-cpp's binding with ${options[*]}; this takes ~10 min on 2 cores"
env "${env_options[@]}" npx --no node-llama-cpp source build --gpu false --noUsageExample </dev/null

# --- record -----------------------------------------------------------------------------------------
# The folder is the one node-llama-cpp just wrote (lastBuild.json), checked to carry this recipe's options.
RECORD=$record RECIPE=$recipe CPU_FLAGS=$cpu_flags BUILDS=$builds_dir LAST=$llama_dir/lastBuild.json \
  SECONDS_TAKEN=$(( $(date +%s) - start )) OPTIONS="${options[*]}" node -e '
  const fs = require("node:fs"), path = require("node:path");
  const { folderName } = JSON.parse(fs.readFileSync(process.env.LAST, "utf8"));
  const metadata = JSON.parse(fs.readFileSync(path.join(process.env.BUILDS, folderName, "Release", "_nlcBuildMetadata.json"), "utf8"));
  const built = metadata.buildOptions.customCmakeOptions;
  for (const pair of process.env.OPTIONS.split(" ")) {
    const [key, value] = pair.split("=");
    if (built[key] !== value) { console.error(`the build in ${folderName} has ${key}=${built[key]}, not ${value}`); process.exit(1); }
  }
  const record = {
    recipe: Number(process.env.RECIPE),
    folderName,
    cmakeOptions: built,
    cpuFlags: process.env.CPU_FLAGS,
    llamaCpp: metadata.buildOptions.llamaCpp,
    built: new Date().toISOString(),
    seconds: Number(process.env.SECONDS_TAKEN),
  };
  const temporary = `${process.env.RECORD}.${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(temporary, process.env.RECORD);
' || die "the build finished but its folder could not be checked"

folder=$(current_build) || die "the build finished but the record does not check out"
log "built $folder in $(( $(date +%s) - start ))s"
printf '%s\n' "$folder" >&3
