// Causal GQA attention with a KV cache on CUDA (same math as the CPU reference, mamba4j.h
// mamba4j_attention): the new k, v rows are written to the cache at start_pos[b] + t, then
// query t (position p = start_pos[b] + t) attends to cache positions 0..p:
//   out[b,t,h,:] = Σ_j softmax_j(scale · q·K[j, h/(Hq/Hkv)]) · V[j, h/(Hq/Hkv)]
//
// Kernels:
//  * attn_append:      copies k, v into the cache (runs first, same stream).
//  * attn_flash_mma:   prefill on the tensor cores (bf16/fp16, d = 64 or 128, 16-byte rows):
//                      FlashAttention-2 style. A block takes 128 query rows of one head
//                      (4 warps × 32 rows: each K/V fragment read from shared memory feeds
//                      two MMAs); 64-key tiles of K and V double-buffered with cp.async into
//                      padded (conflict-free) shared memory; ldmatrix (.trans for V) feeds
//                      mma.sync m16n8k16 with fp32 accumulators; online softmax in registers
//                      (exp2, scale folded into one FMA), P·V with P straight from the score
//                      registers; masking only on the diagonal tiles, warps skip the tiles
//                      wholly in their future; longest query tiles first, the query heads of
//                      one KV head side by side. The L×L matrix never exists.
//  * attn_decode_mma:  decode and short continuations (L <= 4) on the tensor cores: the
//                      query heads of one KV head (GQA) are the rows of a 16-row mma tile;
//                      a block streams one key range (split) with double-buffered cp.async
//                      64-key tiles, each warp 16 keys of a tile with its own online softmax,
//                      merged in shared memory; splits fill one wave of resident blocks and
//                      attn_combine merges them (split-KV / flash-decoding).
//  * attn_split:       any dtype, d in {64, 128, 256} (f32, d 256, REFERENCE): one block per
//                      (up to 4 query heads of one KV head, key split, token); 8 lanes per
//                      key, online softmax in fp32; attn_combine merges the splits.
// AUTO: L <= 4 → attn_decode_mma (split over the keys), else attn_flash_mma, where they apply
// (else attn_split). FLASH forces attn_flash_mma (UNSUPPORTED where it does not apply);
// REFERENCE runs attn_split with one split.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>

#include "../kernels.h"
#include "cuda_util.cuh"
#include "mma.cuh"

namespace mamba4j::cuda {

// ------------------------------------------------------------------ append

// grid (L, B). Block (0, 0) also zeroes the n_counters split counters of attn_decode_mma.
template <class T>
__global__ void __launch_bounds__(128) attn_append_kernel(const mamba4j_attention_args a, int* counters, int n_counters) {
    const int64_t t = blockIdx.x, b = blockIdx.y;
    if (t == 0 && b == 0)
        for (int i = threadIdx.x; i < n_counters; i += blockDim.x) counters[i] = 0;
    const int64_t slot = a.slots ? a.slots[b] : b;
    const int64_t pos = (a.start_pos ? a.start_pos[b] : 0) + t;
    const int64_t row = a.kv_heads * a.head_dim;
    const T* k = static_cast<const T*>(a.k) + b * a.kv_stride_b + t * a.kv_stride_t;
    const T* v = static_cast<const T*>(a.v) + b * a.kv_stride_b + t * a.kv_stride_t;
    T* kc = static_cast<T*>(a.k_cache) + (slot * a.capacity + pos) * row;
    T* vc = static_cast<T*>(a.v_cache) + (slot * a.capacity + pos) * row;
    for (int64_t i = threadIdx.x; i < row; i += blockDim.x) {
        kc[i] = k[i];
        vc[i] = v[i];
    }
}

// ------------------------------------------------------------------ tensor-core tiles

// Shared-memory tiles are row-major [rows][D] with a padded row of LD = D + 8 elements: the
// 8 row addresses of one ldmatrix (and the 16-byte cp.async writes) fall in distinct banks.
// Keys come in tiles of kAttnKeys; one warp's scores for 16·MT rows × 8·NT keys live in
// registers as mma accumulators s[mt][nt][4]: element e is row mt·16 + lane/4 + 8·(e/2),
// key nt·8 + 2·(lane%4) + e%2 (the same layout for the output o[mt][D/8][4] over channels).
constexpr int kAttnKeys = 64;

// rows [0, valid) of a ROWS × D tile from global (row stride `stride` elements) to shared,
// rows past `valid` zero-filled; every thread of the NTHREADS block takes part.
template <class T, int D, int ROWS, int NTHREADS>
__device__ __forceinline__ void tile_load(T* dst, const T* src, int64_t stride, int valid) {
    constexpr int CH = D / 8, LD = D + 8, STEP = NTHREADS / CH;  // 16-byte chunks per row; rows per pass
    static_assert(NTHREADS % CH == 0 && ROWS % STEP == 0, "tile does not split evenly over the block");
    const int r0 = int(threadIdx.x) / CH, c8 = (int(threadIdx.x) % CH) * 8;
    dst += r0 * LD + c8;
    const T* p = src + r0 * stride + c8;
    const int64_t step = STEP * stride;
#pragma unroll
    for (int i = 0; i < ROWS / STEP; i++, p += step) {
        const bool ok = r0 + i * STEP < valid;
        cp_async16(dst + i * STEP * LD, ok ? p : src, ok);
    }
}

// s = Q·Kᵀ for the warp: Q rows at Qs (16·MT of them), keys at Ks (8·NT of them).
template <class T, int D, int MT, int NT>
__device__ __forceinline__ void warp_qk(float (&s)[MT][NT][4], const T* Qs, const T* Ks, int lane) {
    constexpr int LD = D + 8;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        unsigned qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) ldsm_x4(qa[mt], Qs + (mt * 16 + (lane & 15)) * LD + kk * 16 + (lane >> 4) * 8);
#pragma unroll
        for (int jp = 0; jp < NT / 2; jp++) {
            unsigned kb[4];
            ldsm_x4(kb, Ks + (jp * 16 + (lane & 7) + (lane >> 4) * 8) * LD + kk * 16 + ((lane >> 3) & 1) * 8);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                mma16816<T>(s[mt][2 * jp], qa[mt], kb[0], kb[1]);
                mma16816<T>(s[mt][2 * jp + 1], qa[mt], kb[2], kb[3]);
            }
        }
    }
}

