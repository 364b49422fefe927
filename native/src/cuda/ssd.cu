// Mamba-2 SSD on CUDA (same math as the CPU reference, mamba4j.h mamba4j_ssd):
//   Δ = clamp(softplus(dt + dt_bias), dt_min, dt_max);  a = exp(Δ·A), A = -exp(A_log[h])
//   S[h] = a·S[h] + Δ·x ⊗ B[g]        (S [P, N] fp32, g = h / (H/G))
//   y = S[h]·C[g] + D[h]·x,  y *= silu(z)
//
// Two algorithms:
//  * RECURRENT (any dtype; decode L == 1 and short prefills): one warp per (b, h, pair of
//    rows p), the state rows in registers (float4 per lane when N % 128 == 0), B/C of the
//    token shared through L1, one pass over the sequence. The decode step is memory-bound:
//    it reads and writes the state once (8B layer: 4 MiB per sequence each way).
//  * CHUNKED (bf16/fp16, the tensor-core prefill): chunks of Q tokens (chunk_size when it
//    is a multiple of 64 up to 256, else 256):
//      1. ssd_cumsum:     Δ_t, the in-chunk inclusive cumsum of Δ_t·A and two decay weights
//                         (for the chunk state and the scan's off-diagonal tiles) [B,H,Lpad] fp32
//      2. chunk states + state passing, S_in[c+1] = exp(cum_last_c)·S_in[c] + Sc[c] with
//                         Sc[p,n] = Σ_t x[t,p] · exp(cum_last − cum_t)·Δ_t · B[t,n]
//                         (Xᵀ · diag(w) · B on the tensor cores); writes each chunk's incoming
//                         state S_in (dtype) [B,nc,H,P,N] and the final state (fp32).
//                         mma path (P 64, N 64/128): one fused pass over the chunks per head,
//                         the state in registers; else ssd_chunk_state (fp32 chunk states) then
//                         ssd_state_pass.
//      3. chunk scan:     per 64-token row tile i of a chunk,
//                         Y = exp(cum_i)·(C · S_inᵀ) + Σ_{j ≤ i} (C Bᵀ)_ij · exp(cum_i − cum_j)·Δ_j · X_j
//                         + D·x, gated by silu(z) (C Bᵀ and P·X on the tensor cores). mma path:
//                         C Bᵀ once per group, shared by the group's heads in one block.
//    Decay exponents are clamped at 0 so rounding never makes a decay exceed 1. Matrix
//    operands are the activation dtype (X scaled by its decay weight, the masked decay
//    matrix, the incoming state are rounded to it as mamba_ssm does), accumulation fp32.
#include <mma.h>

#include <type_traits>

#include <cub/block/block_scan.cuh>

#include "../kernels.h"
#include "cuda_util.cuh"
#include "mma.cuh"

