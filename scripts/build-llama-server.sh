#!/usr/bin/env bash
# Build a real `llama-server` from the llama.cpp source that node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle), fully offline, into a cache
# outside the checkout:
#
#   ${J1_CACHE_DIR:-$HOME/.cache/j1}/llama-server/<llama.cpp tag or bundle commit>/bin/llama-server
#
# Idempotent: if that binary exists and answers `--version`, its path is printed at once.
# stdout carries ONLY the binary path (so `bin=$(scripts/build-llama-server.sh)` works);
# every progress message and all build output go to stderr.
#
# Environment:
#   J1_CACHE_DIR            cache root (default $HOME/.cache/j1)
#   J1_NODE_LLAMA_CPP_DIR   node-llama-cpp package dir (default <repo>/node_modules/node-llama-cpp)
#   J1_BUILD_JOBS           parallel build jobs (default: number of cores)
#   J1_KEEP_BUILD_DIR=1     keep the temporary source/build dir (for debugging)
#
# The <key> directory name must stay in sync with test/helpers/llama-server.ts
# (llamaServerCacheKey): the "tag" of llama/llama.cpp.info.json, else the commit
# the bundle's HEAD points at, with characters outside [A-Za-z0-9._-] replaced by "_".
set -euo pipefail

# Everything goes to stderr; fd 3 is the real stdout, used once for the final path.
exec 3>&1 1>&2