// o += P·V for the warp: P = the probabilities in s (rounded to T, as FlashAttention does),
// V rows at Vs (the same 8·NT keys).
template <class T, int D, int MT, int NT>
__device__ __forceinline__ void warp_pv(float (&o)[MT][D / 8][4], const float (&s)[MT][NT][4], const T* Vs, int lane) {
    constexpr int LD = D + 8;
#pragma unroll
    for (int kk = 0; kk < NT / 2; kk++) {
        unsigned pa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            pa[mt][0] = pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
            pa[mt][1] = pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
            pa[mt][2] = pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
            pa[mt][3] = pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
#pragma unroll
        for (int np = 0; np < D / 16; np++) {
            unsigned vb[4];
            ldsm_x4_trans(vb, Vs + (kk * 16 + (lane & 15)) * LD + np * 16 + (lane >> 4) * 8);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                mma16816<T>(o[mt][2 * np], pa[mt], vb[0], vb[1]);
                mma16816<T>(o[mt][2 * np + 1], pa[mt], vb[2], vb[3]);
            }
        }
    }
}

// One key tile of the online softmax. s: raw scores (masked ones −∞) in, p = 2^(c·s − c·m)
// out (c = scale·log2 e); m: running raw max per row, l: this lane's share of the running
// sum; o is rescaled by 2^(c·m_old − c·m_new). Rows whose keys are all masked so far keep
// m = −∞, l = 0, o = 0.
template <int MT, int NT, int DN>
__device__ __forceinline__ void online_softmax(float (&s)[MT][NT][4], float (&o)[MT][DN][4], float (&m)[MT][2],
                                               float (&l)[MT][2], float c) {
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float mx = m[mt][h];
#pragma unroll
            for (int nt = 0; nt < NT; nt++) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * h], s[mt][nt][2 * h + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float cm = mx == -INFINITY ? 0.f : mx * c;
            const float alpha = exp2f(m[mt][h] * c - cm);  // 0 while m = −∞
            m[mt][h] = mx;
            float sum = 0.f;
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 2 * h; e < 2 * h + 2; e++) {
                    s[mt][nt][e] = exp2f(fmaf(s[mt][nt][e], c, -cm));
                    sum += s[mt][nt][e];
                }
            l[mt][h] = l[mt][h] * alpha + sum;
#pragma unroll
            for (int dn = 0; dn < DN; dn++) {
                o[mt][dn][2 * h] *= alpha;
                o[mt][dn][2 * h + 1] *= alpha;
            }
        }
}

// ------------------------------------------------------------------ flash prefill (mma.sync)

// NW warps of 16·MT query rows each: BM = 16·MT·NW rows of one head per block; Q, and two
// buffers of K and V tiles (cp.async, the next tile loads while this one is used).
template <class T, int D, int MT, int NW, int BN>
struct FlashTile {
    static constexpr int BM = 16 * MT * NW, LD = D + 8;
    static constexpr size_t smem = sizeof(T) * size_t(LD) * (BM + 4 * BN);
};

