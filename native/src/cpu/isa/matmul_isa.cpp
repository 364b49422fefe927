// Matmul / matvec micro-kernels, compiled once per SIMD level (see cpu.h):
//   y[i, j] = (accumulate ? y[i, j] : 0) + Σ_k x[i, k] · W[j, k] + bias[j]
// x [m, k] fp32 (row stride x_stride), W [n, k] fp32 or bf16 (PyTorch order, contiguous
// rows of k), y [m, n] fp32 (row stride y_stride), fp32 accumulation.
//
// Register tiles of MR x-rows × NR W-rows: per step of one vector along k, NR W vectors
// are loaded (and, for bf16, widened to fp32 by a 16-bit shift: exact), then each of the
// MR x vectors is multiplied into NR accumulators. Each W element read from memory is
// used MR times, so prefill (m > 1) is compute-bound; m == 1 is the decode matvec,
// bandwidth-bound: NR independent W streams and accumulators.
// The k tail (k % vector width) is done in scalar code after the horizontal sums.
//
// Levels: scalar = SSE2 (the x86-64 baseline; no FMA: mul + add), AVX2 + FMA, AVX-512.
// AVX-512 also has matvec_bf16_dpbf16: vdpbf16ps on x rounded to bf16 (an option, see
// cpu/matmul.cpp), and matmul_block_dpbf16, the default prefill kernel for bf16 W (below).
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../common.h"

#if defined(__SSE2__) || defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

