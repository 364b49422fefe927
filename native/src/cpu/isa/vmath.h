// Elementwise math that the compiler vectorises at every SIMD level (no library calls
// inside `omp simd` loops). Included by src/cpu/isa/*.cpp only, so each level gets its
// own copy in its own namespace.
#pragma once
#include <cstdint>
#include <cstring>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

// e^x, relative error about 2e-7 (Cody-Waite reduction, degree-6 polynomial).
// Flushes to 0 below -87.3 (no denormals) and saturates at e^88.7.
static inline float exp_approx(float x) {
    const float big = 12582912.0f;  // 1.5 · 2^23: adding it rounds to an integer
    float xc = x > 88.7f ? 88.7f : x;
    xc = xc < -87.3f ? -87.3f : xc;
    float k = (xc * 1.44269504088896341f + big) - big;
    float r = xc - k * 0.693145751953125f;
    r = r - k * 1.428606765330187e-06f;
    float p = 1.3888889e-3f;
    p = p * r + 8.3333333e-3f;
    p = p * r + 4.1666667e-2f;
    p = p * r + 1.6666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = (int32_t(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, 4);
    float e = p * scale;
    return x < -87.3f ? 0.0f : e;
}

static inline float silu_approx(float x) { return x / (1.0f + exp_approx(-x)); }

// log(1 + u) for u in [0, 1], relative error about 1e-7: log(1+u) = 2·atanh(s) with
// s = u / (2 + u), or, above √2 − 1, log((1+u)/2) + log 2 with s = (u − 1) / (u + 3).
static inline float log1p_01(float u) {
    bool hi = u > 0.41421356f;
    float s = hi ? (u - 1.0f) / (u + 3.0f) : u / (2.0f + u);
    float s2 = s * s;
    float p = 0.22222222f;  // 2/9
    p = p * s2 + 0.28571429f;
    p = p * s2 + 0.4f;
    p = p * s2 + 0.66666667f;
    p = p * s2 + 2.0f;
    return p * s + (hi ? 0.69314718f : 0.0f);
}

// softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|); x itself above 20.
static inline float softplus_approx(float x) {
    float ax = x < 0.0f ? -x : x;
    float sp = (x > 0.0f ? x : 0.0f) + log1p_01(exp_approx(-ax));
    return x > 20.0f ? x : sp;
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
