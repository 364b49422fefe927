// Causal depthwise conv1d (+ SiLU) over tokens [t0, t1) of one batch row, fp32, compiled
// once per SIMD level: vectorised over channels, the K taps tap by tap over blocks of
// channels small enough to stay in L1. Whole rows per token, so x and y stream through
// memory in order (the hardware prefetchers follow; column blocks of rows would not).
//   y[t,c] = act(bias[c] + Σ_{k<K} wT[k,c] · x̃[t-K+1+k, c])
// x [L, C] rows x_stride_t apart; x̃ before t = 0 is state [K-1, C] (NULL: zeros; read
// only here); wT [K, C] (the weights transposed); y [L, C] rows y_stride_t apart.
// conv1d_step_f32 (below) is the one-token (decode) case.
#include "vmath.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <vector>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void conv1d_rows_f32(const float* x, int64_t x_stride_t, int64_t C, int64_t K, const float* wT, const float* bias,
                     const float* state, float* y, int64_t y_stride_t, int64_t t0, int64_t t1, bool silu) {
    constexpr int64_t kBlock = 512;  // channels per pass: 2 KiB rows, K + 1 of them in L1
    std::vector<const float*> rows(static_cast<size_t>(K));
    std::vector<float> zeros(static_cast<size_t>(C), 0.0f);
    for (int64_t t = t0; t < t1; t++) {
        for (int64_t k = 0; k < K; k++) {
            int64_t s = t - K + 1 + k;  // source token; < 0 reads the state
            rows[size_t(k)] = s >= 0 ? x + s * x_stride_t : state ? state + (K - 1 + s) * C : zeros.data();
        }
        float* yt = y + t * y_stride_t;
        for (int64_t c0 = 0; c0 < C; c0 += kBlock) {
            const int64_t c1 = std::min(C, c0 + kBlock);
            const float* r0 = rows[0];
#pragma omp simd
            for (int64_t c = c0; c < c1; c++) yt[c] = (bias ? bias[c] : 0.0f) + wT[c] * r0[c];
            for (int64_t k = 1; k < K; k++) {
                const float* wk = wT + k * C;
                const float* rk = rows[size_t(k)];
#pragma omp simd
                for (int64_t c = c0; c < c1; c++) yt[c] += wk[c] * rk[c];
            }
            if (silu) {
#pragma omp simd
                for (int64_t c = c0; c < c1; c++) yt[c] = silu_approx(yt[c]);
            }
        }
    }
}

// One token (decode) of one batch row, from the weights as stored, w [C, K] (a transposed
// copy, as above, would be as much work as the step itself):
//   y[c] = act(bias[c] + Σ_{k<K-1} w[c,k] · state[k,c] + w[c,K-1] · x[c])
// state [K-1, C] (NULL: zeros).
void conv1d_step_f32(const float* x, int64_t C, int64_t K, const float* w, const float* bias, const float* state,
                     float* y, bool silu) {
    int64_t c = 0;
#if defined(__AVX512F__)
    // width 4 (Mamba's): 16 channels at a time, their 4 taps de-interleaved from the four
    // vectors w[c0·4 .. c0·4 + 63] in registers (a strided read per tap would be a gather)
    if (K == 4 && state) {
        const __m512i lo01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
        const __m512i lo23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
        const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        for (; c + 16 <= C; c += 16) {
            const float* wc = w + c * 4;
            const __m512 v0 = _mm512_loadu_ps(wc), v1 = _mm512_loadu_ps(wc + 16), v2 = _mm512_loadu_ps(wc + 32),
                         v3 = _mm512_loadu_ps(wc + 48);
            // [taps 0 | taps 1] and [taps 2 | taps 3] of channels c .. c+7, then of c+8 .. c+15
            const __m512 a01 = _mm512_permutex2var_ps(v0, lo01, v1), a23 = _mm512_permutex2var_ps(v0, lo23, v1);
            const __m512 b01 = _mm512_permutex2var_ps(v2, lo01, v3), b23 = _mm512_permutex2var_ps(v2, lo23, v3);
            const __m512 w0 = _mm512_permutex2var_ps(a01, first, b01), w1 = _mm512_permutex2var_ps(a01, second, b01);
            const __m512 w2 = _mm512_permutex2var_ps(a23, first, b23), w3 = _mm512_permutex2var_ps(a23, second, b23);
            __m512 acc = bias ? _mm512_loadu_ps(bias + c) : _mm512_setzero_ps();
            acc = _mm512_fmadd_ps(w3, _mm512_loadu_ps(x + c), acc);
            acc = _mm512_fmadd_ps(w0, _mm512_loadu_ps(state + c), acc);
            acc = _mm512_fmadd_ps(w1, _mm512_loadu_ps(state + C + c), acc);
            acc = _mm512_fmadd_ps(w2, _mm512_loadu_ps(state + 2 * C + c), acc);
            _mm512_storeu_ps(y + c, acc);
        }
        if (silu) {
#pragma omp simd
            for (int64_t i = 0; i < c; i++) y[i] = silu_approx(y[i]);
        }
    }
#endif
    const int64_t done = c;
#pragma omp simd
    for (int64_t i = done; i < C; i++) {
        float acc = (bias ? bias[i] : 0.0f) + w[i * K + K - 1] * x[i];
        if (state)
            for (int64_t k = 0; k < K - 1; k++) acc += w[i * K + k] * state[k * C + i];
        y[i] = silu ? silu_approx(acc) : acc;
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