// grid (ceil(L/BM) · B · Hq): heads fastest (the query heads of one KV head run side by side
// and share its K/V in L2), then rows, then query tiles from the last (longest) to the first.
template <class T, int D, int MT, int NW, int BN>
__global__ void __launch_bounds__(NW * 32, 2) attn_flash_mma_kernel(const mamba4j_attention_args a, float c) {
    using Tile = FlashTile<T, D, MT, NW, BN>;
    constexpr int BM = Tile::BM, LD = Tile::LD, NT = BN / 8;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Qs = reinterpret_cast<T*>(smem_raw);
    T* Ks = Qs + BM * LD;       // [2][BN][LD]
    T* Vs = Ks + 2 * BN * LD;   // [2][BN][LD]
    int64_t idx = blockIdx.x;
    const int64_t hq = idx % a.q_heads;
    idx /= a.q_heads;
    const int64_t b = idx % a.batch;
    const int64_t q0 = ((a.seqlen + BM - 1) / BM - 1 - idx / a.batch) * BM;
    const int64_t hk = hq / (a.q_heads / a.kv_heads);
    const int64_t slot = a.slots ? a.slots[b] : b;
    const int64_t start = a.start_pos ? a.start_pos[b] : 0;
    const int valid_q = int(min(int64_t(BM), a.seqlen - q0));
    const int64_t kv_len = start + q0 + valid_q;  // keys this block needs
    const int ntiles = int((kv_len + BN - 1) / BN);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int wr0 = warp * 16 * MT;  // first row of this warp
    const int64_t row = a.kv_heads * D;
    const T* Kg = static_cast<const T*>(a.k_cache) + (slot * a.capacity) * row + hk * D;
    const T* Vg = static_cast<const T*>(a.v_cache) + (slot * a.capacity) * row + hk * D;
    const T* Qg = static_cast<const T*>(a.q) + b * a.q_stride_b + q0 * a.q_stride_t + hq * D;

    auto prefetch = [&](int jt, int buf) {
        const int64_t j0 = int64_t(jt) * BN;
        const int valid = int(min(int64_t(BN), kv_len - j0));
        tile_load<T, D, BN, NW * 32>(Ks + buf * BN * LD, Kg + j0 * row, row, valid);
        tile_load<T, D, BN, NW * 32>(Vs + buf * BN * LD, Vg + j0 * row, row, valid);
    };
    tile_load<T, D, BM, NW * 32>(Qs, Qg, a.q_stride_t, valid_q);
    prefetch(0, 0);
    cp_async_commit();

    // positions of my rows (rows past L take the last valid position: no stray keys)
    const int64_t p0 = start + q0;
    int rpos[MT][2];  // relative to p0
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) rpos[mt][h] = min(wr0 + mt * 16 + h * 8 + (lane >> 2), valid_q - 1);
    const int64_t pos_lo = p0 + min(wr0, valid_q - 1), pos_hi = p0 + min(wr0 + 16 * MT - 1, valid_q - 1);
    float o[MT][D / 8][4], m[MT][2], l[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) o[mt][nt][0] = o[mt][nt][1] = o[mt][nt][2] = o[mt][nt][3] = 0.f;
        m[mt][0] = m[mt][1] = -INFINITY;
        l[mt][0] = l[mt][1] = 0.f;
    }

    for (int jt = 0; jt < ntiles; jt++) {
        const int buf = jt & 1;
        if (jt + 1 < ntiles) prefetch(jt + 1, buf ^ 1);
        cp_async_commit();
        cp_async_wait<1>();  // tile jt (and Q) have landed
        __syncthreads();
        const int64_t j0 = int64_t(jt) * BN;
        if (wr0 < valid_q && j0 <= pos_hi) {  // else no rows, or every key is in my rows' future
            float s[MT][NT][4];
            warp_qk<T, D, MT, NT>(s, Qs + wr0 * LD, Ks + buf * BN * LD, lane);
            if (j0 + BN - 1 > pos_lo) {  // the diagonal: mask keys past each row's position
                const int dj = int(j0 - p0);  // > -BN here
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
#pragma unroll
                    for (int nt = 0; nt < NT; nt++)
#pragma unroll
                        for (int e = 0; e < 4; e++)
                            if (dj + nt * 8 + 2 * (lane & 3) + (e & 1) > rpos[mt][e >> 1]) s[mt][nt][e] = -INFINITY;
            }
            online_softmax<MT, NT, D / 8>(s, o, m, l, c);
            warp_pv<T, D, MT, NT>(o, s, Vs + buf * BN * LD, lane);
        }
        __syncthreads();  // buffer `buf` refills in the next iteration
    }
    // normalise, stage the warp's rows in its own part of Qs, store 16 bytes per lane
    T* Os = Qs + wr0 * LD;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float sum = l[mt][h];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const float inv = 1.f / sum;
            const int r = mt * 16 + h * 8 + (lane >> 2);
#pragma unroll
            for (int dn = 0; dn < D / 8; dn++)
                *reinterpret_cast<unsigned*>(Os + r * LD + dn * 8 + 2 * (lane & 3)) =
                    pack2<T>(o[mt][dn][2 * h] * inv, o[mt][dn][2 * h + 1] * inv);
        }
    __syncwarp();
    T* og = static_cast<T*>(a.out) + b * a.out_stride_b + q0 * a.out_stride_t + hq * D;
#pragma unroll
    for (int i = lane; i < 16 * MT * (D / 8); i += 32) {
        const int r = i / (D / 8), c8 = (i % (D / 8)) * 8;
        if (wr0 + r < valid_q)
            *reinterpret_cast<uint4*>(og + (wr0 + r) * a.out_stride_t + c8) = *reinterpret_cast<const uint4*>(Os + r * LD + c8);
    }
}

// ------------------------------------------------------------------ split-KV decode (mma.sync)

// The query heads of one KV head are the rows of one 16-row mma tile (decode has one query
// per head: GQA turns into a small matrix product). Each block takes one key range (split)
// of one token: 64-key tiles through an S-stage cp.async pipeline, each warp 16 keys of a
// tile with its own online softmax; the 4 warps merge through shared memory at the end.
template <class T, int D, int S>
__host__ __device__ constexpr size_t attn_decode_smem() {
    return sizeof(T) * size_t(D + 8) * (16 + 2 * S * kAttnKeys);
}

