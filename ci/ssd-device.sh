#!/usr/bin/env bash
# SSD-only device run (helper for the chunked-prefill work): build, ssd tests, ssd bench,
# the ssd peers in the same run, optional Nsight Compute per-kernel times.
#   ci/ssd-device.sh OUT [ncu]      (VARIANTS="ENV=1 ..." also tests and benches each variant)
set -uo pipefail
OUT="$1"; B=/tmp/b
cmake -S native -B $B -DMAMBA4J_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 >$OUT/build.log 2>&1 &&
  cmake --build $B -j16 --target gpu_test_kernels >>$OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >$OUT/device.txt 2>&1
{ $B/gpu_test_kernels ssd; echo "tests rc=$?"; for v in ${VARIANTS:-}; do echo "== variant $v"; env $v $B/gpu_test_kernels ssd; echo "tests rc=$? ($v)"; done; } >$OUT/test.log 2>&1
bench() { $B/gpu_test_kernels --bench ssd_chunked; for v in ${VARIANTS:-}; do echo "== variant $v"; env $v $B/gpu_test_kernels --bench ssd_chunked; done; }
bench >$OUT/bench_all.log 2>&1
PYTHONPATH=$PWD/../py PYTHONUNBUFFERED=1 python3 ci/gpu_bench.py peers ssd >$OUT/peers.log 2>&1
bench >>$OUT/bench_all.log 2>&1
$B/gpu_test_kernels --bench ssd_chunked >$OUT/bench.log 2>&1
if [ "${2:-}" = ncu ] && command -v ncu >/dev/null; then
  { timeout 100 ncu --section SpeedOfLight -k regex:ssd --launch-skip 6 --launch-count 3 $B/gpu_test_kernels --bench ssd_chunked_L16384
    for v in ${VARIANTS:-}; do echo "== variant $v"; env $v timeout 100 ncu --section SpeedOfLight -k regex:ssd --launch-skip 8 --launch-count 4 $B/gpu_test_kernels --bench ssd_chunked_L16384; done
  } >$OUT/ncu.log 2>&1
fi
python3 ci/gpu_bench.py table $OUT/bench.log $OUT/peers.log >$OUT/table.md 2>&1
grep -E "FAIL|passed|rc=" $OUT/test.log | tail -15; cat $OUT/device.txt; grep -E "BENCH|variant" $OUT/bench_all.log; cat $OUT/table.md; grep -E "PEER|ACC|CEIL" $OUT/peers.log
[ -f $OUT/ncu.log ] && grep -E "void ssd_|Duration|variant" $OUT/ncu.log | sed 's/(mamba4j_ssd_args.*//'