namespace mamba4j::cuda {

using namespace nvcuda;

__device__ __forceinline__ float ssd_dt(const mamba4j_ssd_args& a, float raw, int64_t h) {
    float v = softplus_f(raw + (a.dt_bias ? a.dt_bias[h] : 0.f));
    v = fmaxf(v, a.dt_min);
    if (a.dt_max > 0.f) v = fminf(v, a.dt_max);
    return v;
}

// ------------------------------------------------------------------ recurrent

// One warp per (b, h, rows p0, p0+1). VEC: N == NV*32 with N % 128 == 0, lane holds
// n = (i/4)*128 + lane*4 + i%4 (float4 loads of the state); else n = i*32 + lane (n < N).
template <class T, int NV, bool VEC>
__global__ void __launch_bounds__(256) ssd_recurrent_kernel(const mamba4j_ssd_args a) {
    constexpr int RP = 2;
    const int lane = threadIdx.x & 31;
    const int64_t warp = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    const int64_t P = a.head_dim, H = a.heads, N = a.state;
    const int64_t pairs = (P + RP - 1) / RP;
    if (warp >= a.batch * H * pairs) return;
    const int64_t p0 = (warp % pairs) * RP;
    const int64_t h = (warp / pairs) % H;
    const int64_t b = warp / (pairs * H);
    const int64_t g = h / (H / a.groups);
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;

    auto nidx = [&](int i) -> int64_t { return VEC ? int64_t(i / 4) * 128 + lane * 4 + (i % 4) : int64_t(i) * 32 + lane; };
    float s[RP][NV];
    float* S[RP];
#pragma unroll
    for (int r = 0; r < RP; r++) {
        const bool row_ok = p0 + r < P;
        S[r] = (a.ssm_state && row_ok) ? a.ssm_state + ((slot * H + h) * P + p0 + r) * N : nullptr;
        if (VEC) {
#pragma unroll
            for (int i = 0; i < NV; i += 4) {
                float4 v = S[r] ? *reinterpret_cast<const float4*>(S[r] + nidx(i)) : make_float4(0.f, 0.f, 0.f, 0.f);
                s[r][i] = v.x; s[r][i + 1] = v.y; s[r][i + 2] = v.z; s[r][i + 3] = v.w;
            }
        } else {
#pragma unroll
            for (int i = 0; i < NV; i++) s[r][i] = (S[r] && nidx(i) < N) ? S[r][nidx(i)] : 0.f;
        }
    }
    const float A = -expf(a.A_log[h]);
    const float Dh = a.D ? a.D[h] : 0.f;
    const T* x = static_cast<const T*>(a.x);
    const T* dt = static_cast<const T*>(a.dt);
    const T* Bm = static_cast<const T*>(a.B);
    const T* Cm = static_cast<const T*>(a.C);
    const T* z = static_cast<const T*>(a.z);
    T* y = static_cast<T*>(a.y);
    for (int64_t t = 0; t < a.seqlen; t++) {
        const float d = ssd_dt(a, to_f32(dt[b * a.dt_stride_b + t * a.dt_stride_t + h]), h);
        const float decay = __expf(fminf(d * A, 0.f));
        const T* Bt = Bm + b * a.B_stride_b + t * a.B_stride_t + g * N;
        const T* Ct = Cm + b * a.C_stride_b + t * a.C_stride_t + g * N;
        float bv[NV], cv[NV];
#pragma unroll
        for (int i = 0; i < NV; i++) {
            const bool ok = VEC || nidx(i) < N;
            bv[i] = ok ? to_f32(Bt[nidx(i)]) : 0.f;
            cv[i] = ok ? to_f32(Ct[nidx(i)]) : 0.f;
        }
        const int64_t xo = b * a.x_stride_b + t * a.x_stride_t + h * P;
#pragma unroll
        for (int r = 0; r < RP; r++) {
            if (p0 + r >= P) break;
            const float xv = to_f32(x[xo + p0 + r]);
            const float dx = d * xv;
            float acc = 0.f;
#pragma unroll
            for (int i = 0; i < NV; i++) {
                s[r][i] = fmaf(decay, s[r][i], dx * bv[i]);
                acc = fmaf(s[r][i], cv[i], acc);
            }
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
            if (lane == 0) {
                float out = acc + Dh * xv;
                if (z) out *= silu_f(to_f32(z[b * a.z_stride_b + t * a.z_stride_t + h * P + p0 + r]));
                y[b * a.y_stride_b + t * a.y_stride_t + h * P + p0 + r] = from_f32<T>(out);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RP; r++) {
        if (!S[r]) continue;
        if (VEC) {
#pragma unroll
            for (int i = 0; i < NV; i += 4)
                *reinterpret_cast<float4*>(S[r] + nidx(i)) = make_float4(s[r][i], s[r][i + 1], s[r][i + 2], s[r][i + 3]);
        } else {
#pragma unroll
            for (int i = 0; i < NV; i++)
                if (nidx(i) < N) S[r][nidx(i)] = s[r][i];
        }
    }
}

template <class T>
static void launch_recurrent(mamba4j_context* ctx, const mamba4j_ssd_args& a) {
    const int64_t warps = a.batch * a.heads * ((a.head_dim + 1) / 2);
    const int64_t blocks = (warps * 32 + 255) / 256;
    if (blocks > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "ssd: too many rows for one CUDA launch");
    const bool aligned = a.ssm_state == nullptr || (reinterpret_cast<uintptr_t>(a.ssm_state) % 16 == 0);
    const int64_t N = a.state;
    cudaStream_t s = stream_of(ctx);
    if (N == 128 && aligned) ssd_recurrent_kernel<T, 4, true><<<unsigned(blocks), 256, 0, s>>>(a);
    else if (N == 256 && aligned) ssd_recurrent_kernel<T, 8, true><<<unsigned(blocks), 256, 0, s>>>(a);
    else if (N <= 64) ssd_recurrent_kernel<T, 2, false><<<unsigned(blocks), 256, 0, s>>>(a);
    else if (N <= 256) ssd_recurrent_kernel<T, 8, false><<<unsigned(blocks), 256, 0, s>>>(a);
    else fail(MAMBA4J_ERR_UNSUPPORTED, "ssd on CUDA supports state sizes N <= 256, got %lld", (long long)N);
    check_launch("ssd_recurrent_kernel");
}

// ------------------------------------------------------------------ chunked

constexpr int kCumThreads = 256;

constexpr int kTile = 64;  // tokens per tile (K of the state GEMM, rows/cols of the score tile)

// grid (nchunks, H, B), Q <= kCumThreads: Δ, the in-chunk inclusive cumsum of Δ·A, the
// key weights of the chunk scan w_t = exp(cum_e − cum_t)·Δ_t (e: the last token of t's
// 64-token tile, so w_t <= Δ_t) and the chunk-state weights wc_t = exp(cum_last − cum_t)·Δ_t;
// zeros past L.
template <class T>
__global__ void __launch_bounds__(kCumThreads) ssd_cumsum_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                                 float* dtv, float* cum, float* wv,
                                                                 float* wcv) {
    using Scan = cub::BlockScan<float, kCumThreads>;
    __shared__ typename Scan::TempStorage tmp;
    __shared__ float cs[kCumThreads];
    const int64_t c = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const float A = -expf(a.A_log[h]);
    const T* dt = static_cast<const T*>(a.dt);
    const int64_t o = (b * a.heads + h) * Lpad;
    const int i = threadIdx.x;
    const int64_t t = c * Q + i;
    float d = 0.f;
    if (i < Q && t < a.seqlen) d = ssd_dt(a, to_f32(dt[b * a.dt_stride_b + t * a.dt_stride_t + h]), h);
    float incl;
    Scan(tmp).InclusiveSum(d * A, incl);
    cs[i] = incl;
    __syncthreads();
    if (i < Q) {
        dtv[o + t] = d;
        cum[o + t] = incl;
        wv[o + t] = __expf(fminf(cs[i | (kTile - 1)] - incl, 0.f)) * d;
        wcv[o + t] = __expf(fminf(cs[Q - 1] - incl, 0.f)) * d;
    }
}

// Copies a [rows, cols] tile of T (row stride `stride` elements) into shared memory with
// leading dimension ld, rows >= valid as zeros, each row scaled by scale(row) if given.
template <class T, class Scale>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t stride, int rows, int cols, int valid,
                                          bool vec, Scale scale) {
    if (vec) {  // 8 elements (16 bytes) per access
        const int cv = cols / 8;
        for (int idx = threadIdx.x; idx < rows * cv; idx += blockDim.x) {
            const int r = idx / cv, c8 = (idx % cv) * 8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (r < valid) v = *reinterpret_cast<const uint4*>(src + r * stride + c8);
            const float sc = scale(r);
            if (sc != 1.f) {
                T* e = reinterpret_cast<T*>(&v);
#pragma unroll
                for (int k = 0; k < 8; k++) e[k] = from_f32<T>(to_f32(e[k]) * sc);
            }
            *reinterpret_cast<uint4*>(dst + r * ld + c8) = v;
        }
    } else {
        for (int idx = threadIdx.x; idx < rows * cols; idx += blockDim.x) {
            const int r = idx / cols, cc = idx % cols;
            float v = r < valid ? to_f32(src[r * stride + cc]) * scale(r) : 0.f;
            dst[r * ld + cc] = from_f32<T>(v);
        }
    }
}
struct NoScale {
    __device__ float operator()(int) const { return 1.f; }
};

// grid (nchunks, H, B), 256 threads. states[b,c,h] = Xᵀ diag(w) B over the chunk.
template <class T, int FPW>
__global__ void __launch_bounds__(256) ssd_chunk_state_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                              const float* dtv, const float* cum, float* states,
                                                              int64_t nchunks, bool vec) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const int P = int(a.head_dim), N = int(a.state);
    const int ldx = P + 8, ldb = N + 8;
    T* Xs = reinterpret_cast<T*>(smem_raw);
    T* Bs = Xs + kTile * ldx;
    float* w = reinterpret_cast<float*>(Bs + kTile * ldb);
    const int64_t c = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int64_t g = h / (a.heads / a.groups);
    const int warp = threadIdx.x >> 5;
    const int nf = (P / 16) * (N / 16);
    const float* dv = dtv + (b * a.heads + h) * Lpad + c * Q;
    const float* cm = cum + (b * a.heads + h) * Lpad + c * Q;
    const float cum_last = cm[Q - 1];
    const int64_t t0 = c * Q;
    const int valid_chunk = int(min(int64_t(Q), a.seqlen - t0));

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FPW];
#pragma unroll
    for (int f = 0; f < FPW; f++) wmma::fill_fragment(acc[f], 0.f);

    const T* x = static_cast<const T*>(a.x) + b * a.x_stride_b + t0 * a.x_stride_t + h * P;
    const T* Bm = static_cast<const T*>(a.B) + b * a.B_stride_b + t0 * a.B_stride_t + g * N;
    for (int k0 = 0; k0 < valid_chunk; k0 += kTile) {
        const int valid = min(kTile, valid_chunk - k0);
        for (int i = threadIdx.x; i < kTile; i += blockDim.x)
            w[i] = i < valid ? __expf(fminf(cum_last - cm[k0 + i], 0.f)) * dv[k0 + i] : 0.f;
        __syncthreads();
        load_tile(Xs, ldx, x + k0 * a.x_stride_t, a.x_stride_t, kTile, P, valid, vec, NoScale{});
        load_tile(Bs, ldb, Bm + k0 * a.B_stride_t, a.B_stride_t, kTile, N, valid, vec,
                  [&](int r) { return w[r]; });
        __syncthreads();
#pragma unroll
        for (int f = 0; f < FPW; f++) {
            const int fi = warp + f * 8;
            if (fi < nf) {
                const int pi = fi / (N / 16), ni = fi % (N / 16);
#pragma unroll
                for (int kk = 0; kk < kTile; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::col_major> fa;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
                    wmma::load_matrix_sync(fa, Xs + kk * ldx + pi * 16, ldx);
                    wmma::load_matrix_sync(fb, Bs + kk * ldb + ni * 16, ldb);
                    wmma::mma_sync(acc[f], fa, fb, acc[f]);
                }
            }
        }
        __syncthreads();
    }
    float* out = states + ((b * nchunks + c) * a.heads + h) * int64_t(P) * N;
