// Vectorisable elementwise math for the isa/*.cpp files: plain inline code (no libm call)
// that `#pragma omp simd` loops turn into SIMD code of each level.
#pragma once
#include <cstdint>
#include <cstring>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

// e^x for fp32, relative error < 2e-7 over the clamped range: x is clamped to
// [-87.3, 88] (so a NaN becomes finite here: callers multiply by x afterwards, which
// brings the NaN back), split x = n·ln2 + f with |f| <= ln2/2, e^f by a degree-6
// polynomial (Taylor coefficients; Horner), then scaled by 2^n through the exponent bits.
inline float vexp(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.0f ? 88.0f : x;
    const float t = x * 1.44269504088896341f;
    const float round = 12582912.0f;  // 1.5·2^23: adding it rounds t to an integer
    const float n = (t + round) - round;
    const float f = (x - n * 0.693145751953125f) - n * 1.42860682030941723212e-6f;
    float p = 1.0f / 720.0f;
    p = p * f + 1.0f / 120.0f;
    p = p * f + 1.0f / 24.0f;
    p = p * f + 1.0f / 6.0f;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    const int32_t bits = (int32_t(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, 4);
    return p * scale;
}

// silu(x) = x · sigmoid(x) = x / (1 + e^-x); NaN in, NaN out.
inline float vsilu(float x) { return x / (1.0f + vexp(-x)); }

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