log() { printf '[build-llama-server] %s\n' "$*" >&2; }
die() { printf '[build-llama-server] error: %s\n' "$*" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
nlc_dir=${J1_NODE_LLAMA_CPP_DIR:-$repo_root/node_modules/node-llama-cpp}
llama_dir=$nlc_dir/llama
bundle=$llama_dir/gitRelease.bundle
info_json=$llama_dir/llama.cpp.info.json

[ -f "$bundle" ] || die "llama.cpp source bundle not found at $bundle (run npm install first, or set J1_NODE_LLAMA_CPP_DIR)"

# --- which llama.cpp is this? ---------------------------------------------------------
tag=""
if [ -f "$info_json" ]; then
  # {"tag": "b1234", "llamaCppGithubRepo": "..."}; tolerate any whitespace/newlines
  tag=$(tr -d '\n' <"$info_json" | sed -n 's/.*"tag"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
fi
bundle_ref=""
bundle_commit=""
read_bundle_heads() {
  command -v git >/dev/null 2>&1 || die "git not found; install it with: apt-get install git"
  local heads
  heads=$(git bundle list-heads "$bundle") || die "cannot read git bundle $bundle"
  # Prefer HEAD, else the first ref in the bundle.
  local line
  line=$(printf '%s\n' "$heads" | awk '$2 == "HEAD" { print; exit }')
  [ -n "$line" ] || line=$(printf '%s\n' "$heads" | head -n 1)
  [ -n "$line" ] || die "git bundle $bundle lists no refs"
  bundle_commit=${line%% *}
  bundle_ref=${line#* }
}
key=$tag
if [ -z "$key" ]; then
  read_bundle_heads
  key=$bundle_commit
fi
key=$(printf '%s' "$key" | tr -c 'A-Za-z0-9._-' '_')
[ -n "$key" ] || die "could not determine the llama.cpp version of $bundle"

cache_root=${J1_CACHE_DIR:-$HOME/.cache/j1}
base_dir=$cache_root/llama-server
install_dir=$base_dir/$key
bin=$install_dir/bin/llama-server

# The build recipe: bump it when the cmake flags change, so a binary built by an older recipe is rebuilt.
# Recipe 2: explicit x86 instruction sets without AMX (see "configure & build" below).
recipe=2
is_good() {
  [ -x "$1" ] && "$1" --version >/dev/null 2>&1 && grep -qx "recipe: $recipe" "$(dirname "$(dirname "$1")")/BUILD-INFO" 2>/dev/null
}

if is_good "$bin"; then
  printf '%s\n' "$bin" >&3
  exit 0
fi

# --- prerequisites ---------------------------------------------------------------------
command -v cmake >/dev/null 2>&1 || die "cmake not found; install it with: apt-get install cmake"
command -v git >/dev/null 2>&1 || die "git not found; install it with: apt-get install git"
if ! command -v "${CXX:-c++}" >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
  die "no C++ compiler found; install one with: apt-get install g++"
fi
[ -n "$bundle_commit" ] || read_bundle_heads

mkdir -p "$base_dir"

# --- one builder at a time (per key) ------------------------------------------------------
if command -v flock >/dev/null 2>&1; then
  exec 9>"$base_dir/.$key.lock"
  if ! flock -n 9; then
    log "another build of $key is running; waiting for it..."
    flock 9
  fi
  # The other builder may have finished the job.
  if is_good "$bin"; then
    printf '%s\n' "$bin" >&3
    exit 0
  fi
fi

# Build dir inside the cache so the final mv is a same-filesystem rename.
work=$(mktemp -d "$base_dir/.build-$key.XXXXXX")
cleanup() {
  if [ "${J1_KEEP_BUILD_DIR:-}" = "1" ]; then
    log "keeping build dir $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

jobs=${J1_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$(date +%s)
log "building llama-server $key (bundle $bundle_ref -> ${bundle_commit:0:12}) in $work with -j$jobs; this takes ~10 min on 2 cores"

# --- source ----------------------------------------------------------------------------
# The bundle may carry only HEAD (no branch), which a plain `git clone` cannot check out,
# so fetch the ref explicitly and check out the commit.
src=$work/src
git init --quiet "$src"
git -C "$src" fetch --quiet --no-tags "$bundle" "$bundle_ref" || die "git fetch from bundle $bundle failed"
git -C "$src" -c advice.detachedHead=false checkout --quiet --detach "$bundle_commit"

# --- configure & build -----------------------------------------------------------------
cmake_flags=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_CURL=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON
)
# This CPU's instruction sets named one by one, never AMX, on x86; -march=native elsewhere
# (scripts/lib/ggml-cpu-options.sh says why: ggml's AMX kernels crashed on Q4 models on these machines).
# shellcheck source=lib/ggml-cpu-options.sh
. "$script_dir/lib/ggml-cpu-options.sh"
while IFS= read -r option; do
  cmake_flags+=("-D$option")
done < <(j1_ggml_cpu_options)
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

log "cmake configure: ${cmake_flags[*]}"
cmake -S "$src" -B "$work/build" "${generator[@]}" "${cmake_flags[@]}"
log "cmake build --target llama-server -j$jobs"
cmake --build "$work/build" --config Release --target llama-server -j "$jobs"

built=$work/build/bin/llama-server
[ -x "$built" ] || built=$(find "$work/build" -type f -name llama-server -perm -u+x | head -n 1)
[ -n "$built" ] && [ -x "$built" ] || die "build finished but no llama-server binary was found under $work/build"

# --- stage & install atomically ----------------------------------------------------------
stage=$work/stage
mkdir -p "$stage/bin"
cp "$built" "$stage/bin/llama-server"
# With BUILD_SHARED_LIBS=OFF nothing of llama.cpp is shared, but copy any build-tree
# shared library the binary still links to, just in case (it has an $ORIGIN-less rpath).
if command -v ldd >/dev/null 2>&1; then
  while read -r lib; do
    [ -n "$lib" ] && cp -L "$lib" "$stage/bin/"
  done < <(ldd "$built" 2>/dev/null | awk -v w="$work/" 'index($3, w) == 1 { print $3 }')
fi
"$stage/bin/llama-server" --version >&2 2>&1 || die "the freshly built llama-server does not run --version"
{
  echo "llama.cpp tag: ${tag:-<none>}"
  echo "bundle: $bundle"
  echo "bundle ref: $bundle_ref"
  echo "commit: $bundle_commit"
  echo "recipe: $recipe"
  echo "cmake flags: ${generator[*]} ${cmake_flags[*]}"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm), -j$jobs, $(( $(date +%s) - start ))s"
} >"$stage/BUILD-INFO"

if [ -e "$install_dir" ]; then
  # A broken/partial previous install: move it out of the way first.
  old=$work/old-install
  mv "$install_dir" "$old"
fi
mv -T "$stage" "$install_dir"

log "installed $bin in $(( $(date +%s) - start ))s"
printf '%s\n' "$bin" >&3