// grid (Hkv · ceil(G/16), splits, B·L), 128 threads. With splits > 1 each block writes its
// partials (as attn_split_kernel) and the last block of a (token, head group) to finish,
// counted in counters[blockIdx.z · gridDim.x + blockIdx.x] (zeroed by attn_append), merges
// them: no combine kernel.
template <class T, int D, int S>
__global__ void __launch_bounds__(128) attn_decode_mma_kernel(const mamba4j_attention_args a, float c, int splits,
                                                              float* part_o, float* part_ml, int* counters) {
    constexpr int BN = kAttnKeys, LD = D + 8, NT = 2;  // 16 keys per warp
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Qs = reinterpret_cast<T*>(smem_raw);
    T* Ks = Qs + 16 * LD;      // [S][BN][LD]
    T* Vs = Ks + S * BN * LD;  // [S][BN][LD]
    const int64_t G = a.q_heads / a.kv_heads, groups = (G + 15) / 16;
    const int64_t hk = blockIdx.x / groups, h0 = hk * G + (blockIdx.x % groups) * 16;  // first query head
    const int rows = int(min(int64_t(16), hk * G + G - h0));
    const int64_t sp = blockIdx.y, bt = blockIdx.z;
    const int64_t b = bt / a.seqlen, t = bt % a.seqlen;
    const int64_t slot = a.slots ? a.slots[b] : b;
    const int64_t kv_len = (a.start_pos ? a.start_pos[b] : 0) + t + 1;
    const int64_t per = ((kv_len + splits - 1) / splits + 15) / 16 * 16;
    const int64_t k_begin = min(kv_len, sp * per), k_end = min(kv_len, k_begin + per);
    const int ntiles = int((k_end - k_begin + BN - 1) / BN);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t row = a.kv_heads * D;
    const T* Kg = static_cast<const T*>(a.k_cache) + (slot * a.capacity + k_begin) * row + hk * D;
    const T* Vg = static_cast<const T*>(a.v_cache) + (slot * a.capacity + k_begin) * row + hk * D;
    const int64_t n_keys = k_end - k_begin;

    auto prefetch = [&](int jt, int buf) {
        const int64_t j0 = int64_t(jt) * BN;
        const int valid = int(min(int64_t(BN), n_keys - j0));
        tile_load<T, D, BN, 128>(Ks + buf * BN * LD, Kg + j0 * row, row, valid);
        tile_load<T, D, BN, 128>(Vs + buf * BN * LD, Vg + j0 * row, row, valid);
    };
    tile_load<T, D, 16, 128>(Qs, static_cast<const T*>(a.q) + b * a.q_stride_b + t * a.q_stride_t + h0 * D, D, rows);
#pragma unroll
    for (int st = 0; st < S - 1; st++) {  // S − 1 tiles ahead
        if (st < ntiles) prefetch(st, st);
        cp_async_commit();
    }

    float o[1][D / 8][4], m[1][2] = {{-INFINITY, -INFINITY}}, l[1][2] = {{0.f, 0.f}};
#pragma unroll
    for (int nt = 0; nt < D / 8; nt++) o[0][nt][0] = o[0][nt][1] = o[0][nt][2] = o[0][nt][3] = 0.f;
    for (int jt = 0; jt < ntiles; jt++) {
        const int buf = jt % S;
        cp_async_wait<S - 2>();  // tile jt has landed
        __syncthreads();         // for every thread; and all are done with tile jt − 1, whose buffer refills now
        if (jt + S - 1 < ntiles) prefetch(jt + S - 1, (jt + S - 1) % S);
        cp_async_commit();
        const int64_t j0 = int64_t(jt) * BN + warp * 16;  // my 16 keys, relative to k_begin
        if (j0 < n_keys) {
            float s[1][NT][4];
            warp_qk<T, D, 1, NT>(s, Qs, Ks + (buf * BN + warp * 16) * LD, lane);
            if (j0 + 16 > n_keys)
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        if (j0 + nt * 8 + 2 * (lane & 3) + (e & 1) >= n_keys) s[0][nt][e] = -INFINITY;
            online_softmax<1, NT, D / 8>(s, o, m, l, c);
            warp_pv<T, D, 1, NT>(o, s, Vs + (buf * BN + warp * 16) * LD, lane);
        }
    }
    cp_async_wait_all();
    __syncthreads();
    // merge the warps: (max in the log2 domain, sum, unnormalised output) per row
    constexpr int SO = D + 8;                          // padded rows: float2 stores without conflicts
    float* sm_o = reinterpret_cast<float*>(smem_raw);  // [4][16][SO]
    float* sm_ml = sm_o + 4 * 16 * SO;                 // [4][16][2]
    static_assert(sizeof(float) * 4 * 16 * (SO + 2) <= attn_decode_smem<T, D, S>(), "merge area");
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int r = warp * 16 + h * 8 + (lane >> 2);
        float sum = l[0][h];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
#pragma unroll
        for (int dn = 0; dn < D / 8; dn++)
            *reinterpret_cast<float2*>(sm_o + r * SO + dn * 8 + 2 * (lane & 3)) = make_float2(o[0][dn][2 * h], o[0][dn][2 * h + 1]);
        if ((lane & 3) == 0) {
            sm_ml[r * 2] = m[0][h] * c;
            sm_ml[r * 2 + 1] = sum;
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < rows * D; i += 128) {
        const int r = i / D, d = i % D;
        float mx = -INFINITY;
#pragma unroll
        for (int w = 0; w < 4; w++) mx = fmaxf(mx, sm_ml[(w * 16 + r) * 2]);
        float sum = 0.f, acc = 0.f;
        if (mx != -INFINITY)
#pragma unroll
            for (int w = 0; w < 4; w++) {
                const float wt = exp2f(sm_ml[(w * 16 + r) * 2] - mx);  // 0 for an empty warp
                sum += sm_ml[(w * 16 + r) * 2 + 1] * wt;
                acc += sm_o[(w * 16 + r) * SO + d] * wt;
            }
        const int64_t hq = h0 + r;
        if (splits == 1) {
            static_cast<T*>(a.out)[b * a.out_stride_b + t * a.out_stride_t + hq * D + d] = from_f32<T>(acc / sum);
        } else {
            const int64_t pi = (bt * a.q_heads + hq) * splits + sp;
            part_o[pi * D + d] = acc;
            if (d == 0) {
                part_ml[pi * 2] = mx;
                part_ml[pi * 2 + 1] = sum;
            }
        }
    }
    if (splits == 1) return;
    __shared__ int is_last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) is_last = atomicAdd(counters + blockIdx.z * gridDim.x + blockIdx.x, 1) == splits - 1;
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    // merge the splits (online, as the warps above), 4 channels per thread, reads from L2
    for (int i = threadIdx.x; i < rows * (D / 4); i += 128) {
        const int r = i / (D / 4), d4 = (i % (D / 4)) * 4;
        const int64_t base = (bt * a.q_heads + h0 + r) * splits;
        float mx = -INFINITY, sum = 0.f;
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 8
        for (int s2 = 0; s2 < splits; s2++) {
            const float2 ml = __ldcg(reinterpret_cast<const float2*>(part_ml) + base + s2);
            const float4 ov = __ldcg(reinterpret_cast<const float4*>(part_o + (base + s2) * D + d4));
            if (ml.x == -INFINITY) continue;  // an empty split
            const float mn = fmaxf(mx, ml.x), w1 = exp2f(mx - mn), w2 = exp2f(ml.x - mn);
            sum = sum * w1 + ml.y * w2;
            acc.x = acc.x * w1 + ov.x * w2;
            acc.y = acc.y * w1 + ov.y * w2;
            acc.z = acc.z * w1 + ov.z * w2;
            acc.w = acc.w * w1 + ov.w * w2;
            mx = mn;
        }
        const float inv = 1.f / sum;
        T* op = static_cast<T*>(a.out) + b * a.out_stride_b + t * a.out_stride_t + (h0 + r) * D + d4;
        *reinterpret_cast<uint2*>(op) = make_uint2(pack2<T>(acc.x * inv, acc.y * inv), pack2<T>(acc.z * inv, acc.w * inv));
    }
}

