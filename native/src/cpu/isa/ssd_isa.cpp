// Mamba-2 SSD, the SIMD work, compiled once per SIMD level (see src/cpu/ssd.cpp for the
// math, the layouts and the orchestration):
//  - ssd_step_f32: one token of one head, the recurrence on the state [P, N];
//  - ssd_chunked_heads_f32: the chunked algorithm over the whole sequence for a block of
//    heads of one group. Its steps are matrix products on zero-padded packed tiles
//    (gemm_f32 below).
#include "mamba4j.h"
#include "vmath.h"

#include <algorithm>
#include <cmath>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

namespace {

constexpr int64_t kPad = 32;  // packed tiles pad every dimension to a multiple of this
constexpr int64_t MR = 4;     // rows of the gemm register tile
#if defined(__AVX512F__)
constexpr int64_t NR = 32;    // columns of the gemm register tile: 2 zmm
#elif defined(__AVX2__)
constexpr int64_t NR = 16;    // 2 ymm
#else
constexpr int64_t NR = 8;     // 2 xmm
#endif

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

float delta_of(const mamba4j_ssd_args& a, float raw, int64_t h) {
    float d = softplus_approx(raw + (a.dt_bias ? a.dt_bias[h] : 0.0f));
    d = d < a.dt_min ? a.dt_min : d;
    return a.dt_max > 0.0f && d > a.dt_max ? a.dt_max : d;
}

// Out[M, Nc] = A[M, K] · Bm[K, Nc], all row-major (leading dims lda, ldb, ldc), M a
// multiple of MR and Nc of NR (callers pad). Register tile MR × NR.
//   trans_a: A is stored transposed, as [K, M] (A[i, k] at A[k · lda + i]).
//   lower_k: A is lower triangular by blocks: row block i0 reads only k < i0 + MR.
//   lower_n: only columns up to the row block's diagonal are needed: the tiles right of
//            it are skipped (left unwritten).
void gemm_f32(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* Bm, int64_t ldb,
              float* Out, int64_t ldc, bool lower_k, bool lower_n, bool trans_a = false) {
    for (int64_t i0 = 0; i0 < M; i0 += MR) {
        const int64_t kend = lower_k ? std::min(K, i0 + MR) : K;
        const int64_t jend = lower_n ? std::min(Nc, round_up(i0 + MR, NR)) : Nc;
        const float* a0 = trans_a ? A + i0 : A + i0 * lda;
        const int64_t a_row = trans_a ? 1 : lda, a_k = trans_a ? lda : 1;
        for (int64_t j0 = 0; j0 < jend; j0 += NR) {
            float acc[MR][NR] = {};
            for (int64_t k = 0; k < kend; k++) {
                const float* brow = Bm + k * ldb + j0;
                for (int64_t r = 0; r < MR; r++) {
                    const float av = a0[r * a_row + k * a_k];
#pragma omp simd
                    for (int64_t jj = 0; jj < NR; jj++) acc[r][jj] += av * brow[jj];
                }
            }
            for (int64_t r = 0; r < MR; r++)
#pragma omp simd
                for (int64_t jj = 0; jj < NR; jj++) Out[(i0 + r) * ldc + j0 + jj] = acc[r][jj];
        }
    }
}

// Per-thread scratch, grown on demand and kept for the next call.
float* scratch(std::vector<float>& v, int64_t n) {
    if (int64_t(v.size()) < n) v.assign(size_t(n), 0.0f);
    return v.data();
}

}  // namespace