namespace {

inline float bf16_f32(uint16_t h) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline float w_at(const float* w, int64_t i) { return w[i]; }
inline float w_at(const uint16_t* w, int64_t i) { return bf16_f32(w[i]); }

#if defined(__AVX512F__)
struct V {
    using T = __m512;
    static constexpr int W = 16;
    static constexpr int MR = 4, NR = 4, NR1 = 8;  // prefill tile; matvec streams
    static T zero() { return _mm512_setzero_ps(); }
    static T load(const float* p) { return _mm512_loadu_ps(p); }
    static T load_w(const float* p) { return _mm512_loadu_ps(p); }
    static T load_w(const uint16_t* p) {
        __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    static float sum(T a) { return _mm512_reduce_add_ps(a); }
};
#elif defined(__AVX2__)
struct V {
    using T = __m256;
    static constexpr int W = 8;
    static constexpr int MR = 4, NR = 3, NR1 = 4;
    static T zero() { return _mm256_setzero_ps(); }
    static T load(const float* p) { return _mm256_loadu_ps(p); }
    static T load_w(const float* p) { return _mm256_loadu_ps(p); }
    static T load_w(const uint16_t* p) {
        __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    static float sum(T a) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        return _mm_cvtss_f32(s);
    }
};
#elif defined(__SSE2__)
struct V {
    using T = __m128;
    static constexpr int W = 4;
    static constexpr int MR = 3, NR = 3, NR1 = 4;
    static T zero() { return _mm_setzero_ps(); }
    static T load(const float* p) { return _mm_loadu_ps(p); }
    static T load_w(const float* p) { return _mm_loadu_ps(p); }
    static T load_w(const uint16_t* p) {  // 4 bf16 into the high halves of 4 fp32 lanes
        __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));
    }
    static T fma(T a, T b, T c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
    static float sum(T a) {
        __m128 s = _mm_add_ps(a, _mm_movehl_ps(a, a));
        s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        return _mm_cvtss_f32(s);
    }
};
#else
struct V {  // no SIMD at all (not x86-64): one lane
    using T = float;
    static constexpr int W = 1;
    static constexpr int MR = 2, NR = 2, NR1 = 4;
    static T zero() { return 0.0f; }
    static T load(const float* p) { return *p; }
    static T load_w(const float* p) { return *p; }
    static T load_w(const uint16_t* p) { return bf16_f32(*p); }
    static T fma(T a, T b, T c) { return a * b + c; }
    static float sum(T a) { return a; }
};
#endif

// One tile: x rows i < MR_ (x + i·x_stride) against W rows j < NR_ (w + j·w_step), over
// kb columns: y[i·y_stride + j·j_step] = Σ + bias[j·j_step] (bias may be null)
// + (add_to_y ? old y : 0).
template <int MR_, int NR_, class WT>
inline void tile(const float* x, int64_t x_stride, const WT* w, int64_t w_step, int64_t kb, const float* bias,
                 float* y, int64_t y_stride, int64_t j_step, bool add_to_y) {
    typename V::T acc[MR_][NR_];
#pragma GCC unroll 8
    for (int i = 0; i < MR_; i++)
#pragma GCC unroll 8
        for (int j = 0; j < NR_; j++) acc[i][j] = V::zero();
    int64_t kk = 0;
    for (; kk + V::W <= kb; kk += V::W) {
        typename V::T wv[NR_];
#pragma GCC unroll 8
        for (int j = 0; j < NR_; j++) wv[j] = V::load_w(w + j * w_step + kk);
#pragma GCC unroll 8
        for (int i = 0; i < MR_; i++) {
            typename V::T xv = V::load(x + i * x_stride + kk);
#pragma GCC unroll 8
            for (int j = 0; j < NR_; j++) acc[i][j] = V::fma(xv, wv[j], acc[i][j]);
        }
    }
    float s[MR_][NR_];
#pragma GCC unroll 8
    for (int i = 0; i < MR_; i++)
#pragma GCC unroll 8
        for (int j = 0; j < NR_; j++) s[i][j] = V::sum(acc[i][j]);
    for (; kk < kb; kk++)
        for (int i = 0; i < MR_; i++)
            for (int j = 0; j < NR_; j++) s[i][j] += x[i * x_stride + kk] * w_at(w, j * w_step + kk);
    for (int i = 0; i < MR_; i++)
        for (int j = 0; j < NR_; j++) {
            float& out = y[i * y_stride + j * j_step];
            float v = s[i][j] + (bias ? bias[j * j_step] : 0.0f);
            out = add_to_y ? out + v : v;
        }
}

// Tiles for every remainder of a block: table[mr-1][nr-1].
template <class WT>
using TileFn = void (*)(const float*, int64_t, const WT*, int64_t, int64_t, const float*, float*, int64_t, int64_t,
                        bool);

template <class WT, int MR_, int... NRs>
constexpr void fill_row(TileFn<WT>* row, std::integer_sequence<int, NRs...>) {
    ((row[NRs] = &tile<MR_, NRs + 1, WT>), ...);
}
template <class WT, int... MRs>
struct Tiles {
    TileFn<WT> fn[sizeof...(MRs)][V::NR];
    constexpr Tiles() : fn{} { (fill_row<WT, MRs + 1>(fn[MRs], std::make_integer_sequence<int, V::NR>{}), ...); }
};
template <class WT, int... MRs>
constexpr Tiles<WT, MRs...> make_tiles(std::integer_sequence<int, MRs...>) {
    return Tiles<WT, MRs...>{};
}

// Rows [n0, n1) of the matvec as NS segments walked side by side, so a thread keeps NS
// sequential DRAM streams in different pages (more misses in flight than one stream of
// short rows: W rows of 768 bf16 are only 1.5 KiB). fn(first_row, row_step, count)
// handles `count` rows (count == NS: one per segment; 1: a single row).
template <int NS, class F>
inline void segmented_rows(int64_t n0, int64_t n1, F&& fn) {
    const int64_t rows = n1 - n0, seg = (rows + NS - 1) / NS;
    const int64_t full = rows - (NS - 1) * seg;  // segment offsets with all NS rows present
    int64_t j = 0;
    for (; j < full; j++) fn(n0 + j, seg, NS);
    for (; j < seg; j++)
        for (int s = 0; s < NS; s++)
            if (j + s * seg < rows) fn(n0 + j + s * seg, 0, 1);
}

template <class WT>
void matmul_block_t(const float* x, int64_t x_stride, int64_t m, const WT* w, int64_t k, const float* bias,
                    float* y, int64_t y_stride, int64_t n0, int64_t n1, bool accumulate) {
    if (m == 1) {  // decode matvec: each W row streamed once
        segmented_rows<V::NR1>(n0, n1, [&](int64_t j, int64_t step, int count) {
            const float* b = bias ? bias + j : nullptr;
            if (count == V::NR1)
                tile<1, V::NR1, WT>(x, x_stride, w + j * k, step * k, k, b, y + j, y_stride, step, accumulate);
            else
                tile<1, 1, WT>(x, x_stride, w + j * k, 0, k, b, y + j, y_stride, 0, accumulate);
        });
        return;
    }
    static constexpr auto tiles = make_tiles<WT>(std::make_integer_sequence<int, V::MR>{});
    // k in chunks of KC so an x tile (MR × KC fp32) stays in L1 while W rows stream past;
    // W rows in chunks that stay in L2 (~384 KiB) while every x row passes over them.
    constexpr int64_t KC = 1024;
    const int64_t kc = k < KC ? k : KC;
    int64_t chunk = (384 * 1024) / (kc * int64_t(sizeof(WT)));
    chunk = chunk < V::NR ? V::NR : chunk - chunk % V::NR;
    for (int64_t c0 = n0; c0 < n1; c0 += chunk) {
        const int64_t c1 = c0 + chunk < n1 ? c0 + chunk : n1;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            const int64_t kb = k - k0 < KC ? k - k0 : KC;
            const bool first = k0 == 0;
            for (int64_t i = 0; i < m; i += V::MR) {
                const int64_t mr = m - i < V::MR ? m - i : V::MR;
                for (int64_t j = c0; j < c1; j += V::NR) {
                    const int64_t nr = c1 - j < V::NR ? c1 - j : V::NR;
                    tiles.fn[mr - 1][nr - 1](x + i * x_stride + k0, x_stride, w + j * k + k0, k, kb,
                                             first && bias ? bias + j : nullptr, y + i * y_stride + j, y_stride, 1,
                                             first ? accumulate : true);
                }
            }
        }
    }
}

}  // namespace

