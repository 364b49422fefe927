// Elementwise math that the compiler vectorises at every SIMD level (no library calls
// inside `omp simd` loops). Included by src/cpu/isa/*.cpp only, so each level gets its
// own copy in its own namespace.
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

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

// Σ_i a[i]·b[i] over n floats, the vector lanes summed in registers. (A `+` reduction in
// an `omp simd` loop is summed through the stack one lane at a time: on a short loop,
// e.g. one state row per channel in a decode step, that serial sum dominates the loop.)
static inline float dot_f32(const float* a, const float* b, int64_t n) {
    int64_t i = 0;
    float s = 0.0f;
#if defined(__AVX512F__)
    __m512 acc = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    s = _mm512_reduce_add_ps(acc);
#elif defined(__AVX2__)
    __m256 acc = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    s = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
#endif
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