// ------------------------------------------------------------------ split-KV (any dtype)

// grid (Hkv * G/GB, splits, B*L), 128 threads: GB query heads of one KV head per block, so
// each K/V row is read once for all of them. Lane group ks = lane/8 takes one key at a time;
// its 8 lanes hold D/8 channels each. Partials: part_o [(bt*Hq + h)*splits + sp][D],
// part_ml [.][2] (max and sum, log2 domain).
template <class T, int D, int GB>
__global__ void __launch_bounds__(128) attn_split_kernel(const mamba4j_attention_args a, float scale_log2, int splits,
                                                         float* part_o, float* part_ml) {
    constexpr int EPL = D / 8;
    const int64_t G = a.q_heads / a.kv_heads;
    const int64_t hk = blockIdx.x / (G / GB);
    const int64_t hq0 = hk * G + (blockIdx.x % (G / GB)) * GB;
    const int64_t sp = blockIdx.y, bt = blockIdx.z;
    const int64_t b = bt / a.seqlen, t = bt % a.seqlen;
    const int64_t slot = a.slots ? a.slots[b] : b;
    const int64_t kv_len = (a.start_pos ? a.start_pos[b] : 0) + t + 1;
    const int64_t per = (kv_len + splits - 1) / splits;
    const int64_t k_begin = sp * per, k_end = min(kv_len, k_begin + per);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int ks = lane >> 3, sub = lane & 7;
    const int64_t row = a.kv_heads * D;
    const T* Kg = static_cast<const T*>(a.k_cache) + (slot * a.capacity) * row + hk * D + sub * EPL;
    const T* Vg = static_cast<const T*>(a.v_cache) + (slot * a.capacity) * row + hk * D + sub * EPL;
    float q[GB][EPL], o[GB][EPL], m[GB], l[GB];
#pragma unroll
    for (int g = 0; g < GB; g++) {
        const T* qp = static_cast<const T*>(a.q) + b * a.q_stride_b + t * a.q_stride_t + (hq0 + g) * D + sub * EPL;
#pragma unroll
        for (int i = 0; i < EPL; i++) {
            q[g][i] = to_f32(qp[i]) * scale_log2;
            o[g][i] = 0.f;
        }
        m[g] = -INFINITY;
        l[g] = 0.f;
    }
    auto load_row = [](const T* r, float (&dst)[EPL]) {
        if constexpr (sizeof(T) == 2 && EPL % 8 == 0) {
#pragma unroll
            for (int i = 0; i < EPL; i += 8) {
                uint4 u = *reinterpret_cast<const uint4*>(r + i);
                const T* e = reinterpret_cast<const T*>(&u);
#pragma unroll
                for (int j = 0; j < 8; j++) dst[i + j] = to_f32(e[j]);
            }
        } else {
#pragma unroll
            for (int i = 0; i < EPL; i++) dst[i] = to_f32(r[i]);
        }
    };
    // Two keys per lane group per step, all four row loads issued before any use, so each
    // warp keeps 4 KB (d = 128, bf16) of K/V in flight.
    auto step = [&](bool ok, const float (&kv)[EPL], const float (&vv)[EPL]) {
#pragma unroll
        for (int g = 0; g < GB; g++) {
            float dot = 0.f;
#pragma unroll
            for (int i = 0; i < EPL; i++) dot = fmaf(q[g][i], kv[i], dot);
            dot += __shfl_xor_sync(0xffffffffu, dot, 1);
            dot += __shfl_xor_sync(0xffffffffu, dot, 2);
            dot += __shfl_xor_sync(0xffffffffu, dot, 4);
            if (!ok) dot = -INFINITY;
            const float mn = fmaxf(m[g], dot);
            const float al = mn == -INFINITY ? 1.f : exp2f(m[g] - mn);
            const float p = mn == -INFINITY ? 0.f : exp2f(dot - mn);
            m[g] = mn;
            l[g] = l[g] * al + p;
#pragma unroll
            for (int i = 0; i < EPL; i++) o[g][i] = o[g][i] * al + p * vv[i];
        }
    };
    for (int64_t kb = k_begin + warp * 4; kb < k_end; kb += 32) {
        const int64_t key0 = kb + ks, key1 = kb + 16 + ks;
        const bool ok0 = key0 < k_end, ok1 = key1 < k_end;
        float k0[EPL], v0[EPL], k1[EPL], v1[EPL];
        load_row(Kg + (ok0 ? key0 : k_begin) * row, k0);
        load_row(Kg + (ok1 ? key1 : k_begin) * row, k1);
        load_row(Vg + (ok0 ? key0 : k_begin) * row, v0);
        load_row(Vg + (ok1 ? key1 : k_begin) * row, v1);
        step(ok0, k0, v0);
        step(ok1, k1, v1);
    }
    // merge the 4 key groups of the warp, then the 4 warps
    auto merge = [&](int g, float m2, float l2, const float* o2) {
        const float mn = fmaxf(m[g], m2);
        if (mn == -INFINITY) return;
        const float a1 = exp2f(m[g] - mn), a2 = exp2f(m2 - mn);
        l[g] = l[g] * a1 + l2 * a2;
#pragma unroll
        for (int i = 0; i < EPL; i++) o[g][i] = o[g][i] * a1 + o2[i] * a2;
        m[g] = mn;
    };
#pragma unroll
    for (int g = 0; g < GB; g++)
#pragma unroll
        for (int off = 8; off <= 16; off <<= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m[g], off);
            const float l2 = __shfl_xor_sync(0xffffffffu, l[g], off);
            float o2[EPL];
#pragma unroll
            for (int i = 0; i < EPL; i++) o2[i] = __shfl_xor_sync(0xffffffffu, o[g][i], off);
            merge(g, m2, l2, o2);
        }
    __shared__ float sm_o[4][GB][D];
    __shared__ float sm_ml[4][GB][2];
    if (ks == 0) {
#pragma unroll
        for (int g = 0; g < GB; g++) {
#pragma unroll
            for (int i = 0; i < EPL; i++) sm_o[warp][g][sub * EPL + i] = o[g][i];
            if (sub == 0) {
                sm_ml[warp][g][0] = m[g];
                sm_ml[warp][g][1] = l[g];
            }
        }
    }
    __syncthreads();
    if (warp != 0 || ks != 0) return;
