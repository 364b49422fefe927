#!/usr/bin/env bash
# CPU kernel benchmarks: builds the native library and every native/bench/bench_*.cpp
# (Release, CUDA off) in build/bench, runs each bench_* executable found there, and prints
# one table: per case the median time, GB/s or GFLOP/s, and the fraction of the memory
# read bandwidth measured in the same run (each bench measures it itself: see
# native/bench/bench_common.h). Native only: no JDK needed.
#   ci/bench-cpu.sh [--quick] [--models] [--llama-bench PATH]
#     --quick: smaller buffers, fewer repetitions
#     --models: then also time whole models (random bf16 weights of real shapes: Mamba-1
#               130m, Mamba-2 130m, hybrid M-M*-M-M-M*-, SmolLM2-135M-like Llama) through the
#               Java runtime at 2 threads (bin/mamba4j bench-models; needs a JDK >= 25)
#     --llama-bench PATH: with --models, time llama.cpp's llama-bench (built by you) on the
#               same weights as GGUF, runs alternated with ours, and print the ratios
# Environment: MAMBA4J_SIMD=scalar|avx2|avx512 lowers the SIMD level, as for the library.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build/bench"
args=()
models=0
peer=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(--quick) ;;
    --models) models=1 ;;
    --llama-bench) [ $# -ge 2 ] || { echo "--llama-bench needs a path" >&2; exit 2; }; peer=(--llama-bench "$2"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ ${#peer[@]} -gt 0 ] && [ "$models" = 0 ]; then echo "--llama-bench needs --models" >&2; exit 2; fi

cmake -S "$ROOT/native" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMAMBA4J_CUDA=OFF -DMAMBA4J_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

echo "# mamba4j CPU benchmarks $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
mapfile -t benches < <(find "$BUILD" -maxdepth 1 -type f -name 'bench_*' -perm -u+x | sort)
if [ "${#benches[@]}" -eq 0 ]; then echo "no bench_* executables in $BUILD" >&2; exit 1; fi
status=0
first=1
for b in "${benches[@]}"; do
  if [ "$first" = 1 ]; then
    "$b" "${args[@]}" || status=$?
    first=0
  else
    BENCH_NO_HEADER=1 "$b" "${args[@]}" || status=$?
  fi
done
if [ "$models" = 1 ]; then
  if [ "${#args[@]}" -gt 0 ]; then "$ROOT/bin/mamba4j" bench-models --threads 2 --runs 1 --prompt 128 --generate 32 "${peer[@]}" || status=$?
  else "$ROOT/bin/mamba4j" bench-models --threads 2 --runs 5 "${peer[@]}" || status=$?; fi
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
