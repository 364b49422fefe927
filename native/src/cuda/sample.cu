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
// Expected cost (not measured here): a pass over a 128256 bf16 row by one block ~3–5 µs;
// greedy 1 pass, temperature only 3, top-k/top-p/min-p on a peaked row ~5–10 passes plus
// ~30 block reductions over the candidates, so ~20–50 µs per row; rows run in parallel, one
// block (1024 threads) per row. Flat rows on the full-row path: up to ~150 µs.
#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

constexpr int kThreads = 1024;
constexpr int kCap = 2048;  // candidates held in shared memory
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
    if (threadIdx.x == 0) {
        T r = part[0];
        for (int w = 1; w < kThreads / 32; w++) r = op(r, part[w]);
        result = r;
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
    if (threadIdx.x == 0) {
        uint64_t run = 0;
        for (int w = 0; w < kThreads / 32; w++) {
            const uint64_t s = warp_sum[w];
            warp_sum[w] = run;
            run += s;
        }
        sum = run;
    }
    __syncthreads();
    const uint64_t excl = warp_sum[warp] + incl - v;
    *total = sum;
    __syncthreads();
    return excl;
}

// logits row b at logits + b·stride [vocab]; inv_t = 1/temperature, 0 for greedy.
// top_k in [0, vocab) (0: off), top_p < 1 on, min_p > 0 on. out[b] = id, or -1 (bad row).
// compact: look for a candidate set of at most kCap ids first (ALGO_AUTO).
template <class T>
__global__ void __launch_bounds__(kThreads, 1) sample_kernel(const T* logits, int64_t stride, int vocab, int shift,
                                                          float inv_t, int top_k, float top_p, float min_p,
                                                          const float* uniforms, int32_t* out, int compact) {
    __shared__ uint32_t cand_id[kCap], cand_key[kCap];  // candidates in increasing id order
    const T* x = logits + int64_t(blockIdx.x) * stride;
    const int tid = threadIdx.x;

    // pass 1: argmax (packed key, then the lowest id), the smallest finite value, NaN
    uint64_t best = 0;
    float vmin = INFINITY;
    int nan = 0;
    for (int i = tid; i < vocab; i += kThreads) {
        const float v = to_f32(x[i]);
        if (isnan(v)) { nan = 1; continue; }
        best = umax64(best, (uint64_t(order_key(v)) << 32) | uint64_t(0xffffffffu - uint32_t(i)));
        if (v > -INFINITY) vmin = fminf(vmin, v);
    }
    best = block_reduce(best, Max{});
    vmin = block_reduce(vmin, Min{});
    nan = block_reduce(nan, Max{});
    const int argmax = int(0xffffffffu - uint32_t(best));
    if (nan) {
        if (tid == 0) out[blockIdx.x] = -1;
        return;
    }
    if (inv_t == 0.f) {
        if (tid == 0) out[blockIdx.x] = argmax;
        return;
    }
    const float m = to_f32(x[argmax]);
    if (!isfinite(m)) {
        if (tid == 0) out[blockIdx.x] = -1;
        return;
    }
    const uint32_t kmax = uint32_t(best >> 32) >> shift;
    auto key = [&](int i) { return order_key(to_f32(x[i])) >> shift; };
    auto weight_f = [&](int i) {  // the max is exactly 1 (inv_t may be inf for a tiny temperature)
        const float v = to_f32(x[i]);
        return v == m ? 1.f : __expf((v - m) * inv_t);
    };
    auto weight = [&](int i) { return uint64_t(__float2ull_rz(weight_f(i) * kFixedScale)); };
    // count and mass of the ids with x >= lo, over the row (mass only when asked)
    auto count_mass_from = [&](float lo, bool with_mass, uint64_t* count, uint64_t* mass) {
        uint64_t c = 0, s = 0;
        for (int i = tid; i < vocab; i += kThreads)
            if (to_f32(x[i]) >= lo) {
                c++;
                if (with_mass) s += weight(i);
            }
        *count = block_reduce(c, Sum{});
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
        uint64_t cnt_lo, mass_lo, c, s;
        float lo = vmin, hi = m, lo_bound = -INFINITY;
        const bool by_mass = top_k == 0 && top_p < 1.f;
        if (top_k > 0 || by_mass) {
            count_mass_from(lo, by_mass, &cnt_lo, &mass_lo);
            S_all = mass_lo;  // every id but the -inf ones (weight 0)
            const double target = double(top_p) * double(S_all);
            bool ok = top_k > 0 ? cnt_lo >= uint64_t(top_k) : true;
            for (int pass = 0; ok && cnt_lo > uint64_t(kCap) && pass < 12; pass++) {
                const float mid = 0.5f * lo + 0.5f * hi;
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
            const int chunk = (vocab + kThreads - 1) / kThreads;
            const int begin = min(vocab, tid * chunk), end = min(vocab, begin + chunk);
            uint64_t mine = 0, total;
            for (int i = begin; i < end; i++) mine += to_f32(x[i]) >= lo_bound;
            uint64_t at = block_exclusive_scan(mine, &total);
            for (int i = begin; i < end; i++)
                if (to_f32(x[i]) >= lo_bound) {
                    cand_id[at] = uint32_t(i);
                    cand_key[at] = key(i);
                    at++;
                }
            __syncthreads();
            n = int(total);
            candidates = true;
        }
    }
    auto id_at = [&](int j) { return candidates ? int(cand_id[j]) : j; };
    auto key_at = [&](int j) { return candidates ? cand_key[j] : key(j); };
    uint32_t kmin = 0xffffffffu;
    for (int j = tid; j < n; j += kThreads) kmin = min(kmin, key_at(j));
    kmin = block_reduce(kmin, Min{});

    // From here on every step visits elements j < n: ids id_at(j) with keys key_at(j).
    // The boundary (K, r) of the kept prefix; r == kAll: every tie at K.
    constexpr uint64_t kAll = ~uint64_t(0);
    uint32_t K = kmin;
    uint64_t r = kAll, tie_w = 0;
    // mass of the current kept set restricted to keys >= lo
    auto kept_mass_from = [&](uint32_t lo) {
        uint64_t s = 0;
        for (int j = tid; j < n; j += kThreads) {
            const uint32_t k = key_at(j);
            if (k >= lo && (k > K || (k == K && r == kAll))) s += weight(id_at(j));
        }
        s = block_reduce(s, Sum{});
        if (r != kAll && lo <= K) s += r * tie_w;
        return s;
    };
    // mass and count above key k0, the ties at k0 and their weight
    auto above = [&](uint32_t k0, uint64_t* mass, uint64_t* count, uint64_t* ties, uint64_t* w_tie) {
        uint64_t s = 0, c = 0, t = 0, w = 0;
        for (int j = tid; j < n; j += kThreads) {
            const uint32_t k = key_at(j);
            if (k > k0) { s += weight(id_at(j)); c++; }
            else if (k == k0) { t++; w = weight(id_at(j)); }
        }
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
            uint64_t c = 0;
            for (int j = tid; j < n; j += kThreads) c += key_at(j) >= mid;
            if (block_reduce(c, Sum{}) >= uint64_t(top_k)) lo = mid;
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
        for (int j = tid; j < n; j += kThreads)
            if (key_at(j) >= K && weight_f(id_at(j)) >= min_p) km = min(km, key_at(j));
        km = block_reduce(km, Min{});
        if (km > K) {  // else every kept id passes: (K, r) stays
            K = km;
            r = kAll;
        }
    }

    // draw: thread `tid` owns elements [begin, end) (in id order); ties at K are kept in id
    // order up to r
    const int chunk = (n + kThreads - 1) / kThreads;
    const int begin = min(n, tid * chunk), end = min(n, begin + chunk);
    uint64_t my_ties = 0, total;
    for (int j = begin; j < end; j++) my_ties += key_at(j) == K;
    const uint64_t tie_base = block_exclusive_scan(my_ties, &total);
    auto kept = [&](uint32_t k, uint64_t rank) { return k > K || (k == K && (r == kAll || rank < r)); };
    uint64_t my_mass = 0, rank = tie_base;
    for (int j = begin; j < end; j++) {
        const uint32_t k = key_at(j);
        if (kept(k, rank)) my_mass += weight(id_at(j));
        rank += k == K;
    }
    const uint64_t base = block_exclusive_scan(my_mass, &total);
    float u = uniforms[blockIdx.x];
    if (!(u >= 0.f)) u = 0.f;
    if (u >= 1.f) u = 0x1.fffffep-1f;
    const uint64_t target = umin64(total - 1, uint64_t(double(u) * double(total)));
    if (my_mass > 0 && base <= target && target < base + my_mass) {
        uint64_t cum = base;
        rank = tie_base;
        for (int j = begin; j < end; j++) {
            const uint32_t k = key_at(j);
            if (kept(k, rank)) {
                cum += weight(id_at(j));
                if (cum > target) {
                    out[blockIdx.x] = id_at(j);
                    break;
                }
            }
            rank += k == K;
        }
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