#pragma unroll
    for (int f = 0; f < FPW; f++) {
        const int fi = warp + f * 8;
        if (fi < nf) {
            const int pi = fi / (N / 16), ni = fi % (N / 16);
            wmma::store_matrix_sync(out + pi * 16 * N + ni * 16, acc[f], N, wmma::mem_row_major);
        }
    }
}

// grid (ceil(P*N/256), H, B). Walks the chunks: writes each chunk's incoming state (T)
// and the final state (fp32, into ssm_state when given).
template <class T>
__global__ void __launch_bounds__(256) ssd_state_pass_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                             const float* __restrict__ cum, const float* __restrict__ states, T* __restrict__ incoming,
                                                             int64_t nchunks) {
    const int64_t PN = a.head_dim * a.state;
    const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (e >= PN) return;
    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    float* S = a.ssm_state ? a.ssm_state + (slot * a.heads + h) * PN + e : nullptr;
    float s = S ? *S : 0.f;
    const float* cm = cum + (b * a.heads + h) * Lpad;
    for (int64_t c = 0; c < nchunks; c++) {
        const int64_t o = ((b * nchunks + c) * a.heads + h) * PN + e;
        incoming[o] = from_f32<T>(s);
        s = __expf(fminf(cm[c * Q + Q - 1], 0.f)) * s + states[o];
    }
    if (S) *S = s;
}

// grid (nchunks * Q/64, H, B), 256 threads: output rows [i0, i0+64) of one chunk.
template <class T>
__global__ void __launch_bounds__(256) ssd_chunk_scan_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                             const float* dtv, const float* cum, const T* incoming,
                                                             int64_t nchunks, bool vec) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const int P = int(a.head_dim), N = int(a.state);
    const int ldn = N + 8, ldp = P + 8, ldyf = P + 4, ldsf = kTile + 4, ldpm = kTile + 8;
    T* Cs = reinterpret_cast<T*>(smem_raw);
    T* Bs = Cs + kTile * ldn;
    T* Ss = Bs + kTile * ldn;          // incoming state [P][N]
    T* Xs = Ss + P * ldn;
    T* Pm = Xs + kTile * ldp;          // masked decay matrix [64][64]
    float* Sf = reinterpret_cast<float*>(Pm + kTile * ldpm);  // scores [64][64]
    float* Ys = Sf + kTile * ldsf;     // output accumulator [64][P]
    float* cum_i = Ys + kTile * ldyf;
    float* cum_j = cum_i + kTile;
    float* dt_j = cum_j + kTile;

    const int tiles_per_chunk = Q / kTile;
    const int64_t c = blockIdx.x / tiles_per_chunk;
    const int rt = blockIdx.x % tiles_per_chunk;
    const int64_t h = blockIdx.y, b = blockIdx.z;
    const int64_t g = h / (a.heads / a.groups);
    const int64_t t0 = c * Q;
    const int64_t i0 = t0 + int64_t(rt) * kTile;
    if (i0 >= a.seqlen) return;
    const int valid_i = int(min(int64_t(kTile), a.seqlen - i0));
    const int warp = threadIdx.x >> 5;
    const float* dv = dtv + (b * a.heads + h) * Lpad;
    const float* cm = cum + (b * a.heads + h) * Lpad;

    const T* Cg = static_cast<const T*>(a.C) + b * a.C_stride_b + g * N;
    const T* Bg = static_cast<const T*>(a.B) + b * a.B_stride_b + g * N;
    const T* xg = static_cast<const T*>(a.x) + b * a.x_stride_b + h * P;

    load_tile(Cs, ldn, Cg + i0 * a.C_stride_t, a.C_stride_t, kTile, N, valid_i, vec, NoScale{});
    load_tile(Ss, ldn, incoming + ((b * nchunks + c) * a.heads + h) * int64_t(P) * N, N, P, N, P, vec, NoScale{});
    for (int i = threadIdx.x; i < kTile; i += blockDim.x) cum_i[i] = i < valid_i ? cm[i0 + i] : 0.f;
    __syncthreads();

    // Y = C · S_inᵀ (64 × P), then scaled by exp(cum_i) per row, kept as the accumulator start.
    const int nfy = (kTile / 16) * (P / 16);
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4];
#pragma unroll
    for (int f = 0; f < 4; f++) {
        const int fi = warp + f * 8;
        wmma::fill_fragment(acc[f], 0.f);
        if (fi < nfy) {
            const int mi = fi / (P / 16), pj = fi % (P / 16);
            for (int kk = 0; kk < N; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
                wmma::load_matrix_sync(fa, Cs + mi * 16 * ldn + kk, ldn);
                wmma::load_matrix_sync(fb, Ss + pj * 16 * ldn + kk, ldn);
                wmma::mma_sync(acc[f], fa, fb, acc[f]);
            }
            wmma::store_matrix_sync(Ys + mi * 16 * ldyf + pj * 16, acc[f], ldyf, wmma::mem_row_major);
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < kTile * P; idx += blockDim.x) {
        const int i = idx / P, p = idx % P;
        Ys[i * ldyf + p] *= __expf(fminf(cum_i[i], 0.f));
    }
    __syncthreads();
#pragma unroll
    for (int f = 0; f < 4; f++) {
        const int fi = warp + f * 8;
        if (fi < nfy) {
            const int mi = fi / (P / 16), pj = fi % (P / 16);
            wmma::load_matrix_sync(acc[f], Ys + mi * 16 * ldyf + pj * 16, ldyf, wmma::mem_row_major);
        }
    }

    // Intra-chunk part, one 64-token key tile j at a time up to the diagonal.
    for (int jt = 0; jt <= rt; jt++) {
        const int64_t j0 = t0 + int64_t(jt) * kTile;
        const int valid_j = int(min(int64_t(kTile), a.seqlen - j0));
        __syncthreads();
        load_tile(Bs, ldn, Bg + j0 * a.B_stride_t, a.B_stride_t, kTile, N, valid_j, vec, NoScale{});
        load_tile(Xs, ldp, xg + j0 * a.x_stride_t, a.x_stride_t, kTile, P, valid_j, vec, NoScale{});
        for (int j = threadIdx.x; j < kTile; j += blockDim.x) {
            cum_j[j] = j < valid_j ? cm[j0 + j] : 0.f;
            dt_j[j] = j < valid_j ? dv[j0 + j] : 0.f;
        }
        __syncthreads();
        // scores C Bᵀ: 16 fragments of 16×16, two per warp
#pragma unroll
        for (int f = 0; f < 2; f++) {
            const int fi = warp + f * 8;
            const int mi = fi / 4, nj = fi % 4;
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> sc;
            wmma::fill_fragment(sc, 0.f);
            for (int kk = 0; kk < N; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
                wmma::load_matrix_sync(fa, Cs + mi * 16 * ldn + kk, ldn);
                wmma::load_matrix_sync(fb, Bs + nj * 16 * ldn + kk, ldn);
                wmma::mma_sync(sc, fa, fb, sc);
            }
            wmma::store_matrix_sync(Sf + mi * 16 * ldsf + nj * 16, sc, ldsf, wmma::mem_row_major);
        }
        __syncthreads();
        const bool diag = jt == rt;
        for (int idx = threadIdx.x; idx < kTile * kTile; idx += blockDim.x) {
            const int i = idx / kTile, j = idx % kTile;
            float v = 0.f;
            if ((!diag || j <= i) && j < valid_j)
                v = Sf[i * ldsf + j] * __expf(fminf(cum_i[i] - cum_j[j], 0.f)) * dt_j[j];
            Pm[i * ldpm + j] = from_f32<T>(v);
        }
        __syncthreads();
#pragma unroll
        for (int f = 0; f < 4; f++) {
            const int fi = warp + f * 8;
            if (fi < nfy) {
                const int mi = fi / (P / 16), pj = fi % (P / 16);
#pragma unroll
                for (int kk = 0; kk < kTile; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
                    wmma::load_matrix_sync(fa, Pm + mi * 16 * ldpm + kk, ldpm);
                    wmma::load_matrix_sync(fb, Xs + kk * ldp + pj * 16, ldp);
                    wmma::mma_sync(acc[f], fa, fb, acc[f]);
                }
            }
        }
    }
#pragma unroll
    for (int f = 0; f < 4; f++) {
        const int fi = warp + f * 8;
        if (fi < nfy) {
            const int mi = fi / (P / 16), pj = fi % (P / 16);
            wmma::store_matrix_sync(Ys + mi * 16 * ldyf + pj * 16, acc[f], ldyf, wmma::mem_row_major);
        }
    }
    __syncthreads();
    // Epilogue: D skip and z gate; Xs holds the diagonal tile = this tile's own tokens.
    const float Dh = a.D ? a.D[h] : 0.f;
    const T* zg = static_cast<const T*>(a.z);
    T* yg = static_cast<T*>(a.y) + b * a.y_stride_b + h * P;
    for (int idx = threadIdx.x; idx < valid_i * P; idx += blockDim.x) {
        const int i = idx / P, p = idx % P;
        float v = Ys[i * ldyf + p] + Dh * to_f32(Xs[i * ldp + p]);
        if (zg) v *= silu_f(to_f32(zg[b * a.z_stride_b + (i0 + i) * a.z_stride_t + h * P + p]));
        yg[(i0 + i) * a.y_stride_t + p] = from_f32<T>(v);
    }
}

