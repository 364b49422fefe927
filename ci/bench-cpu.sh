#!/usr/bin/env bash
# CPU kernel benchmarks: builds the native library and every native/bench/bench_*.cpp
# (Release, CUDA off) in build/bench, runs each bench_* executable found there, and prints
# one table: per case the median time, GB/s or GFLOP/s, and the fraction of the memory
# read bandwidth measured in the same run (each bench measures it itself: see
# native/bench/bench_common.h). Native only: no JDK needed.
#   ci/bench-cpu.sh [--quick]      --quick: smaller buffers, fewer repetitions
# Environment: MAMBA4J_SIMD=scalar|avx2|avx512 lowers the SIMD level, as for the library.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build/bench"
args=()
for a in "$@"; do
  case "$a" in
    --quick) args+=(--quick) ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $a (see --help)" >&2; exit 2 ;;
  esac
done

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
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
