// Gated RMSNorm of one fp32 row, compiled once per SIMD level (see cpu.h). Per group of
// group_size channels (g = i / group_size):
//   norm_before_gate == 0:  v = x ⊙ silu(z);  y = v / sqrt(mean_g(v²) + eps) · w
//   norm_before_gate == 1:  y = x / sqrt(mean_g(x²) + eps) · w ⊙ silu(z)
// z may be null (no gate). v is scratch [dim]; y may alias x or v.
#include <cmath>

#include "vmath.h"

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void gated_rmsnorm_row_f32(const float* x, const float* z, const float* w, float* v, float* y, int64_t dim,
                           int64_t group_size, float eps, int norm_before_gate) {
    const float* src = x;
    if (z != nullptr && !norm_before_gate) {
#pragma omp simd
        for (int64_t i = 0; i < dim; i++) v[i] = x[i] * silu_approx(z[i]);
        src = v;
    }
    for (int64_t g0 = 0; g0 < dim; g0 += group_size) {
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = g0; i < g0 + group_size; i++) ss += src[i] * src[i];
        const float inv = 1.0f / std::sqrt(ss / float(group_size) + eps);
        if (z != nullptr && norm_before_gate) {
#pragma omp simd
            for (int64_t i = g0; i < g0 + group_size; i++) y[i] = src[i] * inv * w[i] * silu_approx(z[i]);
        } else {
#pragma omp simd
            for (int64_t i = g0; i < g0 + group_size; i++) y[i] = src[i] * inv * w[i];
        }
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
