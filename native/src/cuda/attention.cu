// Causal GQA attention with a KV cache on CUDA (same math as the CPU reference, mamba4j.h
// mamba4j_attention): the new k, v rows are written to the cache at start_pos[b] + t, then
// query t (position p = start_pos[b] + t) attends to cache positions 0..p:
//   out[b,t,h,:] = Σ_j softmax_j(scale · q·K[j, h/(Hq/Hkv)]) · V[j, h/(Hq/Hkv)]
//
// Kernels:
//  * attn_append:      copies k, v into the cache (runs first, same stream).
//  * attn_flash_mma:   prefill on the tensor cores (bf16/fp16, d = 64 or 128, 16-byte rows):
//                      FlashAttention-2 style, 64 queries per block (4 warps × 16 rows), Q in
//                      registers, 64-key tiles of K and V double-buffered with cp.async,
//                      S = Q·Kᵀ in registers, online softmax (running max and sum, exp2), P·V
//                      with P straight from the score registers; the L×L matrix never exists.
//  * attn_split:       any dtype, d in {64, 128, 256}: one block per (up to 4 query heads of
//                      one KV head, key split, token), so K/V are read once per group;
//                      8 lanes per key (d/8 elements each), 16 keys in flight per block,
//                      online softmax in fp32. With several splits (decode over long
//                      caches) each writes (max, sum, unnormalised output) and
//                      attn_combine merges them (split-KV / flash-decoding).
// AUTO: L == 1 → attn_split (split over the keys); L > 1 → attn_flash_mma when it applies,
// else attn_split (one split per token). FLASH forces the tensor-core kernel (UNSUPPORTED
// where it does not apply); REFERENCE runs attn_split with one split.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "../kernels.h"
#include "cuda_util.cuh"
#include "mma.cuh"