#pragma unroll
    for (int g = 0; g < GB; g++) {
        for (int w = 1; w < 4; w++) merge(g, sm_ml[w][g][0], sm_ml[w][g][1], &sm_o[w][g][sub * EPL]);
        const int64_t hq = hq0 + g;
        if (splits == 1) {
            T* op = static_cast<T*>(a.out) + b * a.out_stride_b + t * a.out_stride_t + hq * D + sub * EPL;
            const float inv = 1.f / l[g];
#pragma unroll
            for (int i = 0; i < EPL; i++) op[i] = from_f32<T>(o[g][i] * inv);
        } else {
            const int64_t pi = (bt * a.q_heads + hq) * splits + sp;
#pragma unroll
            for (int i = 0; i < EPL; i++) part_o[pi * D + sub * EPL + i] = o[g][i];
            if (sub == 0) {
                part_ml[pi * 2] = m[g];
                part_ml[pi * 2 + 1] = l[g];
            }
        }
    }
}

// grid (Hq, B*L), D threads: merges the splits.
template <class T>
__global__ void attn_combine_kernel(const mamba4j_attention_args a, int splits, const float* part_o, const float* part_ml) {
    const int64_t hq = blockIdx.x, bt = blockIdx.y;
    const int64_t b = bt / a.seqlen, t = bt % a.seqlen;
    const int64_t base = (bt * a.q_heads + hq) * splits;
    const int64_t D = a.head_dim;
    float mx = -INFINITY;
    for (int s = 0; s < splits; s++) mx = fmaxf(mx, part_ml[(base + s) * 2]);
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        float l = 0.f, acc = 0.f;
        for (int s = 0; s < splits; s++) {
            const float ms = part_ml[(base + s) * 2];
            if (ms == -INFINITY) continue;
            const float w = exp2f(ms - mx);
            l += part_ml[(base + s) * 2 + 1] * w;
            acc += part_o[(base + s) * D + d] * w;
        }
        static_cast<T*>(a.out)[b * a.out_stride_b + t * a.out_stride_t + hq * D + d] = from_f32<T>(acc / l);
    }
}

