// Token sampling on CUDA (the definition in mamba4j.h; plain version in cpu/sample.cpp).
// One block per row, no sort. The kept set is always a prefix of the order "logit
// descending, lower id first", so it is a boundary (K, r): every id whose logit key is
// above K, plus the r lowest ids whose key equals K. The boundaries are found by bisection
// on the key, each step a block reduction of a count or a mass:
//   top-k:  the largest K with count(key >= K) >= top_k;   r = top_k − count(key > K)
//   top-p:  the largest K with mass(kept by top-k, key >= K) >= top_p · S_k;
//           r = the fewest ties at K that bring the mass to that target
//   min-p:  the smallest key >= K with w >= min_p, all its ties (a min reduction)
// Then the draw: each thread sums the kept weights of a contiguous range of ids, an
// exclusive scan over the threads places u·S in one range, and that thread walks it.
// ALGO_AUTO first looks for candidates: a logit value lo, found by a few bisection passes
// on the value over the row, above which lie at most kCap ids and every id the filters can
// keep (top-k <= kCap: count >= top_k; top-p: mass >= top_p · S; min-p: from its formula).
// Those ids are gathered in id order into shared memory and the steps above visit only
// them. Flat rows (no such lo in 12 passes), top-k > kCap, and ALGO_REFERENCE visit the
// whole row in every step (up to 16 (bf16), 19 (f16) or 32 (f32) passes per bisection).
// Keys: the fp32 value as an order-preserving uint32 (−0 as +0), shifted right by the low
// bits the dtype leaves zero (bf16 16, f16 13). Weights w = exp((x − max)/T) in fp32, summed
// in 2^-40 fixed point: integer sums are exact, so nothing depends on the order of addition.
// Memory: every pass over the row reads it in coalesced 16-byte vectors (Row below); the
// passes that need id order give each thread a contiguous range of vectors. Greedy is one
// pass; temperature only two and a walk (max, mass per range); top-k / top-p / min-p on a
// peaked row: the max, ~1–4 bisection passes, 2 gather passes, then ~30 block reductions
// over the candidates in shared memory. One block (1024 threads) per row.
// Measured before this version (H100, V 128256 bf16, gpu_test_kernels --bench sample; kCap
// 2048, the 64-bit argmax per element, key tests in the draw): greedy 27 µs, temperature
// 62–69, top-k 40 69, all three filters 74 at B 1 and 64; top-p 0.9 160 µs at B 64 and 533
// at B 1 (presumably no candidate set found in 12 passes: the whole-row path). The passes
// appear bound by the instructions per element on one SM (greedy: 27 µs with scalar or
// 16-byte loads alike), not by memory; this version trims them (float argmax per thread,
// 32-bit counters, no bounds tests inside the row, no key tests when nothing is filtered)
// and holds 4096 candidates (a numpy simulation of such rows: ~2 bisection passes, none
// failing, against ~4 and 1% failing with 2048). NOT YET MEASURED.
#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

constexpr int kThreads = 1024;
constexpr int kCap = 4096;  // candidates held in shared memory (8 bytes each)
constexpr float kFixedScale = 1099511627776.0f;  // 2^40

__device__ __forceinline__ uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
__device__ __forceinline__ uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }

__device__ __forceinline__ uint32_t order_key(float x) {
    uint32_t u = __float_as_uint(x);
    if (u == 0x80000000u) u = 0;  // −0 sorts with +0 (ties by id, as the CPU's float compare)
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Reduction over the block (blockDim.x = kThreads); every thread gets the result.
template <class T, class Op>
__device__ T block_reduce(T v, Op op) {
    __shared__ T part[32];
    __shared__ T result;
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        T r = part[threadIdx.x];
        for (int o = 16; o > 0; o >>= 1) r = op(r, __shfl_xor_sync(0xffffffffu, r, o));
        if (threadIdx.x == 0) result = r;
    }
    __syncthreads();
    const T r = result;
    __syncthreads();  // part and result are free for the next call
    return r;
}
struct Sum { template <class T> __device__ T operator()(T a, T b) const { return a + b; } };
struct Max { template <class T> __device__ T operator()(T a, T b) const { return a > b ? a : b; } };
struct Min { template <class T> __device__ T operator()(T a, T b) const { return a < b ? a : b; } };