// y[0:m, n0:n1] of the product (see top); w is fp32 or bf16 (w_bf16 != 0).
void matmul_block(const float* x, int64_t x_stride, int64_t m, const void* w, int w_bf16, int64_t k,
                  const float* bias, float* y, int64_t y_stride, int64_t n0, int64_t n1, int accumulate) {
    if (w_bf16)
        matmul_block_t(x, x_stride, m, static_cast<const uint16_t*>(w), k, bias, y, y_stride, n0, n1, accumulate != 0);
    else
        matmul_block_t(x, x_stride, m, static_cast<const float*>(w), k, bias, y, y_stride, n0, n1, accumulate != 0);
}

// Matvec with bf16 W and x already rounded to bf16 (xb [k]): y[j] for j in [n0, n1),
// products of bf16 pairs summed in fp32 by vdpbf16ps. Other levels: the same arithmetic
// in scalar code (only AVX-512 selects it).
void matvec_bf16_dpbf16(const uint16_t* xb, const uint16_t* w, int64_t k, const float* bias, float* y, int64_t n0,
                        int64_t n1, int accumulate) {
#if defined(__AVX512BF16__)
    const int64_t kv = k - k % 32;
    const __mmask32 tail = (k % 32) ? __mmask32((1u << (k % 32)) - 1u) : 0;
    constexpr int NS = 8;
    auto rows = [&](auto count_c, int64_t j, int64_t step) {
        constexpr int C = decltype(count_c)::value;
        __m512 acc[C];
#pragma GCC unroll 8
        for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
        for (int64_t kk = 0; kk < kv; kk += 32) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512(xb + kk);
#pragma GCC unroll 8
            for (int r = 0; r < C; r++)
                acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_loadu_si512(w + (j + r * step) * k + kk), xv);
        }
        if (tail) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(tail, xb + kv);
