#!/usr/bin/env bash
# SSD-only device run (helper for the chunked-prefill work): build, ssd tests, ssd bench,
# the ssd peers in the same run, optional Nsight Compute per-kernel times.
#   ci/ssd-device.sh OUT [ncu]
set -uo pipefail
OUT="$1"; B=/tmp/b
cmake -S native -B $B -DMAMBA4J_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 >$OUT/build.log 2>&1 &&
  cmake --build $B -j16 --target gpu_test_kernels >>$OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >$OUT/device.txt 2>&1
$B/gpu_test_kernels ssd >$OUT/test.log 2>&1; echo "tests rc=$?" >>$OUT/test.log
{ $B/gpu_test_kernels --bench ssd_chunked; for hs in ${HS_LIST:-}; do echo "HS=$hs"; MAMBA4J_SSD_HS=$hs $B/gpu_test_kernels --bench ssd_chunked; done; } >$OUT/bench.log 2>&1
PYTHONPATH=$PWD/../py PYTHONUNBUFFERED=1 python3 ci/gpu_bench.py peers ssd >$OUT/peers.log 2>&1
$B/gpu_test_kernels --bench ssd_chunked >>$OUT/bench.log 2>&1
if [ "${2:-}" = ncu ] && command -v ncu >/dev/null; then
  timeout 150 ncu --section SpeedOfLight --section Occupancy --section WarpStateStats --section SchedulerStats \
    --section MemoryWorkloadAnalysis -k regex:ssd --launch-skip 6 --launch-count 3 $B/gpu_test_kernels --bench ssd_chunked_L16384 >$OUT/ncu.log 2>&1
fi
python3 ci/gpu_bench.py table $OUT/bench.log $OUT/peers.log >$OUT/table.md 2>&1
grep -E "FAIL|passed|rc=" $OUT/test.log | tail -15; cat $OUT/device.txt $OUT/bench.log $OUT/table.md; grep -E "PEER|ACC|CEIL" $OUT/peers.log
[ -f $OUT/ncu.log ] && grep -E "ssd_|Duration|Throughput|Achieved Occ|Stall|stall|Issued Warp|No Eligible|Warp Cycles" $OUT/ncu.log | head -80