// ---- chunk scan on raw mma.sync (m16n8k16), the heads of a group in one block. Block =
// (chunk c, 64-row tile rt, group g, a run of up to HS heads of g), 4 warps × 16 rows.
// C·Bᵀ depends only on the group: phase 1 computes the score tiles of rows rt against key
// tiles 0..rt once and keeps them in shared memory as fp32, each thread's accumulator
// fragments in its own slots (so no barrier between writing and reading them); C stays in
// registers as the A operand. Phase 2 walks the heads, streaming each head's incoming state
// (N/64 units) and X tiles (rt + 1 units), all 64×64 tiles of T, through a ring of kRing
// shared-memory units with cp.async, plus the head's cum / w / Δ rows:
//   O  = exp(cum_i) · C·S_inᵀ
//   O += Σ_{key tiles j < rt} (CB_ij · exp(cum_i − cum_e) · w_j) X_j   (e: end of j's tile;
//        both factors <= 1, their product is exp(cum_i − cum_j)·Δ_j; one exp per row)
//   O += Σ_{j <= i in tile rt} (CB_ij · exp(cum_i − cum_j) · Δ_j) X_j
//   y  = (O + D·x) · silu(z)
// The decayed scores are rounded to T as the A operand of P·X (as mamba_ssm does).
// P = 64, N in {64, 128}; 16-byte aligned rows (else the wmma kernel).
constexpr int kRing = 4;             // shared-memory units in flight (64 × (64 + 8) T each)
constexpr int kUnitLd = kTile + 8;   // row stride of a unit: 144 bytes, conflict-free ldmatrix

static size_t chunk_scan_mma_smem(int Q, size_t esize) {
    return size_t(Q / kTile) * 4 * 8 * 32 * 16          // score tiles, float4 per thread and n-tile
           + size_t(kRing) * kTile * kUnitLd * esize    // ring
           + size_t(4) * (2 * Q + kTile) * 4;           // cum / w / Δ of 4 heads
}

// grid (nchunks · Q/64 · G · ceil((H/G)/HS), B), 128 threads.
template <class T, int P, int N>
__global__ void __launch_bounds__(128, 2) ssd_chunk_scan_mma_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                                    const float* __restrict__ dtv,
                                                                    const float* __restrict__ cum,
                                                                    const float* __restrict__ wv,
                                                                    const T* __restrict__ incoming, int64_t nchunks,
                                                                    int HS, bool y_pairs) {
    static_assert(P == 64 && (N == 64 || N == 128), "units of 64 columns");
    constexpr int NU = N / 64;  // units per row of C, B, S_in
    static_assert(2 * NU <= kRing, "C and one B tile fit the ring");
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const int tiles_per_chunk = Q / kTile;
    float4* CBs = reinterpret_cast<float4*>(smem_raw);                 // [tile][warp][8][32]
    T* ring = reinterpret_cast<T*>(CBs + tiles_per_chunk * 4 * 8 * 32);  // [kRing][64][kUnitLd]
    float* scal = reinterpret_cast<float*>(ring + kRing * kTile * kUnitLd);  // [4][cum Q | w Q | Δ 64]
    const int slot_floats = 2 * Q + kTile;

    // heavy row tiles first; the row tiles of one (chunk, group, heads) side by side (X, S_in from L2)
    const int hpg = int(a.heads / a.groups), nsplit = (hpg + HS - 1) / HS;
    int64_t idx = blockIdx.x;
    const int rt = tiles_per_chunk - 1 - int(idx % tiles_per_chunk);
    idx /= tiles_per_chunk;
    const int hs = int(idx % nsplit);
    idx /= nsplit;
    const int64_t g = idx % a.groups, c = idx / a.groups, b = blockIdx.y;
    const int64_t t0 = c * Q, i0 = t0 + int64_t(rt) * kTile;
    if (i0 >= a.seqlen) return;
    const int64_t h0 = g * hpg + int64_t(hs) * HS;
    const int nh = min(HS, hpg - hs * HS);
    const int valid_i = int(min(int64_t(kTile), a.seqlen - i0));
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gq = lane >> 2, tig = lane & 3;
    const int r0 = warp * 16 + gq, r1 = r0 + 8;

    auto unit = [&](int u) { return ring + u * kTile * kUnitLd; };
    // 64 rows × 64 columns of T from src (row stride `stride`), rows >= valid as zeros; thread
    // copies 16 bytes of rows lr, lr + 16, lr + 32, lr + 48 (128 threads)
    const int lr = threadIdx.x >> 3, lc = (threadIdx.x & 7) * 8;
    auto load_unit = [&](int u, const T* src, int64_t stride, int valid) {
        T* dst = unit(u) + lr * kUnitLd + lc;
        const T* sp = src + lr * stride + lc;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const bool ok = lr + 16 * k < valid;
            cp_async16(dst + 16 * k * kUnitLd, ok ? sp + 16 * k * stride : src, ok);
        }
    };

    // ---- phase 1: C → registers, score tiles C·B_jᵀ → shared memory
    const T* Cg = static_cast<const T*>(a.C) + b * a.C_stride_b + i0 * a.C_stride_t + g * N;
    const T* Bg = static_cast<const T*>(a.B) + b * a.B_stride_b + t0 * a.B_stride_t + g * N;
    auto load_B = [&](int jt) {  // key tile jt into units ((jt + 1) & 1)·NU ...
        const int valid_j = int(min(int64_t(kTile), a.seqlen - t0 - int64_t(jt) * kTile));
#pragma unroll
        for (int k = 0; k < NU; k++)
            load_unit(((jt + 1) & 1) * NU + k, Bg + int64_t(jt) * kTile * a.B_stride_t + k * 64, a.B_stride_t, valid_j);
    };
