#!/usr/bin/env bash
# GPU tests and benchmarks on a CUDA host. Needs no JDK: a C++/CUDA toolchain with CMake to
# build, or prebuilt binaries; python3 with PyTorch + Triton for the peer benchmarks.
#
#   ci/gpu-test.sh OUT_DIR [--bin DIR] [--no-bench] [--java JRE_DIR JARS_DIR]
#
#   --bin DIR     take gpu_test_kernels and lib/libmamba4j.so from DIR (a CMake build folder)
#                 instead of building native/ with CMake (MAMBA4J_CUDA=ON, Release)
#   --no-bench    correctness only
#   --java J D    also run the Java tests found in the jars of D with the jlink'd runtime J
#                 (J/bin/java; D must hold junit-platform-console-standalone*.jar), against
#                 the same libmamba4j.so, with MAMBA4J_TEST_CUDA=1; J and D are made by
#                 ci/gpu-java-pack.sh DIR (on a machine with the JDK) as DIR/.jre, DIR/jars
#
# Writes to OUT_DIR: summary.md (a short table), gpu-test.log (every assertion),
# bench.log (our timings), peers.log (peer timings, ceilings), build.log, java.log
# (and java-reports/, the JUnit XML reports).
# Exit status: non-zero when a test failed or could not run (no device is a failure here:
# this script exists to run on a GPU).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: ci/gpu-test.sh OUT_DIR [--bin DIR] [--no-bench] [--java JRE JARS]}"; shift
BIN=""; BENCH=1; JRE=""; JARS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --no-bench) BENCH=0; shift ;;
    --java) JRE="$2"; JARS="$3"; shift 3 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
status=0

if [ -z "$BIN" ]; then
  BIN="${BUILD_DIR:-/tmp/mamba4j-gpu-build}"
  echo "== building native/ with CUDA into $BIN"
  if ! { cmake -S "$ROOT/native" -B "$BIN" -DMAMBA4J_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" && \
        cmake --build "$BIN" -j"$(nproc)" --target mamba4j gpu_test_kernels; } >"$OUT/build.log" 2>&1; then
    echo "BUILD FAILED (see build.log)"; tail -30 "$OUT/build.log"; exit 1
  fi
fi
# cuBLAS for mamba4j_matmul is loaded at run time (native/src/cuda/cublas_loader.h): when
# MAMBA4J_CUBLAS is not set, point it at the libcublas of the Python install (PyTorch's CUDA
# wheels: site-packages/nvidia/cu13/lib for CUDA 13, nvidia/cublas/lib for CUDA 12).
if [ -z "${MAMBA4J_CUBLAS:-}" ]; then
  found=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = []
try:
    import nvidia
    roots += list(nvidia.__path__)
except Exception:
    pass
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    roots.append(os.path.join(sp, "nvidia"))
for ver in ("13", "12"):
    for r in roots:
        hits = sorted(glob.glob(os.path.join(r, "**", "libcublas.so." + ver), recursive=True))
        if hits:
            print(hits[0])
            sys.exit(0)
EOF
)
  if [ -n "$found" ]; then
    export MAMBA4J_CUBLAS="$found"
    echo "MAMBA4J_CUBLAS=$found (found in the Python install)"
  else
    echo "MAMBA4J_CUBLAS not set and no libcublas.so.13/.12 in the Python install: the default library search decides"
  fi
else
  echo "MAMBA4J_CUBLAS=$MAMBA4J_CUBLAS (from the environment)"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv >"$OUT/device.txt" 2>&1 || true
cat "$OUT/device.txt"

echo "== GPU kernel tests (gpu_test_kernels)"
"$BIN/gpu_test_kernels" >"$OUT/gpu-test.log" 2>&1
rc=$?
grep -E "^(FAIL|SKIP)|passed, .* failed|^device" "$OUT/gpu-test.log"
if [ $rc -ne 0 ]; then echo "GPU kernel tests: exit status $rc"; status=1; fi

if [ "$BENCH" = 1 ]; then
  echo "== benchmarks"
  "$BIN/gpu_test_kernels" --bench >"$OUT/bench.log" 2>&1 || { echo "bench failed"; tail "$OUT/bench.log"; status=1; }
  if python3 -c "import torch, triton" 2>/dev/null; then
    PYTHONUNBUFFERED=1 python3 "$ROOT/ci/gpu_bench.py" peers >"$OUT/peers.log" 2>&1 || { echo "peers failed"; tail -20 "$OUT/peers.log"; }
  else
    echo "no python3 with torch+triton: peers not measured" | tee "$OUT/peers.log"
  fi
  {
    echo "# mamba4j CUDA kernels — $(head -2 "$OUT/device.txt" | tail -1), $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    grep -E "passed, .* failed" "$OUT/gpu-test.log" | sed 's/^/tests: /'
    echo
    python3 "$ROOT/ci/gpu_bench.py" table "$OUT/bench.log" "$OUT/peers.log"
    echo
    grep "^ACC" "$OUT/peers.log" || true
  } >"$OUT/summary.md"
  cat "$OUT/summary.md"
fi

if [ -n "$JRE" ]; then
  # The jars come from ci/gpu-java-pack.sh. The launcher scans the jars named in --class-path
  # (its own jar left out: it is the system class path already); a jlink'd runtime needs
  # jdk.zipfs for that, else it finds no tests, which --fail-if-no-tests turns into a failure.
  # LibraryTest and NativeDownloaderTest test loading and downloading the native jars of a
  # Maven build (native/target), which this host does not have: CI runs them.
  echo "== Java tests with $JRE"
  console=$(ls "$JARS"/junit-platform-console-standalone*.jar 2>/dev/null | head -1)
  if [ -z "$console" ]; then
    echo "no junit-platform-console-standalone jar in $JARS: Java tests NOT run" | tee "$OUT/java.log"; status=1
  else
    MAMBA4J_TEST_CUDA=1 "$JRE/bin/java" --enable-native-access=ALL-UNNAMED \
      -Dmamba4j.library.path="$BIN/lib/libmamba4j.so" -Dmamba4j.header="$ROOT/native/include/mamba4j.h" \
      -jar "$console" execute --disable-ansi-colors --details=tree --fail-if-no-tests \
      --class-path "$(ls "$JARS"/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')" --scan-class-path \
      --exclude-classname '.*\.(LibraryTest|NativeDownloaderTest)$' \
      --reports-dir "$OUT/java-reports" >"$OUT/java.log" 2>&1 || status=1
    # with MAMBA4J_TEST_CUDA=1 nothing may skip (a CUDA test that skipped did not run)
    if grep -E "^\[ +[1-9][0-9]* (tests|containers) skipped" "$OUT/java.log"; then
      echo "Java tests were skipped: MAMBA4J_TEST_CUDA=1 did not reach them?"; status=1
    fi
    grep -E "^(ok  |  JUnit Jupiter:|    => )" "$OUT/java.log" | head -100
    tail -15 "$OUT/java.log"
  fi
fi
exit $status