// ------------------------------------------------------------------ dispatch

// The tensor-core kernels: bf16/fp16, d 64 or 128, 16-byte aligned rows (cp.async, uint4 stores).
static bool mma_applies(const mamba4j_attention_args& a) {
    auto al16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    return a.dtype != MAMBA4J_F32 && (a.head_dim == 64 || a.head_dim == 128) && al16(a.q) && al16(a.k_cache) &&
           al16(a.v_cache) && al16(a.out) && a.q_stride_t % 8 == 0 && a.q_stride_b % 8 == 0 && a.out_stride_t % 8 == 0 &&
           a.out_stride_b % 8 == 0;
}

// Kernels with more than 48 KB of shared memory opt in once per device; the launchers keep
// what they looked up per device (it never changes) to keep the host side of a call short.
constexpr int kMaxDevices = 64;

template <class T>
static void append(mamba4j_context* ctx, const mamba4j_attention_args& a, int* counters = nullptr, int n_counters = 0) {
    attn_append_kernel<T><<<dim3(unsigned(a.seqlen), unsigned(a.batch)), 128, 0, stream_of(ctx)>>>(a, counters, n_counters);
    check_launch("attn_append_kernel");
}

template <class T, int D, int MT, int NW, int BN>
static void launch_flash(mamba4j_context* ctx, const mamba4j_attention_args& a, float c) {
    using Tile = FlashTile<T, D, MT, NW, BN>;
    auto kernel = attn_flash_mma_kernel<T, D, MT, NW, BN>;
    static std::atomic<bool> ready[kMaxDevices];
    if (ctx->device >= kMaxDevices || !ready[ctx->device].load(std::memory_order_relaxed)) {
        check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Tile::smem)), "cudaFuncSetAttribute");
        if (ctx->device < kMaxDevices) ready[ctx->device].store(true, std::memory_order_relaxed);
    }
    const int64_t blocks = (a.seqlen + Tile::BM - 1) / Tile::BM * a.batch * a.q_heads;
    if (blocks > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "attention: grid too large");
    append<T>(ctx, a);
    kernel<<<unsigned(blocks), NW * 32, Tile::smem, stream_of(ctx)>>>(a, c);
    check_launch("attn_flash_mma_kernel");
}

// Several splits over the keys when the (token, KV head) blocks alone leave SMs idle: as many
// as one wave of resident blocks holds, each at least 64 keys.
template <class T, int D, int S>
static void launch_decode(mamba4j_context* ctx, const mamba4j_attention_args& a, float c) {
    cudaStream_t s = stream_of(ctx);
    auto kernel = attn_decode_mma_kernel<T, D, S>;
    constexpr size_t smem = attn_decode_smem<T, D, S>();
    static std::atomic<int> waves[kMaxDevices];  // SMs × resident blocks, 0 until looked up
    int wave = ctx->device < kMaxDevices ? waves[ctx->device].load(std::memory_order_relaxed) : 0;
    if (wave == 0) {
        check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "cudaFuncSetAttribute");
        int resident = 0;
        check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, 128, smem), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        wave = std::max(1, ctx->sm_count * resident);
        if (ctx->device < kMaxDevices) waves[ctx->device].store(wave, std::memory_order_relaxed);
    }
    const int64_t G = a.q_heads / a.kv_heads, groups = (G + 15) / 16;
    const int64_t blocks = a.batch * a.seqlen * a.kv_heads * groups;
    if (a.batch * a.seqlen > 65535 || a.kv_heads * groups > 65535) fail(MAMBA4J_ERR_UNSUPPORTED, "attention: grid too large");
    const int splits = int(std::max<int64_t>(1, std::min<int64_t>({wave / blocks, (a.capacity + 63) / 64, 65535})));
    float *po = nullptr, *pml = nullptr;
    int* counters = nullptr;
    if (splits > 1) {
        const size_t n = size_t(a.batch * a.seqlen * a.q_heads) * splits;
        Scratch ws(ctx, n * (D + 2) * 4 + size_t(blocks) * 4);
        po = ws.as<float>();
        pml = po + n * D;
        counters = reinterpret_cast<int*>(pml + n * 2);
    }
    append<T>(ctx, a, counters, splits > 1 ? int(blocks) : 0);
    kernel<<<dim3(unsigned(a.kv_heads * groups), unsigned(splits), unsigned(a.batch * a.seqlen)), 128, smem, s>>>(
        a, c, splits, po, pml, counters);
    check_launch("attn_decode_mma_kernel");
}