// Exclusive prefix sum of one value per thread, in thread order; *total gets the sum.
__device__ uint64_t block_exclusive_scan(uint64_t v, uint64_t* total) {
    __shared__ uint64_t warp_sum[32];
    __shared__ uint64_t sum;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    uint64_t incl = v;
    for (int o = 1; o < 32; o <<= 1) {
        const uint64_t up = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += up;
    }
    if (lane == 31) warp_sum[warp] = incl;
    __syncthreads();
    if (warp == 0) {  // exclusive scan of the 32 warp sums
        const uint64_t s = warp_sum[lane];
        uint64_t run = s;
        for (int o = 1; o < 32; o <<= 1) {
            const uint64_t up = __shfl_up_sync(0xffffffffu, run, o);
            if (lane >= o) run += up;
        }
        warp_sum[lane] = run - s;
        if (lane == 31) sum = run;
    }
    __syncthreads();
    const uint64_t excl = warp_sum[warp] + incl - v;
    *total = sum;
    __syncthreads();
    return excl;
}

// One row read in 16-byte vectors of E elements, from the 16-byte aligned address at or
// before the row start (the lanes outside [0, vocab) are skipped; a 16-byte segment that
// holds a byte of the row is readable). Two visiting orders, both calling f(id, value):
//   strided: vector v by thread v mod kThreads (coalesced; for order-free reductions)
//   chunk:   thread t visits the contiguous vectors [t·cv, (t+1)·cv) in id order
template <class T>
struct Row {
    static constexpr int E = 16 / sizeof(T);
    const uint4* base;
    int mis, vocab, nvec;
    __device__ Row(const T* x, int vocab_) : vocab(vocab_) {
        mis = int((reinterpret_cast<uintptr_t>(x) & 15) / sizeof(T));
        base = reinterpret_cast<const uint4*>(x - mis);
        nvec = (mis + vocab + E - 1) / E;
    }
    template <class F>
    __device__ __forceinline__ void apply(int v, uint4 raw, F& f) const {
        T e[E];
        memcpy(e, &raw, 16);
        const int i0 = v * E - mis;
        if (i0 >= 0 && i0 + E <= vocab) {  // every vector but the first and the last
#pragma unroll
            for (int k = 0; k < E; k++) f(i0 + k, to_f32(e[k]));
        } else {
#pragma unroll
            for (int k = 0; k < E; k++)
                if (i0 + k >= 0 && i0 + k < vocab) f(i0 + k, to_f32(e[k]));
        }
    }
    template <class F>
    __device__ void strided(F f) const {
        int v = threadIdx.x;
        for (; v + 3 * kThreads < nvec; v += 4 * kThreads) {  // 4 loads in flight
            uint4 r[4];
#pragma unroll
            for (int u = 0; u < 4; u++) r[u] = __ldg(base + v + u * kThreads);
#pragma unroll
            for (int u = 0; u < 4; u++) apply(v + u * kThreads, r[u], f);
        }
        for (; v < nvec; v += kThreads) apply(v, __ldg(base + v), f);
    }
    template <class F>
    __device__ void chunk(F f) const {
        const int cv = (nvec + kThreads - 1) / kThreads;
        const int begin = min(nvec, int(threadIdx.x) * cv), end = min(nvec, begin + cv);
        int v = begin;
        for (; v + 3 < end; v += 4) {
            uint4 r[4];
#pragma unroll
            for (int u = 0; u < 4; u++) r[u] = __ldg(base + v + u);
#pragma unroll
            for (int u = 0; u < 4; u++) apply(v + u, r[u], f);
        }
        for (; v < end; v++) apply(v, __ldg(base + v), f);
    }
};