#pragma GCC unroll 8
            for (int r = 0; r < C; r++)
                acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_maskz_loadu_epi16(tail, w + (j + r * step) * k + kv),
                                          xv);
        }
#pragma GCC unroll 8
        for (int r = 0; r < C; r++) {
            const int64_t row = j + r * step;
            float v = _mm512_reduce_add_ps(acc[r]) + (bias ? bias[row] : 0.0f);
            y[row] = accumulate ? y[row] + v : v;
        }
    };
    segmented_rows<NS>(n0, n1, [&](int64_t j, int64_t step, int count) {
        if (count == NS) rows(std::integral_constant<int, NS>{}, j, step);
        else rows(std::integral_constant<int, 1>{}, j, 0);
    });
#else
    for (int64_t j = n0; j < n1; j++) {
        float s = 0.0f;
        for (int64_t kk = 0; kk < k; kk++) s += bf16_f32(xb[kk]) * bf16_f32(w[j * k + kk]);
        s += bias ? bias[j] : 0.0f;
        y[j] = accumulate ? y[j] + s : s;
    }
#endif
}

// ---- prefill with bf16 W on AVX-512 BF16: x rounded to bf16, products by vdpbf16ps ----
//
// vdpbf16ps(acc, a, b) adds a[2l]·b[2l] + a[2l+1]·b[2l+1] (bf16 products, exact in fp32)
// to fp32 lane l: two MACs per lane, twice the fp32 FMA rate. The micro-kernel keeps
// y columns in the lanes: for each k pair p, one vector holds W[j, 2p..2p+1] for 16
// columns j (a W panel repacked so), the other the pair x[i, 2p..2p+1] broadcast.
//
//   xb [m, kp] bf16: x rounded to nearest even once per call, kp = k rounded up to even
//                    (the pad column is 0), by pack_x_bf16;
//   panel [KC/2, NB] uint32: W rows [j0, j0 + NB) of one k block, pair p of row j0 + c
//                    at panel[p·NB + c] (0 past the last row / column), packed per
//                    call and block: its cost is amortised over all m rows;
//   tile: MR rows × NB columns of y in MR·NB/16 = 24 zmm accumulators.

// xb[i, :] for rows [i0, i1): x rounded to bf16 as f32_to_bf16 does (NaN stays NaN).
void pack_x_bf16(const float* x, int64_t x_stride, int64_t k, uint16_t* xb, int64_t kp, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
        const float* xr = x + i * x_stride;
        uint16_t* out = xb + i * kp;
        int64_t kk = 0;
#if defined(__AVX512F__)
        for (; kk + 16 <= k; kk += 16) {  // the integer rounding of f32_to_bf16, 16 lanes at once
            const __m512i u = _mm512_loadu_si512(xr + kk);
            const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
            const __mmask16 nan = _mm512_cmpgt_epi32_mask(abs, _mm512_set1_epi32(0x7f800000));
            const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
            __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
            r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + kk), _mm512_cvtepi32_epi16(r));
        }
#endif
        for (; kk < k; kk++) out[kk] = f32_to_bf16(xr[kk]);
        if (kp > k) out[k] = 0;
    }
}