#pragma unroll
    for (int k = 0; k < NU; k++) load_unit(k, Cg + k * 64, a.C_stride_t, valid_i);
    load_B(0);
    cp_async_commit();
    cp_async_wait_all();
    __syncthreads();
    unsigned ca[N / 16][4];
#pragma unroll
    for (int kk = 0; kk < N / 16; kk++)
        ldsm_x4(ca[kk], unit(kk / 4) + (warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kUnitLd + (kk % 4) * 16 +
                            (lane >> 4) * 8);
    __syncthreads();  // C units free
    for (int jt = 0; jt <= rt; jt++) {
        if (jt < rt) {
            load_B(jt + 1);
            cp_async_commit();
        }
        const int ub = ((jt + 1) & 1) * NU;
        float s[kTile / 8][4];
#pragma unroll
        for (int nt = 0; nt < kTile / 8; nt++) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < N / 16; kk++)
#pragma unroll
            for (int jp = 0; jp < kTile / 16; jp++) {
                unsigned bf[4];
                ldsm_x4(bf, unit(ub + kk / 4) + (jp * 16 + (lane & 7) + (lane >> 4) * 8) * kUnitLd + (kk % 4) * 16 +
                                ((lane >> 3) & 1) * 8);
                mma16816<T>(s[2 * jp], ca[kk], bf[0], bf[1]);
                mma16816<T>(s[2 * jp + 1], ca[kk], bf[2], bf[3]);
            }
        float4* cb = CBs + (jt * 4 + warp) * 8 * 32 + lane;
#pragma unroll
        for (int nt = 0; nt < kTile / 8; nt++) cb[nt * 32] = make_float4(s[nt][0], s[nt][1], s[nt][2], s[nt][3]);
        cp_async_wait_all();
        __syncthreads();
    }

    // ---- phase 2: the heads; stage s = (head s / spH, part s % spH): S_in units, then X tiles 0..rt
    const int spH = NU + rt + 1, total = nh * spH;
    const int64_t HPN = int64_t(P) * N;
    // loads run kRing − 1 stages ahead of compute; (lh, lk): head and part of the next stage to load
    int lh = 0, lk = 0;
    const T* in_c = incoming + ((b * nchunks + c) * a.heads + h0) * HPN;
    const T* x_c = static_cast<const T*>(a.x) + b * a.x_stride_b + t0 * a.x_stride_t + h0 * P;
    const float* cum_c = cum + (b * a.heads + h0) * Lpad + t0;
    const float* wv_c = wv + (b * a.heads + h0) * Lpad + t0;
    const float* dv_c = dtv + (b * a.heads + h0) * Lpad + t0 + rt * kTile;
    auto load_stage = [&](int st) {
        if (st < total) {
            const int u = st % kRing;
            if (lk < NU) {
                load_unit(u, in_c + lh * HPN + lk * 64, N, P);
                if (lk == 0) {  // the head's cum [0, (rt+1)·64), w [0, rt·64), Δ of tile rt
                    float* sl = scal + (lh & 3) * slot_floats;
                    const int64_t o = int64_t(lh) * Lpad;
                    const int ncum = (rt + 1) * 16, nw = rt * 16;
                    const int e = threadIdx.x;
                    if (e < ncum) cp_async16(sl + e * 4, cum_c + o + e * 4, true);
                    else if (e < ncum + nw) cp_async16(sl + Q + (e - ncum) * 4, wv_c + o + (e - ncum) * 4, true);
                    else if (e < ncum + nw + 16) cp_async16(sl + 2 * Q + (e - ncum - nw) * 4, dv_c + o + (e - ncum - nw) * 4, true);
                }
            } else {
                const int jt = lk - NU;
                load_unit(u, x_c + int64_t(jt) * kTile * a.x_stride_t + lh * P, a.x_stride_t,
                          int(min(int64_t(kTile), a.seqlen - t0 - int64_t(jt) * kTile)));
            }
            if (++lk == spH) lk = 0, lh++;
        }
        cp_async_commit();  // empty groups keep the wait count uniform
    };