namespace mamba4j::cuda {

// ------------------------------------------------------------------ append

template <class T>
__global__ void __launch_bounds__(128) attn_append_kernel(const mamba4j_attention_args a) {
    const int64_t t = blockIdx.x, b = blockIdx.y;
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

// ------------------------------------------------------------------ flash prefill (mma.sync)


constexpr int kAttnTile = 64;

template <int D, class T>
constexpr size_t attn_flash_smem() {
    return sizeof(T) * size_t(kAttnTile) * (D + 8) * 5;  // Q, K[2], V[2]
}

// grid (ceil(L/64), Hq, B), 128 threads.
template <class T, int D>
__global__ void __launch_bounds__(128) attn_flash_mma_kernel(const mamba4j_attention_args a, float scale_log2) {
    constexpr int LD = D + 8;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Qs = reinterpret_cast<T*>(smem_raw);
    T* Ks = Qs + kAttnTile * LD;      // [2][64][LD]
    T* Vs = Ks + 2 * kAttnTile * LD;  // [2][64][LD]
    const int64_t hq = blockIdx.y, b = blockIdx.z;
    const int64_t hk = hq / (a.q_heads / a.kv_heads);
    const int64_t slot = a.slots ? a.slots[b] : b;
    const int64_t start = a.start_pos ? a.start_pos[b] : 0;
    const int64_t q0 = int64_t(gridDim.x - 1 - blockIdx.x) * kAttnTile;  // longest rows first
    const int valid_q = int(min(int64_t(kAttnTile), a.seqlen - q0));
    const int64_t kv_len = start + q0 + valid_q;  // keys this tile needs
    const int ntiles = int((kv_len + kAttnTile - 1) / kAttnTile);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gq = lane >> 2, tig = lane & 3;
    const int64_t row = a.kv_heads * D;
    const T* Kg = static_cast<const T*>(a.k_cache) + (slot * a.capacity) * row + hk * D;
    const T* Vg = static_cast<const T*>(a.v_cache) + (slot * a.capacity) * row + hk * D;
    const T* Qg = static_cast<const T*>(a.q) + b * a.q_stride_b + q0 * a.q_stride_t + hq * D;

    auto load_rows = [&](T* dst, const T* src, int64_t stride, int valid) {
        for (int idx = threadIdx.x; idx < kAttnTile * (D / 8); idx += blockDim.x) {
            const int r = idx / (D / 8), c8 = (idx % (D / 8)) * 8;
            const bool ok = r < valid;
            cp_async16(dst + r * LD + c8, ok ? src + r * stride + c8 : src, ok);
        }
    };
    auto prefetch = [&](int jt, int buf) {
        const int64_t j0 = int64_t(jt) * kAttnTile;
        const int valid = int(min(int64_t(kAttnTile), kv_len - j0));
        load_rows(Ks + buf * kAttnTile * LD, Kg + j0 * row, row, valid);
        load_rows(Vs + buf * kAttnTile * LD, Vg + j0 * row, row, valid);
        cp_async_commit();
    };
    load_rows(Qs, Qg, a.q_stride_t, valid_q);
    cp_async_commit();
    prefetch(0, 0);
    cp_async_wait_all();
    __syncthreads();

    unsigned qa[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
        ldsm_x4(qa[kk], Qs + (warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + kk * 16 + (lane >> 4) * 8);
    const int r0 = warp * 16 + gq, r1 = r0 + 8;
    // positions of my two rows (rows past L take the last valid position: no stray keys)
    const int64_t pos0 = start + q0 + min(r0, valid_q - 1), pos1 = start + q0 + min(r1, valid_q - 1);
    float o[D / 8][4];
#pragma unroll
    for (int nt = 0; nt < D / 8; nt++) o[nt][0] = o[nt][1] = o[nt][2] = o[nt][3] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;

    for (int jt = 0; jt < ntiles; jt++) {
        const int buf = jt & 1;
        if (jt + 1 < ntiles) prefetch(jt + 1, buf ^ 1);
        const T* Kb = Ks + buf * kAttnTile * LD;
        const T* Vb = Vs + buf * kAttnTile * LD;
        float s[kAttnTile / 8][4];
#pragma unroll
        for (int nt = 0; nt < kAttnTile / 8; nt++) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
            for (int jp = 0; jp < kAttnTile / 16; jp++) {
                unsigned bf[4];
                ldsm_x4(bf, Kb + (jp * 16 + (lane & 7) + (lane >> 4) * 8) * LD + kk * 16 + ((lane >> 3) & 1) * 8);
                mma16816<T>(s[2 * jp], qa[kk], bf[0], bf[1]);
                mma16816<T>(s[2 * jp + 1], qa[kk], bf[2], bf[3]);
            }
        const int64_t j0 = int64_t(jt) * kAttnTile;
        const bool need_mask = j0 + kAttnTile - 1 > pos0;  // the tile reaches past a row's position
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < kAttnTile / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t key = j0 + nt * 8 + 2 * tig + (e & 1);
                const int64_t pos = e < 2 ? pos0 : pos1;
                const float v = (!need_mask || key <= pos) ? s[nt][e] * scale_log2 : -INFINITY;
                s[nt][e] = v;
                if (e < 2) mx0 = fmaxf(mx0, v);
                else mx1 = fmaxf(mx1, v);
            }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);  // finite: key 0 is always visible
        const float al0 = exp2f(m0 - mn0), al1 = exp2f(m1 - mn1);
        m0 = mn0;
        m1 = mn1;
        float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
        for (int nt = 0; nt < kAttnTile / 8; nt++) {
            s[nt][0] = exp2f(s[nt][0] - mn0);
            s[nt][1] = exp2f(s[nt][1] - mn0);
            s[nt][2] = exp2f(s[nt][2] - mn1);
            s[nt][3] = exp2f(s[nt][3] - mn1);
            sum0 += s[nt][0] + s[nt][1];
            sum1 += s[nt][2] + s[nt][3];
        }
        l0 = l0 * al0 + sum0;
        l1 = l1 * al1 + sum1;
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) {
            o[nt][0] *= al0; o[nt][1] *= al0; o[nt][2] *= al1; o[nt][3] *= al1;
        }
#pragma unroll
        for (int kk = 0; kk < kAttnTile / 16; kk++) {
            const unsigned pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                    pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                    pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int np = 0; np < D / 16; np++) {
                unsigned bf[4];
                ldsm_x4_trans(bf, Vb + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + np * 16 + (lane >> 4) * 8);
                mma16816<T>(o[2 * np], pa, bf[0], bf[1]);
                mma16816<T>(o[2 * np + 1], pa, bf[2], bf[3]);
            }
        }
        cp_async_wait_all();
        __syncthreads();
    }
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.f / l0, inv1 = 1.f / l1;
    T* og = static_cast<T*>(a.out) + b * a.out_stride_b + q0 * a.out_stride_t + hq * D;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        const int r = half ? r1 : r0;
        if (r >= valid_q) continue;
        const float inv = half ? inv1 : inv0;
#pragma unroll
        for (int nt = 0; nt < D / 8; nt++) {
            const int d = nt * 8 + 2 * tig;
            T* p = og + r * a.out_stride_t + d;
            p[0] = from_f32<T>(o[nt][2 * half] * inv);
            p[1] = from_f32<T>(o[nt][2 * half + 1] * inv);
        }
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

static bool flash_applies(const mamba4j_attention_args& a) {
    auto al16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    return a.dtype != MAMBA4J_F32 && (a.head_dim == 64 || a.head_dim == 128) && al16(a.q) && al16(a.k_cache) &&
           al16(a.v_cache) && a.q_stride_t % 8 == 0 && a.q_stride_b % 8 == 0;
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

template <class T>
static void launch(mamba4j_context* ctx, const mamba4j_attention_args& a) {
    cudaStream_t s = stream_of(ctx);
    attn_append_kernel<T><<<dim3(unsigned(a.seqlen), unsigned(a.batch)), 128, 0, s>>>(a);
    check_launch("attn_append_kernel");
    const float scale = a.scale > 0.f ? a.scale : 1.f / std::sqrt(float(a.head_dim));
    const float scale_log2 = scale * 1.4426950408889634f;
    const int D = int(a.head_dim);
    bool flash = a.algo == MAMBA4J_ALGO_FLASH || (a.algo == MAMBA4J_ALGO_AUTO && a.seqlen > 1);
    if (flash && !flash_applies(a)) {
        if (a.algo == MAMBA4J_ALGO_FLASH)
            fail(MAMBA4J_ERR_UNSUPPORTED, "attention FLASH on CUDA needs bf16/fp16, head_dim 64 or 128 and 16-byte aligned rows");
        flash = false;
    }
    if constexpr (!std::is_same_v<T, float>) {
        if (flash) {
            if (a.seqlen > int64_t(65535) * kAttnTile) fail(MAMBA4J_ERR_UNSUPPORTED, "attention: L too long for one launch");
            auto run = [&](auto kernel, size_t smem) {
                check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "cudaFuncSetAttribute");
                kernel<<<dim3(unsigned((a.seqlen + kAttnTile - 1) / kAttnTile), unsigned(a.q_heads), unsigned(a.batch)), 128,
                         smem, s>>>(a, scale_log2);
                check_launch("attn_flash_mma_kernel");
            };
            if (D == 128) run(attn_flash_mma_kernel<T, 128>, attn_flash_smem<128, T>());
            else run(attn_flash_mma_kernel<T, 64>, attn_flash_smem<64, T>());
            return;
        }
    }
    // split-KV: enough blocks to fill the GPU for decode; one split per token for prefill.
    const int64_t G = a.q_heads / a.kv_heads;
    const int gb = (G % 4 == 0 && D <= 64) ? 4 : (G % 2 == 0 ? 2 : 1);  // query heads per block (registers)
    int splits = 1;
    if (a.algo != MAMBA4J_ALGO_REFERENCE) {
        int sms = 132;
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, ctx->device);
        const int64_t rows = a.batch * a.seqlen * a.q_heads / gb;
        const int64_t want = (int64_t(sms) * 6 + rows - 1) / rows;
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