namespace {

constexpr int64_t kDpNB = 64;    // panel columns (W rows): 4 vectors of 16
constexpr int64_t kDpKC = 512;   // panel k block (even): 64 · 256 pairs · 4 B = 64 KiB
constexpr int kDpMR = 6;         // x rows per tile: 6 · 4 accumulators + 4 W vectors + 1 x

#if defined(__AVX512BF16__)
// y[i0 + r, j0 + c] for r < MR_, c < nb (≤ NB) over one k block of np pairs starting at
// column k0 of xb; first: the block that writes y (+ bias, + old y if accumulate), later
// blocks add to y.
template <int MR_>
inline void dp_tile(const uint16_t* xb, int64_t kp, const uint32_t* panel, int64_t np, const float* bias, float* y,
                    int64_t y_stride, int64_t nb, bool first, bool accumulate) {
    __m512 acc[MR_][4];
#pragma GCC unroll 8
    for (int r = 0; r < MR_; r++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        __m512bh wv[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) wv[v] = (__m512bh)_mm512_loadu_si512(panel + p * kDpNB + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR_; r++) {
            int32_t pair;
            std::memcpy(&pair, xb + r * kp + 2 * p, 4);
            const __m512bh xv = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], wv[v], xv);
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) {
        const int64_t cols = nb - 16 * v;
        if (cols <= 0) break;
        const __mmask16 mask = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1u);
        const __m512 b = first && bias ? _mm512_maskz_loadu_ps(mask, bias + 16 * v) : _mm512_setzero_ps();
        const bool add_y = !first || accumulate;
#pragma GCC unroll 8
        for (int r = 0; r < MR_; r++) {
            float* out = y + r * y_stride + 16 * v;
            __m512 s = _mm512_add_ps(acc[r][v], b);
            if (add_y) s = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), s);
            _mm512_mask_storeu_ps(out, mask, s);
        }
    }
}
#endif

}  // namespace

// y[i0:i1, n0:n1] (n1 - n0 ≤ NB... any width: walked in panels of NB) of the product with
// bf16 W, from xb (pack_x_bf16); bias, accumulate as matmul_block. Only the AVX-512 level
// (BF16) selects it; other levels compute the same sums (bf16 x, bf16 W, fp32) in scalar code.
void matmul_block_dpbf16(const uint16_t* xb, int64_t kp, int64_t i0, int64_t i1, const uint16_t* w, int64_t k,
                         const float* bias, float* y, int64_t y_stride, int64_t n0, int64_t n1, int accumulate) {
#if defined(__AVX512BF16__)
    thread_local std::vector<uint32_t> panel_buf;
    if (panel_buf.size() < size_t(kDpKC / 2 * kDpNB)) panel_buf.resize(size_t(kDpKC / 2 * kDpNB));
    uint32_t* panel = panel_buf.data();
    for (int64_t j0 = n0; j0 < n1; j0 += kDpNB) {
        const int64_t nb = n1 - j0 < kDpNB ? n1 - j0 : kDpNB;
        for (int64_t k0 = 0; k0 < k; k0 += kDpKC) {
            const int64_t kb = k - k0 < kDpKC ? k - k0 : kDpKC, np = (kb + 1) / 2;
            // panel[p, c] = the pair W[j0 + c, k0 + 2p .. k0 + 2p + 1] (0 past row / column ends)
            for (int64_t c = 0; c < nb; c++) {
                const uint16_t* row = w + (j0 + c) * k + k0;
                for (int64_t p = 0; p < kb / 2; p++) std::memcpy(&panel[p * kDpNB + c], row + 2 * p, 4);
                if (kb % 2) panel[(np - 1) * kDpNB + c] = row[kb - 1];
            }
            for (int64_t c = nb; c < kDpNB; c++)
                for (int64_t p = 0; p < np; p++) panel[p * kDpNB + c] = 0;
            const bool first = k0 == 0;
            const float* b = bias ? bias + j0 : nullptr;
            for (int64_t i = i0; i < i1; i += kDpMR) {
                const uint16_t* xt = xb + i * kp + k0;
                float* yt = y + i * y_stride + j0;
                switch (i1 - i < kDpMR ? i1 - i : kDpMR) {
                    case 1: dp_tile<1>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                    case 2: dp_tile<2>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                    case 3: dp_tile<3>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                    case 4: dp_tile<4>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                    case 5: dp_tile<5>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                    default: dp_tile<6>(xt, kp, panel, np, b, yt, y_stride, nb, first, accumulate); break;
                }
            }
        }
    }
#else
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = n0; j < n1; j++) {
            float s = 0.0f;
            for (int64_t kk = 0; kk < k; kk++) s += bf16_f32(xb[i * kp + kk]) * bf16_f32(w[j * k + kk]);
            s += bias ? bias[j] : 0.0f;
            float& out = y[i * y_stride + j];
            out = accumulate ? out + s : s;
        }
#endif
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
