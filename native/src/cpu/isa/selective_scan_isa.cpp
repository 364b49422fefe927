// Mamba-1 fused selective scan over channels [e0, e1) of one batch row, fp32, compiled
// once per SIMD level. Vectorised over W channels at a time; each channel's state h[N]
// lives in a small [N, W] tile (registers / L1) for the whole sequence, so [L, E, N] is
// never materialised. Per token and channel e (lane j):
//   Δ = softplus(dt + dt_bias);  h[n] = exp(Δ·A[e,n])·h[n] + Δ·u·B[n];  y = Σ_n C[n]·h[n] + D·u;  y *= silu(z)
// AT [N, E] is A = -exp(A_log) transposed; state [E, N] (NULL: zeros, not returned).
#include "mamba4j.h"
#include "vmath.h"

#include <vector>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void selective_scan_block_f32(const mamba4j_selective_scan_args& a, const float* AT, float* state, int64_t b,
                              int64_t e0, int64_t e1) {
    constexpr int64_t W = 16;
    const int64_t L = a.seqlen, E = a.inner, N = a.state;
    const float* u = static_cast<const float*>(a.u) + b * a.u_stride_b;
    const float* dt = static_cast<const float*>(a.dt) + b * a.dt_stride_b;
    const float* Bm = static_cast<const float*>(a.B) + b * a.B_stride_b;
    const float* Cm = static_cast<const float*>(a.C) + b * a.C_stride_b;
    const float* z = a.z ? static_cast<const float*>(a.z) + b * a.z_stride_b : nullptr;
    float* y = static_cast<float*>(a.y) + b * a.y_stride_b;
    std::vector<float> h(size_t(N * W)), A(size_t(N * W));
    alignas(64) float bias[W], Dv[W], dtv[W], dtu[W], uv[W], yv[W];
    for (int64_t e = e0; e < e1; e += W) {
        const int64_t w = e1 - e < W ? e1 - e : W;  // live lanes; the others compute on zeros
        for (int64_t j = 0; j < W; j++) {
            bias[j] = j < w && a.dt_bias ? a.dt_bias[e + j] : 0.0f;
            Dv[j] = j < w && a.D ? a.D[e + j] : 0.0f;
            for (int64_t n = 0; n < N; n++) {
                A[size_t(n * W + j)] = j < w ? AT[n * E + e + j] : 0.0f;
                h[size_t(n * W + j)] = j < w && state ? state[(e + j) * N + n] : 0.0f;
            }
        }
        float* hp = h.data();
        const float* Ap = A.data();
        for (int64_t t = 0; t < L; t++) {
            const float* ut = u + t * a.u_stride_t + e;
            const float* dtt = dt + t * a.dt_stride_t + e;
            for (int64_t j = 0; j < W; j++) {
                uv[j] = j < w ? ut[j] : 0.0f;
                dtv[j] = j < w ? dtt[j] : 0.0f;
            }
#pragma omp simd
            for (int64_t j = 0; j < W; j++) {
                float d = dtv[j] + bias[j];
                d = a.dt_softplus ? softplus_approx(d) : d;
                dtv[j] = d;
                dtu[j] = d * uv[j];
                yv[j] = Dv[j] * uv[j];
            }
            const float* Bt = Bm + t * a.B_stride_t;
            const float* Ct = Cm + t * a.C_stride_t;
            for (int64_t n = 0; n < N; n++) {
                const float Bn = Bt[n], Cn = Ct[n];
                float* hn = hp + n * W;
                const float* An = Ap + n * W;
#pragma omp simd
                for (int64_t j = 0; j < W; j++) {
                    float hv = exp_approx(dtv[j] * An[j]) * hn[j] + dtu[j] * Bn;
                    hn[j] = hv;
                    yv[j] += Cn * hv;
                }
            }
            if (z) {
                const float* zt = z + t * a.z_stride_t + e;
                for (int64_t j = 0; j < w; j++) uv[j] = zt[j];
#pragma omp simd
                for (int64_t j = 0; j < W; j++) yv[j] *= silu_approx(uv[j]);
            }
            float* yt = y + t * a.y_stride_t + e;
            for (int64_t j = 0; j < w; j++) yt[j] = yv[j];
        }
        if (state)
            for (int64_t j = 0; j < w; j++)
                for (int64_t n = 0; n < N; n++) state[(e + j) * N + n] = h[size_t(n * W + j)];
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
