// Matmul / matvec on the CPU (DESIGN.md §3, the workhorse of decode):
//   y[i, j] = (accumulate ? y[i, j] : 0) + Σ_k x[i, k] · W[j, k] + bias[j]
// x [m, k] (dtype, row stride x_stride), W [n, k] (weight_dtype F32 or BF16, PyTorch
// order (out, in), contiguous), bias [n] fp32 or NULL, y [m, n] (dtype, row stride
// y_stride). Accumulation in fp32 (the reference: in double).
//
// Fast path: threads split n (W rows), so every W byte is read by exactly one thread;
// the SIMD micro-kernels are in isa/matmul_isa.cpp. For m == 1 with bf16 W, two
// matvec variants exist: "fma" (default: W widened to fp32 in registers, x exact) and
// "dpbf16" (AVX-512 BF16 vdpbf16ps; x rounded to bf16 once per call), chosen with the
// environment variable MAMBA4J_BF16_MATVEC=fma|dpbf16 read at first use. docs/perf.md
// has the measurements behind the default. For m > 1 with bf16 W on AVX-512 BF16, x is
// rounded to bf16 once per call and multiplied by vdpbf16ps (twice the fp32 FMA rate;
// NMSE ~3e-6), unless MAMBA4J_BF16_MATMUL=fp32.
#include "../kernels.h"
#include "cpu.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

MAMBA4J_ISA_DECLARE(void, matmul_block,
                    (const float* x, int64_t x_stride, int64_t m, const void* w, int w_bf16, int64_t k,
                     const float* bias, float* y, int64_t y_stride, int64_t n0, int64_t n1, int accumulate))
MAMBA4J_ISA_DECLARE(void, pack_x_bf16,
                    (const float* x, int64_t x_stride, int64_t k, uint16_t* xb, int64_t kp, int64_t i0, int64_t i1))
MAMBA4J_ISA_DECLARE(void, matmul_block_dpbf16,
                    (const uint16_t* xb, int64_t kp, int64_t i0, int64_t i1, const uint16_t* w, int64_t k,
                     const float* bias, float* y, int64_t y_stride, int64_t n0, int64_t n1, int accumulate))
MAMBA4J_ISA_DECLARE(void, matvec_bf16_dpbf16,
                    (const uint16_t* xb, const uint16_t* w, int64_t k, const float* bias, float* y, int64_t n0,
                     int64_t n1, int accumulate))

namespace mamba4j::cpu {

// The math line by line, accumulating in double: the reference of every other version.
static void matmul_reference(const mamba4j_matmul_args& a) {
    for (int64_t i = 0; i < a.m; i++)
        for (int64_t j = 0; j < a.n; j++) {
            double s = 0;
            for (int64_t kk = 0; kk < a.k; kk++)
                s += double(load(a.x, a.dtype, i * a.x_stride + kk)) * double(load(a.w, a.weight_dtype, j * a.k + kk));
            if (a.bias) s += a.bias[j];
            if (a.accumulate) s += load(a.y, a.dtype, i * a.y_stride + j);
            store(a.y, a.dtype, i * a.y_stride + j, float(s));
        }
}

static bool use_dpbf16() {
    static const bool on = [] {
        const char* v = std::getenv("MAMBA4J_BF16_MATVEC");
        return v != nullptr && std::strcmp(v, "dpbf16") == 0;
    }();
    return on;
}

// Prefill (m > 1) with bf16 W: x rounded to bf16 and vdpbf16ps (AVX-512 BF16) unless
// MAMBA4J_BF16_MATMUL=fp32 (read at first use) asks for exact fp32 x.
static bool prefill_dpbf16() {
    static const bool on = [] {
        const char* v = std::getenv("MAMBA4J_BF16_MATMUL");
        return v == nullptr || std::strcmp(v, "fp32") != 0;
    }();
    return on && simd_in_use() == MAMBA4J_SIMD_AVX512;
}

// Work items of the m > 1 product: blocks of 64 W rows, and, when those are fewer than
// 8 per thread (n = 192 gives 3 blocks: one thread would idle a third of the time), the
// m rows in `parts` ranges too. for_each_item(fn) calls fn(i0, i1, n0, n1) per item,
// items spread over the threads in order.
template <class F>
static void for_each_item(int64_t m, int64_t n, int nthreads, bool parallel, F&& fn) {
    const int64_t block = 64, blocks = (n + block - 1) / block;
    int64_t parts = parallel ? (8 * int64_t(nthreads) + blocks - 1) / blocks : 1;
    parts = std::min<int64_t>(parts, std::max<int64_t>(1, m / 24));  // ranges of at least 24 rows
    const int64_t rows = ((m + parts - 1) / parts + 5) / 6 * 6;      // a multiple of the 6-row tile
    parts = (m + rows - 1) / rows;
#pragma omp for schedule(dynamic, 1)
    for (int64_t item = 0; item < blocks * parts; item++) {
        const int64_t b = item / parts, part = item % parts;
        const int64_t n0 = b * block, n1 = std::min(n, n0 + block);
        const int64_t i0 = part * rows, i1 = std::min(m, i0 + rows);
        fn(i0, i1, n0, n1);
    }
}

// Splits [0, n) into per-thread ranges aligned to 16 rows (the matvec streams one range
// per thread) or, for m > 1, into blocks of 64 rows handed out in order.
static void matmul_fast(const mamba4j_matmul_args& a) {
    const int64_t m = a.m, n = a.n, k = a.k;
    const bool w_bf16 = a.weight_dtype == MAMBA4J_BF16;

    // fp32 views of x and y (copies only for bf16 / f16 activations)
    const float* x = static_cast<const float*>(a.x);
    int64_t x_stride = a.x_stride;
    std::vector<float> x32, y32;
    if (a.dtype != MAMBA4J_F32) {
        x32.resize(size_t(m * k));
        for (int64_t i = 0; i < m; i++)
            for (int64_t kk = 0; kk < k; kk++) x32[size_t(i * k + kk)] = load(a.x, a.dtype, i * a.x_stride + kk);
        x = x32.data();
        x_stride = k;
    }
    float* y = static_cast<float*>(a.y);
    int64_t y_stride = a.y_stride;
    if (a.dtype != MAMBA4J_F32) {
        y32.resize(size_t(m * n));
        if (a.accumulate)
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) y32[size_t(i * n + j)] = load(a.y, a.dtype, i * a.y_stride + j);
        y = y32.data();
        y_stride = n;
    }