#pragma unroll
    for (int st = 0; st < kRing - 1; st++) load_stage(st);

    const T* zg = static_cast<const T*>(a.z);
    float o[P / 8][4];
    int hi = 0, k = 0;  // head and part of the stage being computed
    for (int st = 0; st < total; st++, (++k == spH ? (k = 0, hi++) : 0)) {
        cp_async_wait<kRing - 2>();
        __syncthreads();  // stage st landed for all; stage st-1 done, its unit free
        load_stage(st + kRing - 1);
        const T* U = unit(st % kRing);
        const float* scum = scal + (hi & 3) * slot_floats;
        const float ci0 = scum[rt * kTile + r0], ci1 = scum[rt * kTile + r1];
        if (k < NU) {  // O (+)= C[:, 64k..] · S_in[:, 64k..]ᵀ
            if (k == 0) {
#pragma unroll
                for (int nt = 0; nt < P / 8; nt++) o[nt][0] = o[nt][1] = o[nt][2] = o[nt][3] = 0.f;
            }
#pragma unroll
            for (int ku = 0; ku < NU; ku++) {
                if (ku != k) continue;
#pragma unroll
                for (int kq = 0; kq < 4; kq++)
#pragma unroll
                    for (int np = 0; np < P / 16; np++) {
                        unsigned bf[4];
                        ldsm_x4(bf, U + (np * 16 + (lane & 7) + (lane >> 4) * 8) * kUnitLd + kq * 16 + ((lane >> 3) & 1) * 8);
                        mma16816<T>(o[2 * np], ca[ku * 4 + kq], bf[0], bf[1]);
                        mma16816<T>(o[2 * np + 1], ca[ku * 4 + kq], bf[2], bf[3]);
                    }
            }
            if (k == NU - 1) {
                const float e0 = __expf(fminf(ci0, 0.f)), e1 = __expf(fminf(ci1, 0.f));
#pragma unroll
                for (int nt = 0; nt < P / 8; nt++) {
                    o[nt][0] *= e0; o[nt][1] *= e0; o[nt][2] *= e1; o[nt][3] *= e1;
                }
            }
            continue;
        }
        const int jt = k - NU;
        const float4* cb = CBs + (jt * 4 + warp) * 8 * 32 + lane;
        const bool diag = jt == rt;
        float a0 = 1.f, a1 = 1.f;
        if (!diag) {
            const float ce = scum[jt * kTile + kTile - 1];
            a0 = __expf(fminf(ci0 - ce, 0.f));
            a1 = __expf(fminf(ci1 - ce, 0.f));
        }
        const float* sw = scum + Q + jt * kTile;
        const float* scj = scum + rt * kTile;
        const float* sdt = scum + 2 * Q;
#pragma unroll
        for (int kk = 0; kk < kTile / 16; kk++) {
            if (diag && kk > warp) break;  // keys after every row of this warp
            const float4 s0 = cb[(2 * kk) * 32], s1 = cb[(2 * kk + 1) * 32];
            const int j = kk * 16 + 2 * tig;  // columns j, j+1 (s0) and j+8, j+9 (s1)
            float v[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
            if (!diag) {
                const float2 w0 = *reinterpret_cast<const float2*>(sw + j), w8 = *reinterpret_cast<const float2*>(sw + j + 8);
                v[0] *= a0 * w0.x; v[1] *= a0 * w0.y; v[2] *= a1 * w0.x; v[3] *= a1 * w0.y;
                v[4] *= a0 * w8.x; v[5] *= a0 * w8.y; v[6] *= a1 * w8.x; v[7] *= a1 * w8.y;
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++) {
                    const int col = j + (e >> 2) * 8 + (e & 1);
                    const int row = (e & 2) ? r1 : r0;
                    const float ci = (e & 2) ? ci1 : ci0;
                    v[e] = col > row ? 0.f : v[e] * __expf(fminf(ci - scj[col], 0.f)) * sdt[col];
                }
            }
            const unsigned pa[4] = {pack2<T>(v[0], v[1]), pack2<T>(v[2], v[3]), pack2<T>(v[4], v[5]), pack2<T>(v[6], v[7])};
#pragma unroll
            for (int np = 0; np < P / 16; np++) {
                unsigned bf[4];
                ldsm_x4_trans(bf, U + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kUnitLd + np * 16 + (lane >> 4) * 8);
                mma16816<T>(o[2 * np], pa, bf[0], bf[1]);
                mma16816<T>(o[2 * np + 1], pa, bf[2], bf[3]);
            }
        }
        if (!diag) continue;
        // epilogue of the head: D skip and z gate; U holds this tile's own tokens
        const int64_t h = h0 + hi;
        const float Dh = a.D ? a.D[h] : 0.f;
        T* yg = static_cast<T*>(a.y) + b * a.y_stride_b + h * P;
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int row = half ? r1 : r0;
            if (row >= valid_i) continue;
            const int64_t t = i0 + row;
#pragma unroll
            for (int nt = 0; nt < P / 8; nt++) {
                const int p = nt * 8 + 2 * tig;
                float v0 = o[nt][2 * half] + Dh * to_f32(U[row * kUnitLd + p]);
                float v1 = o[nt][2 * half + 1] + Dh * to_f32(U[row * kUnitLd + p + 1]);
                if (zg) {
                    const T* zr = zg + b * a.z_stride_b + t * a.z_stride_t + h * P + p;
                    v0 *= silu_f(to_f32(zr[0]));
                    v1 *= silu_f(to_f32(zr[1]));
                }
                T* yr = yg + t * a.y_stride_t + p;
                if (y_pairs) {
                    *reinterpret_cast<unsigned*>(yr) = pack2<T>(v0, v1);
                } else {
                    yr[0] = from_f32<T>(v0);
                    yr[1] = from_f32<T>(v1);
                }
            }
        }
    }
}

// ---- chunk states and state passing in one pass, on mma.sync. Block = (b, h), 4·N/64 warps:
// warp (pb, nu) owns state rows p in [16 pb, 16 pb + 16) and columns n in [64 nu, 64 nu + 64)
// in fp32 registers and walks the chunks in order; each 64-token tile of x and B (and the
// chunk weights wc_t = exp(cum_last − cum_t)·Δ_t) streams through a ring of kStateRing stages
// with cp.async. At the start of chunk c the registers hold S_in[c]: written (as T) for the
// chunk scan, then S ← exp(cum_last_c)·S + Xᵀ·diag(wc)·B over the chunk's tiles (Xᵀ·diag(wc)
// rounded to T as the A operand). The state after the last chunk goes to ssm_state (fp32).
// No fp32 chunk states in memory; the recurrence over chunks is the loop itself.
constexpr int kStateRing = 6;
constexpr int kStageScalars = 80;  // wc of the tile's 64 tokens, then cum[t0 + Q − 4, t0 + Q)

template <int N, class T>
constexpr size_t chunk_state_fused_smem() {
    return size_t(kStateRing) * ((1 + N / 64) * kTile * kUnitLd * sizeof(T) + kStageScalars * 4);
}

