// Causal depthwise conv1d (+ SiLU) over one block of channels of one batch row, fp32,
// compiled once per SIMD level: vectorised over channels, the K taps in the inner loop.
//   y[t,c] = act(bias[c] + Σ_{k<K} wT[k,c] · x̃[t-K+1+k, c])
// x [L, C] rows x_stride_t apart; x̃ before t = 0 is state [K-1, C] (NULL: zeros);
// wT [K, C] (the weights transposed); y [L, C] rows y_stride_t apart.
// Then the state becomes the last K-1 rows of [state; x].
#include "vmath.h"

#include <vector>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void conv1d_block_f32(const float* x, int64_t x_stride_t, int64_t L, int64_t C, int64_t K, const float* wT,
                      const float* bias, float* state, float* y, int64_t y_stride_t, int64_t c0, int64_t c1,
                      bool silu) {
    std::vector<const float*> rows(static_cast<size_t>(K));
    std::vector<float> zeros(static_cast<size_t>(C), 0.0f);
    for (int64_t t = 0; t < L; t++) {
        for (int64_t k = 0; k < K; k++) {
            int64_t s = t - K + 1 + k;  // source token; < 0 reads the state
            rows[size_t(k)] = s >= 0 ? x + s * x_stride_t : state ? state + (K - 1 + s) * C : zeros.data();
        }
        float* yt = y + t * y_stride_t;
        // tap by tap over the block (an L1-resident row), then the activation
        const float* w0 = wT;
        const float* r0 = rows[0];
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) yt[c] = (bias ? bias[c] : 0.0f) + w0[c] * r0[c];
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
    if (state == nullptr || K == 1) return;
    // new state row j = row L + j of [state (K-1 rows); x (L rows)]; increasing j reads
    // only rows at or after j, so the shift is safe in place.
    for (int64_t j = 0; j < K - 1; j++) {
        int64_t i = L + j;
        const float* src = i < K - 1 ? state + i * C : x + (i - (K - 1)) * x_stride_t;
        float* dst = state + j * C;
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) dst[c] = src[c];
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