// logits row b at logits + b·stride [vocab]; inv_t = 1/temperature, 0 for greedy.
// top_k in [0, vocab) (0: off), top_p < 1 on, min_p > 0 on. out[b] = id, or -1 (bad row).
// compact: look for a candidate set of at most kCap ids first (ALGO_AUTO).
template <class T>
__global__ void __launch_bounds__(kThreads, 1) sample_kernel(const T* logits, int64_t stride, int vocab, int shift,
                                                          float inv_t, int top_k, float top_p, float min_p,
                                                          const float* uniforms, int32_t* out, int compact) {
    __shared__ uint32_t cand_id[kCap];  // candidates in increasing id order
    __shared__ float cand_x[kCap];      // and their logits
    const Row<T> row(logits + int64_t(blockIdx.x) * stride, vocab);
    const int tid = threadIdx.x;

    // pass 1: argmax (the first id of the largest value in each thread's increasing ids, then
    // packed key and lowest id over the threads), NaN; when sampling also the smallest value,
    // the smallest finite value and the count of finite values. NaN rows end at -1, so the
    // per-element steps need not skip NaN: bv starts at NaN so that the first id is taken.
    float bv = NAN, vlow = INFINITY, vmin = INFINITY;
    int bi = -1;
    bool nan_seen = false;
    uint64_t n_finite = 0;
    if (inv_t == 0.f) {
        row.strided([&](int i, float v) {
            if (!(v <= bv)) bv = v, bi = i;
            nan_seen |= v != v;
        });
    } else {
        row.strided([&](int i, float v) {
            if (!(v <= bv)) bv = v, bi = i;
            nan_seen |= v != v;
            vlow = fminf(vlow, v);
            const bool finite = v > -INFINITY;
            vmin = fminf(vmin, finite ? v : INFINITY);
            n_finite += finite;
        });
    }
    uint64_t best = bi >= 0 ? (uint64_t(order_key(bv)) << 32) | uint64_t(0xffffffffu - uint32_t(bi)) : 0;
    best = block_reduce(best, Max{});
    const int nan = block_reduce(int(nan_seen), Max{});
    const int argmax = int(0xffffffffu - uint32_t(best));
    if (nan) {
        if (tid == 0) out[blockIdx.x] = -1;
        return;
    }
    if (inv_t == 0.f) {
        if (tid == 0) out[blockIdx.x] = argmax;
        return;
    }
    const uint32_t kmax_raw = uint32_t(best >> 32);
    // the max value from its key (order_key is a bijection on non-NaN, −0 mapped as +0)
    const float m = __uint_as_float((kmax_raw & 0x80000000u) ? (kmax_raw & 0x7fffffffu) : ~kmax_raw);
    if (!isfinite(m)) {
        if (tid == 0) out[blockIdx.x] = -1;
        return;
    }
    vmin = block_reduce(vmin, Min{});
    const uint32_t kmin_all = block_reduce(order_key(vlow), Min{});  // vlow = inf: no id here
    n_finite = block_reduce(n_finite, Sum{});
    const uint32_t kmax = kmax_raw >> shift;
    auto key = [&](float v) { return order_key(v) >> shift; };
    auto weight_f = [&](float v) {  // the max is exactly 1 (inv_t may be inf for a tiny temperature)
        return v == m ? 1.f : __expf((v - m) * inv_t);
    };
    auto weight = [&](float v) { return uint64_t(__float2ull_rz(weight_f(v) * kFixedScale)); };
    // count and mass of the ids with x >= lo, over the row (mass only when asked)
    auto count_mass_from = [&](float lo, bool with_mass, uint64_t* count, uint64_t* mass) {
        uint32_t c = 0;  // per thread: at most vocab / kThreads
        uint64_t s = 0;
        if (with_mass)
            row.strided([&](int, float v) {
                if (v >= lo) c++, s += weight(v);
            });
        else
            row.strided([&](int, float v) { c += v >= lo; });
        *count = block_reduce(uint64_t(c), Sum{});
        *mass = with_mass ? block_reduce(s, Sum{}) : 0;
    };

    // Candidates: a value lo with every kept id at x >= lo and at most kCap ids there, found
    // by bisection on the value (few passes for peaked rows; none found for flat ones).
    //   top-k <= kCap: count(x >= lo) >= top_k;  else top-p: mass(x >= lo) >= top_p · S;
    //   else min-p: x >= m + (ln min_p − 0.01)·T (the margin covers the fp32 exp)
    uint64_t S_all = 0;  // the row's mass when top-p needs it without top-k
    int n = vocab;       // elements visited: the row, or the n candidates
    bool candidates = false;
    if (compact && (top_k > 0 ? top_k <= kCap : top_p < 1.f || min_p > 0.f)) {
        uint64_t cnt_lo, mass_lo = 0, c, s;
        float lo = vmin, hi = m, lo_bound = -INFINITY;
        const bool by_mass = top_k == 0 && top_p < 1.f;
        if (top_k > 0 || by_mass) {
            if (by_mass) count_mass_from(lo, true, &cnt_lo, &mass_lo);
            else cnt_lo = n_finite;  // count(x >= vmin): every finite id
            S_all = mass_lo;  // every id but the -inf ones (weight 0)
            const double target = double(top_p) * double(S_all);
            bool ok = top_k > 0 ? cnt_lo >= uint64_t(top_k) : true;
            for (int pass = 0; ok && cnt_lo > uint64_t(kCap) && pass < 12; pass++) {
                // the first guess high in the range (a peaked or normal row keeps few ids there)
                const float mid = pass == 0 ? 0.25f * lo + 0.75f * hi : 0.5f * lo + 0.5f * hi;
                if (!(mid > lo && mid < hi)) break;
                count_mass_from(mid, by_mass, &c, &s);
                if (top_k > 0 ? c >= uint64_t(top_k) : double(s) >= target) lo = mid, cnt_lo = c;
                else hi = mid;
            }
            if (ok && cnt_lo <= uint64_t(kCap)) lo_bound = lo;
        } else {
            lo = fmaxf(vmin, m + (logf(min_p) - 0.01f) / inv_t);
            count_mass_from(lo, false, &cnt_lo, &mass_lo);
            if (cnt_lo <= uint64_t(kCap)) lo_bound = lo;
        }
        if (lo_bound > -INFINITY) {  // gather them in id order: contiguous ranges, a scan
            uint64_t mine = 0, total;
            row.chunk([&](int, float v) { mine += v >= lo_bound; });
            uint64_t at = block_exclusive_scan(mine, &total);
            row.chunk([&](int i, float v) {
                if (v >= lo_bound) {
                    cand_id[at] = uint32_t(i);
                    cand_x[at] = v;
                    at++;
                }
            });
            __syncthreads();
            n = int(total);
            candidates = true;
        }
    }
    // The elements every later step visits: the candidates, or the row; f(id, value).
    auto visit = [&](auto f) {
        if (candidates)
            for (int j = tid; j < n; j += kThreads) f(int(cand_id[j]), cand_x[j]);
        else
            row.strided(f);
    };
    auto visit_chunk = [&](auto f) {  // in id order, contiguous per thread
        if (candidates) {
            const int chunk = (n + kThreads - 1) / kThreads;
            const int begin = min(n, tid * chunk), end = min(n, begin + chunk);
            for (int j = begin; j < end; j++) f(int(cand_id[j]), cand_x[j]);
        } else {
            row.chunk(f);
        }
    };
    uint32_t kmin = kmin_all >> shift;
    if (candidates) {
        kmin = 0xffffffffu;
        for (int j = tid; j < n; j += kThreads) kmin = min(kmin, key(cand_x[j]));
        kmin = block_reduce(kmin, Min{});
    }

    // The boundary (K, r) of the kept prefix; r == kAll: every tie at K.
    constexpr uint64_t kAll = ~uint64_t(0);
    uint32_t K = kmin;
    uint64_t r = kAll, tie_w = 0;
    // mass of the current kept set restricted to keys >= lo
    auto kept_mass_from = [&](uint32_t lo) {
        uint64_t s = 0;
        visit([&](int, float v) {
            const uint32_t k = key(v);
            if (k >= lo && (k > K || (k == K && r == kAll))) s += weight(v);
        });
        s = block_reduce(s, Sum{});
        if (r != kAll && lo <= K) s += r * tie_w;
        return s;
    };
    // mass and count above key k0, the ties at k0 and their weight
    auto above = [&](uint32_t k0, uint64_t* mass, uint64_t* count, uint64_t* ties, uint64_t* w_tie) {
        uint64_t s = 0, c = 0, t = 0, w = 0;
        visit([&](int, float v) {
            const uint32_t k = key(v);
            if (k > k0) { s += weight(v); c++; }
            else if (k == k0) { t++; w = weight(v); }
        });
        *mass = block_reduce(s, Sum{});
        *count = block_reduce(c, Sum{});
        *ties = block_reduce(t, Sum{});
        *w_tie = block_reduce(w, Max{});
    };

    uint64_t S = 0;  // mass kept by top-k (needed by top-p only)
    if (top_k > 0) {
        uint32_t lo = kmin, hi = kmax;  // count(key >= kmin) >= top_k
        while (lo < hi) {
            const uint32_t mid = lo + (hi - lo + 1) / 2;
            uint32_t c = 0;
            visit([&](int, float v) { c += key(v) >= mid; });
            if (block_reduce(uint64_t(c), Sum{}) >= uint64_t(top_k)) lo = mid;
            else hi = mid - 1;
        }
        uint64_t mass, count, ties;
        above(lo, &mass, &count, &ties, &tie_w);
        K = lo;
        r = uint64_t(top_k) - count;  // in [1, ties]
        S = mass + r * tie_w;
    } else if (top_p < 1.f) {
        S = candidates ? S_all : kept_mass_from(kmin);  // candidates hold only part of the row
    }
    if (top_p < 1.f) {
        const double target = double(top_p) * double(S);
        uint32_t lo = K, hi = kmax;  // kept_mass_from(K) = S >= target
        while (lo < hi) {
            const uint32_t mid = lo + (hi - lo + 1) / 2;
            if (double(kept_mass_from(mid)) >= target) lo = mid;
            else hi = mid - 1;
        }
        uint64_t mass, count, ties, w;
        above(lo, &mass, &count, &ties, &w);  // lo >= K: everything above lo is kept by top-k
        // mass < target <= mass + (ties kept at lo)·w, by the bisection
        const bool inside_top_k = lo == K && r != kAll;  // the ties at lo are already cut to r
        const uint64_t avail = inside_top_k ? r : ties;
        const uint64_t need = umax64(1, uint64_t(ceil((target - double(mass)) / double(w))));
        K = lo;
        tie_w = w;
        r = need < avail ? need : inside_top_k ? r : kAll;
    }
    if (min_p > 0.f) {
        uint32_t km = 0xffffffffu;  // the smallest kept key with w >= min_p (the max has w = 1)
        visit([&](int, float v) {
            const uint32_t k = key(v);
            if (k >= K && weight_f(v) >= min_p) km = min(km, k);
        });
        km = block_reduce(km, Min{});
        if (km > K) {  // else every kept id passes: (K, r) stays
            K = km;
            r = kAll;
        }
    }

    // draw: thread `tid` owns a contiguous range of elements (in id order); ties at K are
    // kept in id order up to r
    uint64_t tie_base = 0, total;
    if (r != kAll) {
        uint64_t my_ties = 0;
        visit_chunk([&](int, float v) { my_ties += key(v) == K; });
        tie_base = block_exclusive_scan(my_ties, &total);
    }
    auto kept = [&](uint32_t k, uint64_t rank) { return k > K || (k == K && (r == kAll || rank < r)); };
    uint64_t my_mass = 0, rank = tie_base;
    if (K == kmin && r == kAll) {  // nothing filtered: every element is kept
        visit_chunk([&](int, float v) { my_mass += weight(v); });
    } else {
        visit_chunk([&](int, float v) {
            const uint32_t k = key(v);
            if (kept(k, rank)) my_mass += weight(v);
            rank += k == K;
        });
    }
    const uint64_t base = block_exclusive_scan(my_mass, &total);
    float u = uniforms[blockIdx.x];
    if (!(u >= 0.f)) u = 0.f;
    if (u >= 1.f) u = 0x1.fffffep-1f;
    const uint64_t target = umin64(total - 1, uint64_t(double(u) * double(total)));
    if (my_mass > 0 && base <= target && target < base + my_mass) {
        uint64_t cum = base;
        bool done = false;
        rank = tie_base;
        visit_chunk([&](int i, float v) {
            const uint32_t k = key(v);
            if (!done && kept(k, rank)) {
                cum += weight(v);
                if (cum > target) {
                    out[blockIdx.x] = i;
                    done = true;
                }
            }
            rank += k == K;
        });
    }
}

void sample(mamba4j_context* ctx, const mamba4j_sample_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    if (a.batch > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "batch > 2^31-1 on CUDA");
    if (a.vocab > (int64_t(1) << 23))
        fail(MAMBA4J_ERR_UNSUPPORTED, "vocab > 2^23 on CUDA (the fixed-point mass would overflow), got %lld",
             (long long)a.vocab);
    const bool greedy = a.temperature <= 0.f;
    const int shift = a.dtype == MAMBA4J_BF16 ? 16 : a.dtype == MAMBA4J_F16 ? 13 : 0;
    const int top_k = a.top_k > 0 && a.top_k < a.vocab ? a.top_k : 0;
    with_dtype(a.dtype, [&](auto zero) {
        using T = decltype(zero);
        sample_kernel<T><<<unsigned(a.batch), kThreads, 0, stream_of(ctx)>>>(
            static_cast<const T*>(a.logits), a.logits_stride, int(a.vocab), shift, greedy ? 0.f : 1.f / a.temperature,
            top_k, a.top_p, a.min_p, a.uniforms, a.out_ids, a.algo != MAMBA4J_ALGO_REFERENCE);
    });
    check_launch("sample_kernel");
}

}  // namespace mamba4j::cuda
