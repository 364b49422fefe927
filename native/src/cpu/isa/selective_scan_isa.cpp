// Mamba-1 fused selective scan over channels [e0, e1) of one batch row, fp32, compiled
// once per SIMD level. Vectorised over W channels at a time (one SIMD lane each); the
// states of the block's channels live in [N, W] tiles in L1 for the whole sequence, so
// [L, E, N] is never materialised. Tokens in the outer loop: each token's rows of u, dt,
// z, y are read as one contiguous run. Per token and channel e (lane j):
//   Δ = softplus(dt + dt_bias);  h[n] = exp(Δ·A[e,n])·h[n] + Δ·u·B[n]
//   y = Σ_n C[n]·h[n] + D·u;     y *= silu(z)
// A = -exp(A_log) [E, N] is computed into the tiles once per call; state [E, N] (NULL:
// zeros, not returned).
#include "mamba4j.h"
#include "vmath.h"

#include <algorithm>
#include <vector>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void selective_scan_block_f32(const mamba4j_selective_scan_args& a, float* state, int64_t b, int64_t e0,
                              int64_t e1) {
    constexpr int64_t W = 16;
    constexpr int64_t kAhead = 4;  // tokens of prefetch distance
    const int64_t L = a.seqlen, N = a.state;
    const int64_t tiles = (e1 - e0 + W - 1) / W;
    const float* u = static_cast<const float*>(a.u) + b * a.u_stride_b + e0;
    const float* dt = static_cast<const float*>(a.dt) + b * a.dt_stride_b + e0;
    const float* Bm = static_cast<const float*>(a.B) + b * a.B_stride_b;
    const float* Cm = static_cast<const float*>(a.C) + b * a.C_stride_b;
    const float* z = a.z ? static_cast<const float*>(a.z) + b * a.z_stride_b + e0 : nullptr;
    float* y = static_cast<float*>(a.y) + b * a.y_stride_b + e0;
    // per tile of W channels: h, A [N, W]; bias, D [W]. Per-thread buffers kept between
    // calls (a decode step is short: no allocation in it), every element written below.
    static thread_local std::vector<float> s_h, s_A, s_bias, s_D, s_A_rows;
    auto grow = [](std::vector<float>& v, int64_t n) {
        if (int64_t(v.size()) < n) v.resize(size_t(n));
        return v.data();
    };
    float* h = grow(s_h, tiles * N * W);
    float* A = grow(s_A, tiles * N * W);
    float* bias = grow(s_bias, tiles * W);
    float* Dv = grow(s_D, tiles * W);
    float* A_rows = grow(s_A_rows, (e1 - e0) * N);  // A = -exp(A_log) of the block [e1-e0, N]
    const float* A_log = a.A_log + e0 * N;
#pragma omp simd
    for (int64_t i = 0; i < (e1 - e0) * N; i++) A_rows[i] = -exp_approx(A_log[i]);
    for (int64_t i = 0; i < tiles * W; i++) {
        const int64_t e = e0 + i, tile = i / W, j = i % W;
        const bool live = e < e1;
        bias[i] = live && a.dt_bias ? a.dt_bias[e] : 0.0f;
        Dv[i] = live && a.D ? a.D[e] : 0.0f;
        for (int64_t n = 0; n < N; n++) {
            A[(tile * N + n) * W + j] = live ? A_rows[i * N + n] : 0.0f;
            h[(tile * N + n) * W + j] = live && state ? state[e * N + n] : 0.0f;
        }
    }
    alignas(64) float dtv[W], dtu[W], uv[W], zv[W], yv[W];
    for (int64_t t = 0; t < L; t++) {
        const float* ut = u + t * a.u_stride_t;
        const float* dtt = dt + t * a.dt_stride_t;
        const float* zt = z ? z + t * a.z_stride_t : nullptr;
        float* yt = y + t * a.y_stride_t;
        const float* Bt = Bm + t * a.B_stride_t;
        const float* Ct = Cm + t * a.C_stride_t;
        if (t + kAhead < L)
            for (int64_t i = 0; i < e1 - e0; i += 16) {  // a later token's rows: one line per 16 channels
                __builtin_prefetch(ut + kAhead * a.u_stride_t + i);
                __builtin_prefetch(dtt + kAhead * a.dt_stride_t + i);
                if (zt) __builtin_prefetch(zt + kAhead * a.z_stride_t + i);
            }
        for (int64_t tile = 0; tile < tiles; tile++) {
            const int64_t j0 = tile * W, w = e1 - e0 - j0 < W ? e1 - e0 - j0 : W;  // live lanes
            if (w == W) {  // fixed-width copies; the tail tile computes on zeros
#pragma omp simd
                for (int64_t j = 0; j < W; j++) {
                    uv[j] = ut[j0 + j];
                    dtv[j] = dtt[j0 + j];
                    zv[j] = zt ? zt[j0 + j] : 0.0f;
                }
            } else {
                for (int64_t j = 0; j < W; j++) {
                    uv[j] = j < w ? ut[j0 + j] : 0.0f;
                    dtv[j] = j < w ? dtt[j0 + j] : 0.0f;
                    zv[j] = j < w && zt ? zt[j0 + j] : 0.0f;
                }
            }
            const float* bias_t = bias + j0;
            const float* D_t = Dv + j0;
#pragma omp simd
            for (int64_t j = 0; j < W; j++) {
                float d = dtv[j] + bias_t[j];
                d = a.dt_softplus ? softplus_approx(d) : d;
                dtv[j] = d;
                dtu[j] = d * uv[j];
                yv[j] = D_t[j] * uv[j];
            }
            float* hp = h + tile * N * W;
            const float* Ap = A + tile * N * W;
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
            if (zt) {
#pragma omp simd
                for (int64_t j = 0; j < W; j++) yv[j] *= silu_approx(zv[j]);
            }
            if (w == W) {
#pragma omp simd
                for (int64_t j = 0; j < W; j++) yt[j0 + j] = yv[j];
            } else {
                for (int64_t j = 0; j < w; j++) yt[j0 + j] = yv[j];
            }
        }
    }
    if (state)
        for (int64_t e = e0; e < e1; e++) {
            const int64_t i = e - e0, tile = i / W, j = i % W;
            for (int64_t n = 0; n < N; n++) state[e * N + n] = h[(tile * N + n) * W + j];
        }
}