// One token of head h: S = a·S + Δ·x ⊗ B;  y = S·C + D·x;  y *= silu(z).
// S [P, N] fp32; x, y, z [P]; Bv, Cv [N].
void ssd_step_f32(float* S, int64_t P, int64_t N, float a, float delta, const float* x, const float* Bv,
                  const float* Cv, float D, const float* z, float* y) {
    int64_t p = 0;
#if defined(__AVX512F__)
    // Rows one at a time, 16 state columns per vector, each row's sum reduced in registers.
    // Memory-bound on S (read and written once): the rows are independent, so the loads of
    // the next rows issue while a row's reduction finishes (the generic loop below leaves
    // the reductions to the compiler, which spills them to the stack and serialises them:
    // twice as slow, 1.45 against 0.72 ms a mamba2-130m decode step).
    if (N % 16 == 0) {
        const __m512 av = _mm512_set1_ps(a);
        for (; p < P; p++) {
            float* Sp = S + p * N;
            const __m512 xdt = _mm512_set1_ps(delta * x[p]);
            __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
            int64_t n = 0;
            for (; n + 32 <= N; n += 32) {
                const __m512 s0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(Sp + n), _mm512_mul_ps(xdt, _mm512_loadu_ps(Bv + n)));
                const __m512 s1 =
                    _mm512_fmadd_ps(av, _mm512_loadu_ps(Sp + n + 16), _mm512_mul_ps(xdt, _mm512_loadu_ps(Bv + n + 16)));
                _mm512_storeu_ps(Sp + n, s0);
                _mm512_storeu_ps(Sp + n + 16, s1);
                acc0 = _mm512_fmadd_ps(s0, _mm512_loadu_ps(Cv + n), acc0);
                acc1 = _mm512_fmadd_ps(s1, _mm512_loadu_ps(Cv + n + 16), acc1);
            }
            if (n < N) {
                const __m512 s0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(Sp + n), _mm512_mul_ps(xdt, _mm512_loadu_ps(Bv + n)));
                _mm512_storeu_ps(Sp + n, s0);
                acc0 = _mm512_fmadd_ps(s0, _mm512_loadu_ps(Cv + n), acc0);
            }
            y[p] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + D * x[p];
        }
    }
#endif
    // four rows at a time: four independent reduction chains instead of one
    for (; p + 4 <= P; p += 4) {
        float* S0 = S + p * N;
        float* S1 = S0 + N;
        float* S2 = S1 + N;
        float* S3 = S2 + N;
        const float x0 = delta * x[p], x1 = delta * x[p + 1], x2 = delta * x[p + 2], x3 = delta * x[p + 3];
        float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
#pragma omp simd reduction(+ : acc0, acc1, acc2, acc3)
        for (int64_t n = 0; n < N; n++) {
            const float b = Bv[n], c = Cv[n];
            const float s0 = a * S0[n] + x0 * b, s1 = a * S1[n] + x1 * b;
            const float s2 = a * S2[n] + x2 * b, s3 = a * S3[n] + x3 * b;
            S0[n] = s0;
            S1[n] = s1;
            S2[n] = s2;
            S3[n] = s3;
            acc0 += s0 * c;
            acc1 += s1 * c;
            acc2 += s2 * c;
            acc3 += s3 * c;
        }
        y[p] = acc0 + D * x[p];
        y[p + 1] = acc1 + D * x[p + 1];
        y[p + 2] = acc2 + D * x[p + 2];
        y[p + 3] = acc3 + D * x[p + 3];
    }
    for (; p < P; p++) {
        float* Sp = S + p * N;
        const float xdt = delta * x[p];
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t n = 0; n < N; n++) {
            float s = a * Sp[n] + xdt * Bv[n];
            Sp[n] = s;
            acc += s * Cv[n];
        }
        y[p] = acc + D * x[p];
    }
    if (z) {
#pragma omp simd
        for (int64_t p2 = 0; p2 < P; p2++) y[p2] *= silu_approx(z[p2]);
    }
}

