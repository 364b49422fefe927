// RMSNorm on the CPU, optionally after a fused residual add (DESIGN.md §3):
//   residual += x (fp32), then y = v / sqrt(mean(v²) + eps) · w  with v = residual or x.
// x, y [rows, dim] (dtype), w [dim] (weight_dtype), residual [rows, dim] fp32.
#include "../kernels.h"
#include "cpu.h"

#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, rmsnorm_row_f32,
                    (const float* v, const float* w, float* y, int64_t dim, float eps))

namespace mamba4j::cpu {

// The math line by line, in double: the reference every other version is tested against.
static void rmsnorm_reference(const mamba4j_rmsnorm_args& a) {
    std::vector<float> v(size_t(a.dim));
    for (int64_t r = 0; r < a.rows; r++) {
        for (int64_t i = 0; i < a.dim; i++) {
            float x = load(a.x, a.dtype, r * a.x_stride + i);
            if (a.residual) {
                float* res = a.residual + r * a.residual_stride;
                res[i] += x;
                x = res[i];
            }
            v[size_t(i)] = x;
        }
        double ss = 0;
        for (int64_t i = 0; i < a.dim; i++) ss += double(v[size_t(i)]) * v[size_t(i)];
        double inv = 1.0 / std::sqrt(ss / double(a.dim) + double(a.eps));
        for (int64_t i = 0; i < a.dim; i++)
            store(a.y, a.dtype, r * a.y_stride + i, float(v[size_t(i)] * inv * load(a.w, a.weight_dtype, i)));
    }
}

// Rows in parallel; each row converted to fp32 once, normalised by the SIMD row kernel.
static void rmsnorm_fast(const mamba4j_rmsnorm_args& a) {
    auto row_kernel = MAMBA4J_ISA_SELECT(rmsnorm_row_f32);
    const bool f32 = a.dtype == MAMBA4J_F32;
    std::vector<float> w(size_t(a.dim));
    for (int64_t i = 0; i < a.dim; i++) w[size_t(i)] = load(a.w, a.weight_dtype, i);
    parallel_region(a.rows * a.dim > 32768, [&] {
        std::vector<float> v(f32 ? 0 : size_t(a.dim)), out(f32 ? 0 : size_t(a.dim));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < a.rows; r++) {
            const float* src;
            if (a.residual) {
                float* res = a.residual + r * a.residual_stride;
                for (int64_t i = 0; i < a.dim; i++) res[i] += load(a.x, a.dtype, r * a.x_stride + i);
                src = res;
            } else if (f32) {
                src = static_cast<const float*>(a.x) + r * a.x_stride;
            } else {
                for (int64_t i = 0; i < a.dim; i++) v[size_t(i)] = load(a.x, a.dtype, r * a.x_stride + i);
                src = v.data();
            }
            if (f32) {
                row_kernel(src, w.data(), static_cast<float*>(a.y) + r * a.y_stride, a.dim, a.eps);
            } else {
                row_kernel(src, w.data(), out.data(), a.dim, a.eps);
                for (int64_t i = 0; i < a.dim; i++) store(a.y, a.dtype, r * a.y_stride + i, out[size_t(i)]);
            }
        }
    });
}

void rmsnorm(const mamba4j_rmsnorm_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) rmsnorm_reference(a);
    else rmsnorm_fast(a);
}

}  // namespace mamba4j::cpu
