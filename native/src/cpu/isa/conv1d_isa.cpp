// Causal depthwise conv1d (+ SiLU) over tokens [t0, t1) of one batch row, fp32, compiled
// once per SIMD level: vectorised over channels, the K taps tap by tap over blocks of
// channels small enough to stay in L1. Whole rows per token, so x and y stream through
// memory in order (the hardware prefetchers follow; column blocks of rows would not).
//   y[t,c] = act(bias[c] + Σ_{k<K} wT[k,c] · x̃[t-K+1+k, c])
// x [L, C] rows x_stride_t apart; x̃ before t = 0 is state [K-1, C] (NULL: zeros; read
// only here); wT [K, C] (the weights transposed); y [L, C] rows y_stride_t apart.
// conv1d_step_f32 (below) is the one-token (decode) case.
#include "vmath.h"

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
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
        float acc = (bias ? bias[c] : 0.0f) + w[c * K + K - 1] * x[c];
        if (state)
            for (int64_t k = 0; k < K - 1; k++) acc += w[c * K + k] * state[k * C + c];
        y[c] = silu ? silu_approx(acc) : acc;
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
