# Sourced by scripts/build-llama-server.sh and scripts/build-node-llama-cpp.sh: the ggml CPU options
# for building llama.cpp natively on this machine, one KEY=VALUE a line on stdout (no -D; each build
# script passes them its own way: cmake -D for llama-server, NODE_LLAMA_CPP_CMAKE_OPTION_* for
# node-llama-cpp).
#
# x86: this CPU's instruction sets, named one by one from /proc/cpuinfo, never AMX. With GGML_NATIVE=ON
# on a CPU that reports AMX (Sapphire Rapids), -march=native turns on ggml's AMX kernels, and on these
# machines the freshly built server died with SIGSEGV in ggml_backend_amx_mul_mat while loading any Q4
# model (SmolLM2 Q4_1, Gemma 3 Q4_K_M; the F32 tiny model loaded), though the kernel granted the AMX
# tile state (docs/engine-facts.md). Elsewhere (ARM and others) -march=native (GGML_NATIVE=ON).
#
# j1_cpu_flags prints the line of /proc/cpuinfo the options are read from (empty off x86 Linux): a build
# records it, so a build made on another CPU is not used here.

j1_cpu_flags() {
  if [ "$(uname -m)" = "x86_64" ] && [ -r /proc/cpuinfo ]; then
    grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
  fi
}

j1_ggml_cpu_options() {
  local flags
  flags=$(j1_cpu_flags)
  if [ -z "$flags" ]; then
    echo "GGML_NATIVE=ON"
    return
  fi
  flags=" $flags "
  _j1_has() {
    local flag
    for flag in "$@"; do case "$flags" in *" $flag "*) ;; *) echo OFF; return ;; esac; done
    echo ON
  }
  echo "GGML_NATIVE=OFF"
  echo "GGML_SSE42=$(_j1_has sse4_2)"
  echo "GGML_AVX=$(_j1_has avx)"
  echo "GGML_AVX2=$(_j1_has avx2)"
  echo "GGML_FMA=$(_j1_has fma)"
  echo "GGML_F16C=$(_j1_has f16c)"
  echo "GGML_BMI2=$(_j1_has bmi2)"
  echo "GGML_AVX_VNNI=$(_j1_has avx_vnni)"
  echo "GGML_AVX512=$(_j1_has avx512f avx512cd avx512vl avx512dq avx512bw)"
  echo "GGML_AVX512_VBMI=$(_j1_has avx512vbmi)"
  echo "GGML_AVX512_VNNI=$(_j1_has avx512_vnni)"
  echo "GGML_AVX512_BF16=$(_j1_has avx512_bf16)"
  echo "GGML_AMX_TILE=OFF"
  echo "GGML_AMX_INT8=OFF"
  echo "GGML_AMX_BF16=OFF"
  unset -f _j1_has
}
