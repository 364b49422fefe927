// RMSNorm of one fp32 row, compiled once per SIMD level (see cpu.h): plain loops that
// the compiler vectorises with the level's flags. y may alias v.
#include <cmath>
#include <cstdint>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void rmsnorm_row_f32(const float* v, const float* w, float* y, int64_t dim, float eps) {
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < dim; i++) ss += v[i] * v[i];
    const float inv = 1.0f / std::sqrt(ss / float(dim) + eps);
#pragma omp simd
    for (int64_t i = 0; i < dim; i++) y[i] = v[i] * inv * w[i];
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