    const int nthreads = threads();
    const double work = double(m) * double(n) * double(k);
    const bool parallel = nthreads > 1 && work >= 65536.0;

    // m == 1: one range of W rows per thread (a multiple of 16 rows), streamed once; on the
    // calling thread alone when the work is small (parallel_region, no team set up)
    auto matvec_rows = [&](auto&& run) {
        parallel_region(parallel, [&] {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            int64_t per = (n + nt - 1) / nt;
            per = (per + 15) / 16 * 16;
            const int64_t n0 = std::min<int64_t>(n, t * per), n1 = std::min<int64_t>(n, n0 + per);
            if (n0 < n1) run(n0, n1);
        });
    };
    if (m == 1 && w_bf16 && simd_in_use() == MAMBA4J_SIMD_AVX512 && use_dpbf16()) {
        std::vector<uint16_t> xb(static_cast<size_t>(k));
        for (int64_t kk = 0; kk < k; kk++) xb[size_t(kk)] = f32_to_bf16(x[kk]);
        auto kernel = MAMBA4J_ISA_SELECT(matvec_bf16_dpbf16);
        const uint16_t* w = static_cast<const uint16_t*>(a.w);
        matvec_rows([&](int64_t n0, int64_t n1) { kernel(xb.data(), w, k, a.bias, y, n0, n1, a.accumulate); });
    } else if (m == 1) {
        auto kernel = MAMBA4J_ISA_SELECT(matmul_block);
        matvec_rows([&](int64_t n0, int64_t n1) {
            kernel(x, x_stride, m, a.w, w_bf16, k, a.bias, y, y_stride, n0, n1, a.accumulate);
        });
    } else {
        auto kernel = MAMBA4J_ISA_SELECT(matmul_block);
        if (w_bf16 && prefill_dpbf16()) {
            const int64_t kp = k + (k & 1);  // rows of xb: pairs along k, the pad column 0
            std::unique_ptr<uint16_t[]> xb(new uint16_t[size_t(m * kp)]);
            auto pack = MAMBA4J_ISA_SELECT(pack_x_bf16);
            auto block = MAMBA4J_ISA_SELECT(matmul_block_dpbf16);
            const uint16_t* w = static_cast<const uint16_t*>(a.w);
#pragma omp parallel num_threads(nthreads) if (parallel)
            {
                const int t = omp_get_thread_num(), nt = omp_get_num_threads();
                const int64_t per = (m + nt - 1) / nt, r0 = std::min<int64_t>(m, t * per);
                pack(x, x_stride, k, xb.get(), kp, r0, std::min(m, r0 + per));
#pragma omp barrier
                for_each_item(m, n, nthreads, parallel, [&](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
                    block(xb.get(), kp, i0, i1, w, k, a.bias, y, y_stride, n0, n1, a.accumulate);
                });
            }
        } else {
#pragma omp parallel num_threads(nthreads) if (parallel)
            for_each_item(m, n, nthreads, parallel, [&](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
                kernel(x + i0 * x_stride, x_stride, i1 - i0, a.w, w_bf16, k, a.bias, y + i0 * y_stride, y_stride, n0,
                       n1, a.accumulate);
            });
        }
    }

    if (a.dtype != MAMBA4J_F32)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) store(a.y, a.dtype, i * a.y_stride + j, y32[size_t(i * n + j)]);
}

void matmul(const mamba4j_matmul_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) matmul_reference(a);
    else matmul_fast(a);
}

}  // namespace mamba4j::cpu