// The chunked algorithm for heads [h0, h1) of one group of batch row b: the chunks in
// order, each head's state kept transposed, S_inᵀ [Np, Pp], for the whole sequence.
// Per chunk, C·Bᵀ once for the group, then per head the four steps (step 4 reads the
// incoming state before step 3 moves it past the chunk):
//   (1) Y = (C·Bᵀ ∘ Lmask) · (Δ x)           Lmask[i,j] = exp(cum_i − cum_j), j ≤ i
//   (4) Y += diag(exp(cum_i)) · C · S_inᵀ      (then D skip, z gate, y written once)
//   (2) S_cᵀ = Bᵀ · (exp(cum_end − cum_j) · Δ_j · x_j)
//   (3) S_inᵀ ← exp(cum_end) · S_inᵀ + S_cᵀ
void ssd_chunked_heads_f32(const mamba4j_ssd_args& a, int64_t Q, int64_t b, int64_t h0, int64_t h1,
                           float* state) {
    const int64_t L = a.seqlen, P = a.head_dim, N = a.state, g = h0 / (a.heads / a.groups);
    const int64_t Qp = round_up(Q, kPad), Pp = round_up(P, kPad), Np = round_up(N, kPad);
    static thread_local std::vector<float> s_Cc, s_Bc, s_Bt, s_CB, s_M, s_X, s_Xw, s_Y, s_Yo, s_Sc, s_ST, s_delta,
        s_cum;
    float* Cc = scratch(s_Cc, Qp * Np);   // C of the chunk [qp, Np]
    float* Bc = scratch(s_Bc, Qp * Np);   // B of the chunk [qp, Np]
    float* Bt = scratch(s_Bt, Np * Qp);   // Bᵀ [Np, qp]
    float* CB = scratch(s_CB, Qp * Qp);   // C·Bᵀ [qp, qp], lower triangle
    float* M = scratch(s_M, Qp * Qp);     // (C·Bᵀ ∘ Lmask)·diag(Δ) [qp, qp]
    float* X = scratch(s_X, Qp * Pp);     // x of the head [qp, Pp]
    float* Xw = scratch(s_Xw, Qp * Pp);   // exp(cum_end − cum_j) · Δ_j · x_j [qp, Pp]
    float* Y = scratch(s_Y, Qp * Pp);     // intra-chunk output [qp, Pp]
    float* Yo = scratch(s_Yo, Qp * Pp);   // C · S_inᵀ [qp, Pp]
    float* Sc = scratch(s_Sc, Np * Pp);   // S_cᵀ [Np, Pp]
    float* ST = scratch(s_ST, (h1 - h0) * Np * Pp);  // S_inᵀ of each head [Np, Pp]
    float* delta = scratch(s_delta, Qp);
    float* cum = scratch(s_cum, Qp);

    for (int64_t h = h0; h < h1; h++) {
        float* STh = ST + (h - h0) * Np * Pp;
        const float* S0 = state ? state + h * P * N : nullptr;
        for (int64_t n = 0; n < Np; n++)
            for (int64_t p = 0; p < Pp; p++) STh[n * Pp + p] = S0 && n < N && p < P ? S0[p * N + n] : 0.0f;
    }
    for (int64_t t0 = 0; t0 < L; t0 += Q) {
        const int64_t q = std::min(Q, L - t0), qp = round_up(q, kPad);
        const float* Bsrc = static_cast<const float*>(a.B) + b * a.B_stride_b + t0 * a.B_stride_t + g * N;
        const float* Csrc = static_cast<const float*>(a.C) + b * a.C_stride_b + t0 * a.C_stride_t + g * N;
        for (int64_t i = 0; i < qp; i++)
            for (int64_t n = 0; n < Np; n++) {
                const bool live = i < q && n < N;
                Bc[i * Np + n] = live ? Bsrc[i * a.B_stride_t + n] : 0.0f;
                Cc[i * Np + n] = live ? Csrc[i * a.C_stride_t + n] : 0.0f;
            }
        for (int64_t i = 0; i < qp; i++)
            for (int64_t n = 0; n < Np; n++) Bt[n * qp + i] = Bc[i * Np + n];
        gemm_f32(qp, qp, Np, Cc, Np, Bt, qp, CB, qp, false, true);  // shared by the group's heads

        for (int64_t h = h0; h < h1; h++) {
            float* STh = ST + (h - h0) * Np * Pp;
            const float A = -std::exp(a.A_log[h]);
            const float* dt = static_cast<const float*>(a.dt) + b * a.dt_stride_b + t0 * a.dt_stride_t + h;
            float run = 0.0f;
            for (int64_t i = 0; i < qp; i++) {  // padded tokens: Δ = 0, cum stays
                delta[i] = i < q ? delta_of(a, dt[i * a.dt_stride_t], h) : 0.0f;
                run += delta[i] * A;
                cum[i] = run;
            }
            const float cum_end = cum[qp - 1];

            // (1) intra-chunk: Y = (C·Bᵀ ∘ Lmask) · (Δ x)
            for (int64_t i = 0; i < qp; i++) {
                const float ci = cum[i];
                float* Mi = M + i * qp;
                const float* CBi = CB + i * qp;
                const int64_t jend = std::min(qp, (i / MR + 1) * MR);  // the k reach of gemm row block i / MR
#pragma omp simd
                for (int64_t j = 0; j < jend; j++) {
                    float e = ci - cum[j];
                    e = e < 0.0f ? e : 0.0f;  // a decay never exceeds 1, whatever the rounding
                    Mi[j] = j <= i ? CBi[j] * exp_approx(e) * delta[j] : 0.0f;
                }
            }
            const float* xsrc = static_cast<const float*>(a.x) + b * a.x_stride_b + t0 * a.x_stride_t + h * P;
            for (int64_t i = 0; i < qp; i++)
                for (int64_t p = 0; p < Pp; p++) X[i * Pp + p] = i < q && p < P ? xsrc[i * a.x_stride_t + p] : 0.0f;
            gemm_f32(qp, Pp, qp, M, qp, X, Pp, Y, Pp, true, false);

            // (4) output from the incoming state: Y += exp(cum_i) · C_i · S_inᵀ; D skip, z gate
            gemm_f32(qp, Pp, Np, Cc, Np, STh, Pp, Yo, Pp, false, false);
            const float* zsrc = a.z ? static_cast<const float*>(a.z) + b * a.z_stride_b + t0 * a.z_stride_t + h * P
                                    : nullptr;
            float* ydst = static_cast<float*>(a.y) + b * a.y_stride_b + t0 * a.y_stride_t + h * P;
            const float D = a.D ? a.D[h] : 0.0f;
            for (int64_t i = 0; i < q; i++) {
                const float decay = exp_approx(cum[i] < 0.0f ? cum[i] : 0.0f);
                const float* Yi = Y + i * Pp;
                const float* Yoi = Yo + i * Pp;
                const float* xi = X + i * Pp;
                float* yi = ydst + i * a.y_stride_t;
                if (zsrc) {
                    const float* zi = zsrc + i * a.z_stride_t;
#pragma omp simd
                    for (int64_t p = 0; p < P; p++) yi[p] = (Yi[p] + decay * Yoi[p] + D * xi[p]) * silu_approx(zi[p]);
                } else {
#pragma omp simd
                    for (int64_t p = 0; p < P; p++) yi[p] = Yi[p] + decay * Yoi[p] + D * xi[p];
                }
            }

            // (2) the chunk's own end state, transposed: S_cᵀ = Bᵀ · Xw  [Np, Pp]
            for (int64_t j = 0; j < qp; j++) {
                float e = cum_end - cum[j];
                e = e < 0.0f ? e : 0.0f;
                const float wj = exp_approx(e) * delta[j];
#pragma omp simd
                for (int64_t p = 0; p < Pp; p++) Xw[j * Pp + p] = wj * X[j * Pp + p];
            }
            gemm_f32(Np, Pp, qp, Bc, Np, Xw, Pp, Sc, Pp, false, false, true);

            // (3) inter-chunk recurrence: the state past this chunk
            const float decay_end = exp_approx(cum_end);
#pragma omp simd
            for (int64_t i = 0; i < Np * Pp; i++) STh[i] = decay_end * STh[i] + Sc[i];
        }
    }
    if (state)
        for (int64_t h = h0; h < h1; h++) {
            const float* STh = ST + (h - h0) * Np * Pp;
            float* S = state + h * P * N;
            for (int64_t p = 0; p < P; p++)
                for (int64_t n = 0; n < N; n++) S[p * N + n] = STh[n * Pp + p];
        }
}

// Δ of token t, head h (for the recurrent path).
float ssd_delta_f32(const mamba4j_ssd_args& a, float raw, int64_t h) { return delta_of(a, raw, h); }

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