template <class T, int D, int GB>
static void launch_split(mamba4j_context* ctx, const mamba4j_attention_args& a, float scale_log2, int splits) {
    cudaStream_t s = stream_of(ctx);
    float *po = nullptr, *pml = nullptr;
    if (splits > 1) {
        const size_t n = size_t(a.batch * a.seqlen * a.q_heads) * splits;
        Scratch ws(ctx, n * (D + 2) * 4);
        po = ws.as<float>();
        pml = po + n * D;
    }
    attn_split_kernel<T, D, GB><<<dim3(unsigned(a.q_heads / GB), unsigned(splits), unsigned(a.batch * a.seqlen)), 128, 0, s>>>(
        a, scale_log2, splits, po, pml);
    check_launch("attn_split_kernel");
    if (splits > 1) {
        attn_combine_kernel<T><<<dim3(unsigned(a.q_heads), unsigned(a.batch * a.seqlen)), D, 0, s>>>(a, splits, po, pml);
        check_launch("attn_combine_kernel");
    }
}

// Short continuations (L <= kDecodeRows) take the split-KV path: a prefill block of 128
// query rows would leave most of them empty and stream the whole cache with few blocks.
constexpr int64_t kDecodeRows = 4;
// cp.async stages of attn_decode_mma (3 measured no faster than 2 on an H100, and 2 lets
// 3 blocks share an SM at d = 128).
constexpr int kDecodeStages = 2;

template <class T>
static void launch(mamba4j_context* ctx, const mamba4j_attention_args& a) {
    const float scale = a.scale > 0.f ? a.scale : 1.f / std::sqrt(float(a.head_dim));
    const float scale_log2 = scale * 1.4426950408889634f;
    const int D = int(a.head_dim);
    const bool mma = mma_applies(a);
    if (a.algo == MAMBA4J_ALGO_FLASH && !mma)
        fail(MAMBA4J_ERR_UNSUPPORTED, "attention FLASH on CUDA needs bf16/fp16, head_dim 64 or 128 and 16-byte aligned rows");
    if constexpr (!std::is_same_v<T, float>) {
        if (mma && (a.algo == MAMBA4J_ALGO_FLASH || (a.algo == MAMBA4J_ALGO_AUTO && a.seqlen > kDecodeRows))) {
            if (D == 128) return launch_flash<T, 128, 2, 4, 64>(ctx, a, scale_log2);
            return launch_flash<T, 64, 2, 4, 64>(ctx, a, scale_log2);
        }
        if (mma && a.algo == MAMBA4J_ALGO_AUTO) {
            if (D == 128) return launch_decode<T, 128, kDecodeStages>(ctx, a, scale_log2);
            return launch_decode<T, 64, kDecodeStages>(ctx, a, scale_log2);
        }
    }
    append<T>(ctx, a);
    // split-KV: enough blocks to fill the GPU for decode; one split per token for prefill.
    const int64_t G = a.q_heads / a.kv_heads;
    const int gb = (G % 4 == 0 && D <= 64) ? 4 : (G % 2 == 0 ? 2 : 1);  // query heads per block (registers)
    int splits = 1;
    if (a.algo != MAMBA4J_ALGO_REFERENCE) {
        const int64_t sms = ctx->sm_count;
        const int64_t rows = a.batch * a.seqlen * a.q_heads / gb;
        const int64_t want = (sms * 6 + rows - 1) / rows;
        splits = int(std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(want, 256), (a.capacity + 255) / 256)));
    }
    if (a.batch * a.seqlen > 65535 || splits > 65535) fail(MAMBA4J_ERR_UNSUPPORTED, "attention: grid too large");
    auto by_group = [&](auto d) {
        constexpr int Dv = decltype(d)::value;
        if (gb == 4) {
            if constexpr (Dv <= 64) return launch_split<T, Dv, 4>(ctx, a, scale_log2, splits);
        }
        if (gb == 2) return launch_split<T, Dv, 2>(ctx, a, scale_log2, splits);
        return launch_split<T, Dv, 1>(ctx, a, scale_log2, splits);
    };
    switch (D) {
        case 64: return by_group(std::integral_constant<int, 64>{});
        case 128: return by_group(std::integral_constant<int, 128>{});
        case 256: return by_group(std::integral_constant<int, 256>{});
        default: fail(MAMBA4J_ERR_UNSUPPORTED, "attention on CUDA supports head_dim 64, 128 or 256, got %d", D);
    }
}

void attention(mamba4j_context* ctx, const mamba4j_attention_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    if (a.q_heads % a.kv_heads != 0) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "q_heads %% kv_heads != 0");
    if (a.seqlen > 2147483647 || a.batch > 65535) fail(MAMBA4J_ERR_UNSUPPORTED, "attention: grid too large");
    with_dtype(a.dtype, [&](auto t) { launch<decltype(t)>(ctx, a); });
}

}  // namespace mamba4j::cuda
