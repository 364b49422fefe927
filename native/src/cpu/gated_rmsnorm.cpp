// Gated RMSNorm of Mamba-2 on the CPU (DESIGN.md §3 SSD block), per group of group_size
// channels (G = dim / group_size groups; group_size == dim is HF Mamba2's norm over E):
//   norm_before_gate == 0:  v = x ⊙ silu(z);  y = v / sqrt(mean_g(v²) + eps) · w
//   norm_before_gate == 1:  y = x / sqrt(mean_g(x²) + eps) · w ⊙ silu(z)
// x, z, y [rows, dim] (dtype, row strides), w [dim] (weight_dtype); z NULL: no gate.
#include "../kernels.h"
#include "cpu.h"

#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, gated_rmsnorm_row_f32,
                    (const float* x, const float* z, const float* w, float* v, float* y, int64_t dim,
                     int64_t group_size, float eps, int norm_before_gate))

namespace mamba4j::cpu {

static double silu_d(double z) { return z / (1.0 + std::exp(-z)); }

// The math line by line, in double.
static void gated_rmsnorm_reference(const mamba4j_gated_rmsnorm_args& a) {
    std::vector<double> v(size_t(a.dim));
    for (int64_t r = 0; r < a.rows; r++) {
        for (int64_t i = 0; i < a.dim; i++) {
            double x = load(a.x, a.dtype, r * a.x_stride + i);
            if (a.z && !a.norm_before_gate) x *= silu_d(load(a.z, a.dtype, r * a.z_stride + i));
            v[size_t(i)] = x;
        }
        for (int64_t g0 = 0; g0 < a.dim; g0 += a.group_size) {
            double ss = 0;
            for (int64_t i = g0; i < g0 + a.group_size; i++) ss += v[size_t(i)] * v[size_t(i)];
            const double inv = 1.0 / std::sqrt(ss / double(a.group_size) + double(a.eps));
            for (int64_t i = g0; i < g0 + a.group_size; i++) {
                double y = v[size_t(i)] * inv * load(a.w, a.weight_dtype, i);
                if (a.z && a.norm_before_gate) y *= silu_d(load(a.z, a.dtype, r * a.z_stride + i));
                store(a.y, a.dtype, r * a.y_stride + i, float(y));
            }
        }
    }
}

// Rows in parallel, each through the SIMD row kernel in fp32 (copies for bf16 / f16).
static void gated_rmsnorm_fast(const mamba4j_gated_rmsnorm_args& a) {
    auto row_kernel = MAMBA4J_ISA_SELECT(gated_rmsnorm_row_f32);
    const bool f32 = a.dtype == MAMBA4J_F32;
    std::vector<float> w(size_t(a.dim));
    for (int64_t i = 0; i < a.dim; i++) w[size_t(i)] = load(a.w, a.weight_dtype, i);
    parallel_region(a.rows * a.dim > 32768, [&] {
        const size_t d = size_t(a.dim);
        std::vector<float> v(d), xs(f32 ? 0 : d), zs(f32 || !a.z ? 0 : d);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < a.rows; r++) {
            if (f32) {
                row_kernel(static_cast<const float*>(a.x) + r * a.x_stride,
                           a.z ? static_cast<const float*>(a.z) + r * a.z_stride : nullptr, w.data(), v.data(),
                           static_cast<float*>(a.y) + r * a.y_stride, a.dim, a.group_size, a.eps, a.norm_before_gate);
                continue;
            }
            for (int64_t i = 0; i < a.dim; i++) xs[size_t(i)] = load(a.x, a.dtype, r * a.x_stride + i);
            if (a.z)
                for (int64_t i = 0; i < a.dim; i++) zs[size_t(i)] = load(a.z, a.dtype, r * a.z_stride + i);
            row_kernel(xs.data(), a.z ? zs.data() : nullptr, w.data(), v.data(), xs.data(), a.dim, a.group_size, a.eps,
                       a.norm_before_gate);
            for (int64_t i = 0; i < a.dim; i++) store(a.y, a.dtype, r * a.y_stride + i, xs[size_t(i)]);
        }
    });
}

void gated_rmsnorm(const mamba4j_gated_rmsnorm_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) gated_rmsnorm_reference(a);
    else gated_rmsnorm_fast(a);
}

}  // namespace mamba4j::cpu