// grid (H, B), 128·N/64 threads.
template <class T, int P, int N>
__global__ void __launch_bounds__(256) ssd_chunk_state_fused_kernel(const mamba4j_ssd_args a, int Q, int64_t Lpad,
                                                                      const float* __restrict__ cum,
                                                                      const float* __restrict__ wc, T* __restrict__ incoming,
                                                                      int64_t nchunks) {
    static_assert(P == 64 && (N == 64 || N == 128), "4 warps × 16 rows, units of 64 columns");
    constexpr int NU = N / 64;
    constexpr size_t kStageBytes = (1 + NU) * kTile * kUnitLd * sizeof(T) + kStageScalars * 4;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const int64_t g = h / (a.heads / a.groups);
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gq = lane >> 2, tig = lane & 3;
    const int pb = warp & 3, nu = warp >> 2;
    const int tpc = Q / kTile;
    const int total = int(nchunks) * tpc;
    const int64_t HPN = int64_t(P) * N;
    auto stage_x = [&](int u) { return reinterpret_cast<T*>(smem_raw + u * kStageBytes); };
    auto stage_s = [&](int u) {
        return reinterpret_cast<float*>(smem_raw + u * kStageBytes + (1 + NU) * kTile * kUnitLd * sizeof(T));
    };
    const T* xg = static_cast<const T*>(a.x) + b * a.x_stride_b + h * P;
    const T* Bg = static_cast<const T*>(a.B) + b * a.B_stride_b + g * N;
    const float* cm = cum + (b * a.heads + h) * Lpad;
    const float* wcg = wc + (b * a.heads + h) * Lpad;

    // thread copies 16 bytes of rows lr + RP·i of each unit (RP = threads / 8 = 16·NU)
    constexpr int RP = 16 * NU, PASSES = kTile / RP;
    const int lr = threadIdx.x >> 3, lc = (threadIdx.x & 7) * 8;
    const T* xp = xg + lr * a.x_stride_t + lc;
    const T* bp = Bg + lr * a.B_stride_t + lc;
    const int64_t xs = RP * a.x_stride_t, bs = RP * a.B_stride_t;
    auto load_stage = [&](int st) {
        if (st < total) {
            const int u = st % kStateRing;
            const int64_t t = int64_t(st) * kTile;  // chunks are whole tiles, so tile st starts at token st·64
            const int valid = int(min(int64_t(kTile), a.seqlen - t));  // may be <= 0 in the last chunk
            T* X = stage_x(u) + lr * kUnitLd + lc;
            const T* xsrc = xp + t * a.x_stride_t;
            const T* bsrc = bp + t * a.B_stride_t;
#pragma unroll
            for (int i = 0; i < PASSES; i++) {
                const bool ok = lr + RP * i < valid;
                cp_async16(X + RP * i * kUnitLd, ok ? xsrc + i * xs : xg, ok);
#pragma unroll
                for (int k = 0; k < NU; k++)
                    cp_async16(X + ((1 + k) * kTile + RP * i) * kUnitLd, ok ? bsrc + i * bs + k * 64 : xg, ok);
            }
            float* S = stage_s(u);
            const int e = threadIdx.x;
            if (e < 16) cp_async16(S + e * 4, wcg + t + e * 4, true);
            else if (e == 16) cp_async16(S + 64, cm + (st / tpc) * int64_t(Q) + Q - 4, true);
        }
        cp_async_commit();
    };

    float acc[8][4];
    const int p0 = pb * 16 + gq;
    float* Sg = a.ssm_state ? a.ssm_state + (slot * a.heads + h) * HPN : nullptr;
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
        const int n = nu * 64 + nt * 8 + 2 * tig;
        float2 v0 = make_float2(0.f, 0.f), v1 = v0;
        if (Sg) {
            v0 = *reinterpret_cast<const float2*>(Sg + p0 * N + n);
            v1 = *reinterpret_cast<const float2*>(Sg + (p0 + 8) * N + n);
        }
        acc[nt][0] = v0.x; acc[nt][1] = v0.y; acc[nt][2] = v1.x; acc[nt][3] = v1.y;
    }
#pragma unroll
    for (int st = 0; st < kStateRing - 1; st++) load_stage(st);

    for (int st = 0; st < total; st++) {
        cp_async_wait<kStateRing - 2>();
        __syncthreads();
        load_stage(st + kStateRing - 1);
        const int u = st % kStateRing;
        const T* X = stage_x(u);
        const T* Bu = X + (1 + nu) * kTile * kUnitLd;
        const float* S = stage_s(u);
        if (st % tpc == 0) {  // chunk start: S_in[c] out, then decay by the chunk's total
            const int64_t c = st / tpc;
            T* in = incoming + ((b * nchunks + c) * a.heads + h) * HPN;
            const float decay = __expf(fminf(S[64 + 3], 0.f));
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                const int n = nu * 64 + nt * 8 + 2 * tig;
                *reinterpret_cast<unsigned*>(in + p0 * N + n) = pack2<T>(acc[nt][0], acc[nt][1]);
                *reinterpret_cast<unsigned*>(in + (p0 + 8) * N + n) = pack2<T>(acc[nt][2], acc[nt][3]);
#pragma unroll
                for (int e = 0; e < 4; e++) acc[nt][e] *= decay;
            }
        }
#pragma unroll
        for (int kk = 0; kk < kTile / 16; kk++) {
            unsigned xa[4];
            ldsm_x4_trans(xa, X + (kk * 16 + (lane & 7) + (lane >> 4) * 8) * kUnitLd + pb * 16 + ((lane >> 3) & 1) * 8);
            // scale column t of Xᵀ by wc_t: registers 0,1 hold t = 2tig, 2tig+1; 2,3 hold t + 8
            const float2 w0 = *reinterpret_cast<const float2*>(S + kk * 16 + 2 * tig);
            const float2 w8 = *reinterpret_cast<const float2*>(S + kk * 16 + 8 + 2 * tig);
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const float2 w = r < 2 ? w0 : w8;
                float2 f;
                if constexpr (std::is_same_v<T, __nv_bfloat16>) f = __bfloat1622float2(*reinterpret_cast<__nv_bfloat162*>(&xa[r]));
                else f = __half22float2(*reinterpret_cast<__half2*>(&xa[r]));
                xa[r] = pack2<T>(f.x * w.x, f.y * w.y);
            }
#pragma unroll
            for (int np = 0; np < 4; np++) {
                unsigned bf[4];
                ldsm_x4_trans(bf, Bu + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kUnitLd + np * 16 + (lane >> 4) * 8);
                mma16816<T>(acc[2 * np], xa, bf[0], bf[1]);
                mma16816<T>(acc[2 * np + 1], xa, bf[2], bf[3]);
            }
        }
    }
    if (Sg) {
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            const int n = nu * 64 + nt * 8 + 2 * tig;
            *reinterpret_cast<float2*>(Sg + p0 * N + n) = make_float2(acc[nt][0], acc[nt][1]);
            *reinterpret_cast<float2*>(Sg + (p0 + 8) * N + n) = make_float2(acc[nt][2], acc[nt][3]);
        }
    }
}

static size_t chunk_scan_smem(int P, int N, size_t esize) {
    return esize * (size_t(kTile) * (N + 8) * 2 + size_t(P) * (N + 8) + size_t(kTile) * (P + 8) + size_t(kTile) * (kTile + 8)) +
           4 * (size_t(kTile) * (kTile + 4) + size_t(kTile) * (P + 4) + 3 * kTile);
}
static size_t chunk_state_smem(int P, int N, size_t esize) {
    return esize * (size_t(kTile) * (P + 8) + size_t(kTile) * (N + 8)) + 4 * kTile;
}

bool ssd_chunked_supported(const mamba4j_ssd_args& a) {
    return a.dtype != MAMBA4J_F32 && a.head_dim % 16 == 0 && a.head_dim <= 128 && a.state % 16 == 0 && a.state <= 256;
}