// One token (decode, L == 1) for channels [e0, e1) of batch row b, straight on the state
// [E, N] rows, vectorised over n: at one token the copies into and out of the [N, W] tiles
// above cost several times the step itself. state NULL: zeros, not returned.
void selective_scan_step_f32(const mamba4j_selective_scan_args& a, float* state, int64_t b, int64_t e0,
                             int64_t e1) {
    const int64_t N = a.state;
    const float* u = static_cast<const float*>(a.u) + b * a.u_stride_b;
    const float* dt = static_cast<const float*>(a.dt) + b * a.dt_stride_b;
    const float* Bv = static_cast<const float*>(a.B) + b * a.B_stride_b;
    const float* Cv = static_cast<const float*>(a.C) + b * a.C_stride_b;
    const float* z = a.z ? static_cast<const float*>(a.z) + b * a.z_stride_b : nullptr;
    float* y = static_cast<float*>(a.y) + b * a.y_stride_b;
    static thread_local std::vector<float> s_h;  // the state row when there is no state: zeros
    if (!state && int64_t(s_h.size()) < N) s_h.resize(size_t(N));
    // channels in runs of kRun: Δ and the gate of a run vectorised over channels first,
    // then the state rows one channel at a time, vectorised over n
    constexpr int64_t kRun = 64;
    float delta[kRun], gate[kRun];
    for (int64_t r0 = e0; r0 < e1; r0 += kRun) {
        const int64_t nr = e1 - r0 < kRun ? e1 - r0 : kRun;
#pragma omp simd
        for (int64_t i = 0; i < nr; i++) {
            const float d = dt[r0 + i] + (a.dt_bias ? a.dt_bias[r0 + i] : 0.0f);
            delta[i] = a.dt_softplus ? softplus_approx(d) : d;
            gate[i] = z ? silu_approx(z[r0 + i]) : 1.0f;
        }
        for (int64_t i = 0; i < nr; i++) {
            const int64_t e = r0 + i;
            const float d = delta[i], du = d * u[e];
            const float* A_log = a.A_log + e * N;
            float* h = state ? state + e * N : s_h.data();
            if (!state) std::fill(h, h + N, 0.0f);
#pragma omp simd
            for (int64_t n = 0; n < N; n++) h[n] = exp_approx(d * -exp_approx(A_log[n])) * h[n] + du * Bv[n];
            y[e] = (dot_f32(Cv, h, N) + (a.D ? a.D[e] : 0.0f) * u[e]) * gate[i];
        }
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