template <class T>
static void launch_chunked(mamba4j_context* ctx, const mamba4j_ssd_args& a) {
    const int Q = (a.chunk_size > 0 && a.chunk_size <= 256 && a.chunk_size % kTile == 0) ? int(a.chunk_size) : 256;
    const int64_t nchunks = (a.seqlen + Q - 1) / Q;
    const int64_t Lpad = nchunks * Q;
    const int P = int(a.head_dim), N = int(a.state);
    const int64_t B = a.batch, H = a.heads;
    if (nchunks * (Q / kTile) > 65535 || H > 65535 || B > 65535)
        fail(MAMBA4J_ERR_UNSUPPORTED, "ssd: grid too large for one CUDA launch");
    cudaStream_t s = stream_of(ctx);
    const size_t f_bytes = size_t(B * H * Lpad) * 4;
    const size_t st_bytes = size_t(B * nchunks * H) * P * N * 4;
    const size_t in_bytes = size_t(B * nchunks * H) * P * N * sizeof(T);
    auto align256 = [](size_t v) { return (v + 255) / 256 * 256; };
    auto al16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    const bool vec = al16(a.x) && al16(a.B) && al16(a.C) && a.x_stride_t % 8 == 0 && a.x_stride_b % 8 == 0 &&
                     a.B_stride_t % 8 == 0 && a.B_stride_b % 8 == 0 && a.C_stride_t % 8 == 0 &&
                     a.C_stride_b % 8 == 0 && P % 8 == 0 && N % 8 == 0;

    const bool mma_path = vec && P == 64 && (N == 128 || N == 64);
    const size_t st_used = mma_path ? 0 : align256(st_bytes);  // fp32 chunk states: only off the mma path
    Scratch ws(ctx, 4 * align256(f_bytes) + st_used + align256(in_bytes));
    float* dtv = ws.as<float>();
    float* cum = ws.as<float>(align256(f_bytes));
    float* wv = ws.as<float>(2 * align256(f_bytes));
    float* wcv = ws.as<float>(3 * align256(f_bytes));
    T* incoming = ws.as<T>(4 * align256(f_bytes));
    float* states = ws.as<float>(4 * align256(f_bytes) + align256(in_bytes));

    ssd_cumsum_kernel<T><<<dim3(unsigned(nchunks), unsigned(H), unsigned(B)), kCumThreads, 0, s>>>(a, Q, Lpad, dtv, cum, wv, wcv);
    check_launch("ssd_cumsum_kernel");

    if (mma_path) {
        auto run_state = [&](auto kernel, size_t smem, int threads) {
            check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "cudaFuncSetAttribute");
            kernel<<<dim3(unsigned(H), unsigned(B)), threads, smem, s>>>(a, Q, Lpad, cum, wcv, incoming, nchunks);
            check_launch("ssd_chunk_state_fused_kernel");
        };
        if (N == 128) run_state(ssd_chunk_state_fused_kernel<T, 64, 128>, chunk_state_fused_smem<128, T>(), 256);
        else run_state(ssd_chunk_state_fused_kernel<T, 64, 64>, chunk_state_fused_smem<64, T>(), 128);
    } else {
        const size_t sm_state = chunk_state_smem(P, N, sizeof(T));
        const int nf = (P / 16) * (N / 16);
        auto run_state = [&](auto kernel) {
            check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(sm_state)), "cudaFuncSetAttribute");
            kernel<<<dim3(unsigned(nchunks), unsigned(H), unsigned(B)), 256, sm_state, s>>>(a, Q, Lpad, dtv, cum, states,
                                                                                            nchunks, vec);
            check_launch("ssd_chunk_state_kernel");
        };
        if (nf <= 32) run_state(ssd_chunk_state_kernel<T, 4>);
        else run_state(ssd_chunk_state_kernel<T, 16>);
        ssd_state_pass_kernel<T><<<dim3(unsigned((int64_t(P) * N + 255) / 256), unsigned(H), unsigned(B)), 256, 0, s>>>(
            a, Q, Lpad, cum, states, incoming, nchunks);
        check_launch("ssd_state_pass_kernel");
    }

    if (mma_path) {
        // heads per block: all of the group's while that leaves >= 3 waves of 2 blocks per SM
        const int64_t sms = ctx->sm_count;
        const int hpg = int(H / a.groups);
        const int64_t tiles = nchunks * (Q / kTile) * a.groups;
        int HS = hpg;
        while (HS > 4 && tiles * ((hpg + HS - 1) / HS) < 6 * sms) HS = (HS + 1) / 2;
        const int64_t blocks = tiles * ((hpg + HS - 1) / HS);
        if (blocks > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "ssd: grid too large for one CUDA launch");
        const bool y_pairs = reinterpret_cast<uintptr_t>(a.y) % 4 == 0 && a.y_stride_t % 2 == 0 && a.y_stride_b % 2 == 0;
        const size_t smem = chunk_scan_mma_smem(Q, sizeof(T));
        auto run_mma = [&](auto kernel) {
            check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "cudaFuncSetAttribute");
            kernel<<<dim3(unsigned(blocks), unsigned(B)), 128, smem, s>>>(a, Q, Lpad, dtv, cum, wv, incoming, nchunks, HS,
                                                                           y_pairs);
            check_launch("ssd_chunk_scan_mma_kernel");
        };
        if (N == 128) run_mma(ssd_chunk_scan_mma_kernel<T, 64, 128>);
        else run_mma(ssd_chunk_scan_mma_kernel<T, 64, 64>);
        return;
    }
    const size_t sm_scan = chunk_scan_smem(P, N, sizeof(T));
    int dev_max = 0;
    check(cudaDeviceGetAttribute(&dev_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, ctx->device), "cudaDeviceGetAttribute");
    if (sm_scan > size_t(dev_max))
        fail(MAMBA4J_ERR_UNSUPPORTED, "ssd chunked: P=%d N=%d needs %zu bytes of shared memory, device has %d", P, N, sm_scan, dev_max);
    check(cudaFuncSetAttribute(ssd_chunk_scan_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(sm_scan)),
          "cudaFuncSetAttribute");
    ssd_chunk_scan_kernel<T><<<dim3(unsigned(nchunks * (Q / kTile)), unsigned(H), unsigned(B)), 256, sm_scan, s>>>(
        a, Q, Lpad, dtv, cum, incoming, nchunks, vec);
    check_launch("ssd_chunk_scan_kernel");
}

// AUTO: the recurrence for short sequences (decode) and fp32, the chunked tensor-core
// algorithm for bf16/fp16 prefill of 64 tokens or more. REFERENCE runs the recurrence.
void ssd(mamba4j_context* ctx, const mamba4j_ssd_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    if (a.heads % a.groups != 0) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "heads %% groups != 0");
    bool chunked = a.algo == MAMBA4J_ALGO_CHUNKED || (a.algo == MAMBA4J_ALGO_AUTO && a.seqlen >= 64);
    if (chunked && !ssd_chunked_supported(a)) {
        if (a.algo == MAMBA4J_ALGO_CHUNKED)
            fail(MAMBA4J_ERR_UNSUPPORTED,
                 "ssd CHUNKED on CUDA needs bf16/fp16, head_dim %% 16 == 0 (<= 128), state %% 16 == 0 (<= 256)");
        chunked = false;
    }
    switch (a.dtype) {
        case MAMBA4J_F32: return launch_recurrent<float>(ctx, a);
        case MAMBA4J_BF16: return chunked ? launch_chunked<__nv_bfloat16>(ctx, a) : launch_recurrent<__nv_bfloat16>(ctx, a);
        default: return chunked ? launch_chunked<__half>(ctx, a) : launch_recurrent<__half>(ctx, a);
    }
}

}  // namespace mamba4j::cuda
