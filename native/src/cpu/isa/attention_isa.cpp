// The inner loop of flash attention on the CPU, compiled once per SIMD level (see cpu.h).
// Written with GCC vector types of the level's native width W (16 floats in a zmm with
// AVX-512, 8 in a ymm with AVX2, 4 in an xmm on plain x86-64): the same source for every
// level, no intrinsics. (Wider-than-native vector types would be split by GCC through
// memory: measured 1.7x slower than plain SSE2 in the AVX2 build.)
//
// flash_rows_f32: M query rows of one KV head against the keys [k0, k1) of that head,
// in tiles of kTile keys, with the online softmax of FlashAttention:
//   s_j   = q_r · K_j                          (q_r already multiplied by the scale)
//   m'    = max(m_r, max_j s_j);  α = exp(m_r − m')
//   l_r   = α·l_r + Σ_j exp(s_j − m')
//   acc_r = α·acc_r + Σ_j exp(s_j − m') · V_j
//   m_r   = m'
// Row r sees only keys j <= pos[r] (causal). The caller divides acc by l at the end, or
// combines partial (m, l, acc) of several key ranges (split-KV decode).
// Layouts: q [M, d]; K, V point at key 0 of this slot and KV head, consecutive keys
// kv_row floats apart; m, l [M]; acc [M, d]; scratch holds (d + 4)·kTile floats.
// decode_rows_f32 (at the end) has the same contract, for the few rows of a decode step.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

namespace {

constexpr int64_t kTile = 64;  // keys per tile
// Rows processed together: 4 where there are 32 vector registers (16 score or acc
// accumulators; each K or V vector loaded serves 4 FMAs: 1.6x the GFLOP/s of 2 rows at
// L 512, G 3, d 64), else 1 (AVX2 and SSE would spill a second row's accumulators).
#if defined(__AVX512F__)
constexpr int kRows = 4;
constexpr int W = 16;
#define M4J_SPLAT(f) {f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f}
#define M4J_LANES {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
#elif defined(__AVX2__)
constexpr int kRows = 1;
constexpr int W = 8;
#define M4J_SPLAT(f) {f, f, f, f, f, f, f, f}
#define M4J_LANES {0, 1, 2, 3, 4, 5, 6, 7}
#else
constexpr int kRows = 1;
constexpr int W = 4;
#define M4J_SPLAT(f) {f, f, f, f}
#define M4J_LANES {0, 1, 2, 3}
#endif
constexpr int kTileVectors = int(kTile) / W;  // a tile's scores: kTileVectors vectors
constexpr int kChunk = 4 * W;                 // channels of acc held in registers at once

typedef float vf __attribute__((vector_size(4 * W)));
typedef int32_t vi __attribute__((vector_size(4 * W)));

// all lanes f (written out: "vf{} + f" would add 0 to f, one more instruction per use)
inline vf splat(float f) { return vf M4J_SPLAT(f); }
inline vf ld(const float* p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void st(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
#if defined(__AVX512F__)
// Horizontal max / sum: four halving steps, each lane pairing with lane ^ 8, ^ 4, ^ 2, ^ 1
// (one vpermps each).
constexpr vi kSwap8 = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7};
constexpr vi kSwap4 = {4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11};
constexpr vi kSwap2 = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
constexpr vi kSwap1 = {1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14};
inline float hmax(vf v) {
    v = vmax(v, __builtin_shuffle(v, kSwap8));
    v = vmax(v, __builtin_shuffle(v, kSwap4));
    v = vmax(v, __builtin_shuffle(v, kSwap2));
    v = vmax(v, __builtin_shuffle(v, kSwap1));
    return v[0];
}
inline float hsum(vf v) {
    v += __builtin_shuffle(v, kSwap8);
    v += __builtin_shuffle(v, kSwap4);
    v += __builtin_shuffle(v, kSwap2);
    v += __builtin_shuffle(v, kSwap1);
    return v[0];
}
#else
inline float hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < W; i++) m = v[i] > m ? v[i] : m;
    return m;
}
inline float hsum(vf v) {
    float s = 0.0f;
    for (int i = 0; i < W; i++) s += v[i];
    return s;
}
#endif

// exp(x) for x <= 0 (softmax arguments), relative error ~2 ulp: x = n·ln2 + r with
// |r| <= ln2/2, a degree-6 polynomial for exp(r) (Cephes expf), 2^n from the exponent
// bits. exp(x) is 0 below −87 (including −inf, the masked keys); NaN stays NaN.
inline vf exp_nonpositive(vf x) {
    const vf xc = x < splat(-87.0f) ? splat(-87.0f) : x;
    const vf fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
    const vf r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
    vf p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const vi n = __builtin_convertvector(fn, vi);
    const vi bits = (n + 127) << 23;
    vf scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const vf e = p * scale;
    return x < splat(-87.0f) ? splat(0.0f) : e;
}

#if defined(__AVX512F__)
// One stage of a 16×16 transpose in registers: rows a = v[j], c = v[j | 2^b] swap bit b of
// the row index with bit b of the lane index (two 2-source shuffles).
template <int b>
inline void swap_stage(vf& a, vf& c) {
    constexpr int bit = 1 << b;
    constexpr vi lo = {
#define M4J_LO(c) ((c) & bit ? 16 + ((c) ^ bit) : (c))
        M4J_LO(0), M4J_LO(1), M4J_LO(2),  M4J_LO(3),  M4J_LO(4),  M4J_LO(5),  M4J_LO(6),  M4J_LO(7),
        M4J_LO(8), M4J_LO(9), M4J_LO(10), M4J_LO(11), M4J_LO(12), M4J_LO(13), M4J_LO(14), M4J_LO(15)};
#undef M4J_LO
    constexpr vi hi = {
#define M4J_HI(c) ((c) & bit ? 16 + (c) : ((c) ^ bit))
        M4J_HI(0), M4J_HI(1), M4J_HI(2),  M4J_HI(3),  M4J_HI(4),  M4J_HI(5),  M4J_HI(6),  M4J_HI(7),
        M4J_HI(8), M4J_HI(9), M4J_HI(10), M4J_HI(11), M4J_HI(12), M4J_HI(13), M4J_HI(14), M4J_HI(15)};
#undef M4J_HI
    const vf a0 = a;
    a = __builtin_shuffle(a0, c, lo);
    c = __builtin_shuffle(a0, c, hi);
}
// The 16×16 transpose: stage b over every row pair (j, j | 2^b).
template <int b>
inline void transpose_stage(vf* v) {
    for (int j = 0; j < 16; j++)
        if (!(j & (1 << b))) swap_stage<b>(v[j], v[j | (1 << b)]);
}
// A transpose stage whose two outputs are added: after stages 3, 2, 1, 0, lane j of v[0]
// is the sum of the lanes of the original v[j] (16 horizontal sums at once).
template <int b>
inline void reduce_stage(vf* v) {
    for (int j = 0; j < (1 << b); j++) {
        swap_stage<b>(v[j], v[j | (1 << b)]);
        v[j] += v[j | (1 << b)];
    }
}

// kt[c, jj] = K[j0 + jj, c] for jj < nk, 0 for nk <= jj < kTile: the key tile, transposed
// so that the scores of 64 keys are 4 vectors. Blocks of 16 keys × 16 channels go
// through registers (vpermt2ps); channels past the last multiple of 16 one by one.
inline void transpose_tile(const float* K, int64_t kv_row, int64_t j0, int64_t nk, int64_t d, float* kt) {
    const int64_t d16 = d / 16 * 16;
    for (int64_t jb = 0; jb < kTile; jb += 16) {
        const int64_t rows = nk - jb < 16 ? (nk - jb > 0 ? nk - jb : 0) : 16;
        for (int64_t c0 = 0; c0 < d16; c0 += 16) {
            vf v[16];
            for (int64_t jj = 0; jj < 16; jj++) v[jj] = jj < rows ? ld(K + (j0 + jb + jj) * kv_row + c0) : vf{};
            transpose_stage<0>(v);
            transpose_stage<1>(v);
            transpose_stage<2>(v);
            transpose_stage<3>(v);
            for (int64_t cc = 0; cc < 16; cc++) st(kt + (c0 + cc) * kTile + jb, v[cc]);
        }
        for (int64_t c = d16; c < d; c++)
            for (int64_t jj = 0; jj < 16; jj++) kt[c * kTile + jb + jj] = jj < rows ? K[(j0 + jb + jj) * kv_row + c] : 0.0f;
    }
}
#else
// kt[c, jj] = K[j0 + jj, c] for jj < nk, 0 for nk <= jj < kTile, element by element
// (without AVX-512 the two-source 16-lane shuffles would be split into element moves).
inline void transpose_tile(const float* K, int64_t kv_row, int64_t j0, int64_t nk, int64_t d, float* kt) {
    for (int64_t jj = 0; jj < nk; jj++) {
        const float* kr = K + (j0 + jj) * kv_row;
        for (int64_t c = 0; c < d; c++) kt[c * kTile + jj] = kr[c];
    }
    for (int64_t jj = nk; jj < kTile; jj++)
        for (int64_t c = 0; c < d; c++) kt[c * kTile + jj] = 0.0f;
}
#endif

// R rows (r[0..R)) that all see key j0, against the transposed tile kt of nk keys:
// scores, mask, online-softmax update of (m, l) and acc += p·V. The R rows share every
// load of kt and V; each row has kTileVectors (scores) or 4 (acc) independent FMA chains.
template <int R>
inline void rows_tile(const int64_t* r, const float* q, const int64_t* pos, int64_t d, const float* kt,
                      const float* vt, int64_t kv_row, int64_t j0, int64_t nk, float* m, float* l, float* acc,
                      float* p) {
    vf s[R][kTileVectors] = {};
    for (int64_t c = 0; c < d; c++) {
        const float* kc = kt + c * kTile;
        for (int i = 0; i < R; i++) {
            const vf qc = splat(q[r[i] * d + c]);
            for (int u = 0; u < kTileVectors; u++) s[i][u] += qc * ld(kc + W * u);
        }
    }
    const vf lane = vf M4J_LANES;
    vf alpha[R];
    int64_t visible_max = 0;
    for (int i = 0; i < R; i++) {
        // keys at or past `visible` (the tile's end, or the row's future) are masked
        const int64_t visible = pos[r[i]] - j0 + 1 < nk ? pos[r[i]] - j0 + 1 : nk;
        visible_max = visible > visible_max ? visible : visible_max;
        if (visible < kTile) {
            const vf lim = splat(float(visible)), neg_inf = splat(-INFINITY);
            for (int u = 0; u < kTileVectors; u++) s[i][u] = lane + float(W * u) < lim ? s[i][u] : neg_inf;
        }
        vf mx = s[i][0];
        for (int u = 1; u < kTileVectors; u++) mx = vmax(mx, s[i][u]);
        const float m_old = m[r[i]], m_tile = hmax(mx);
        const float m_new = m_tile > m_old ? m_tile : m_old;
        const float a = m_old == -INFINITY ? 0.0f : std::exp(m_old - m_new);
        const vf mn = splat(m_new);
        vf sum = {};
        for (int u = 0; u < kTileVectors; u++) {
            const vf e = exp_nonpositive(s[i][u] - mn);  // 0 for masked keys
            st(p + i * kTile + W * u, e);
            sum += e;
        }
        l[r[i]] = a * l[r[i]] + hsum(sum);
        m[r[i]] = m_new;
        alpha[i] = splat(a);
    }
    // acc_r = α·acc_r + Σ_j p_j·V_j, kChunk channels at a time held in registers
    int64_t c = 0;
    for (; c + kChunk <= d; c += kChunk) {
        vf a[R][4];
        for (int i = 0; i < R; i++)
            for (int u = 0; u < 4; u++) a[i][u] = ld(acc + r[i] * d + c + W * u) * alpha[i];
        for (int64_t jj = 0; jj < visible_max; jj++) {
            const float* vr = vt + jj * kv_row + c;
            const vf v0 = ld(vr), v1 = ld(vr + W), v2 = ld(vr + 2 * W), v3 = ld(vr + 3 * W);
            for (int i = 0; i < R; i++) {
                const vf pj = splat(p[i * kTile + jj]);
                a[i][0] += pj * v0;
                a[i][1] += pj * v1;
                a[i][2] += pj * v2;
                a[i][3] += pj * v3;
            }
        }
        for (int i = 0; i < R; i++)
            for (int u = 0; u < 4; u++) st(acc + r[i] * d + c + W * u, a[i][u]);
    }
    for (; c + W <= d; c += W) {
        vf a[R];
        for (int i = 0; i < R; i++) a[i] = ld(acc + r[i] * d + c) * alpha[i];
        for (int64_t jj = 0; jj < visible_max; jj++) {
            const vf v0 = ld(vt + jj * kv_row + c);
            for (int i = 0; i < R; i++) a[i] += splat(p[i * kTile + jj]) * v0;
        }
        for (int i = 0; i < R; i++) st(acc + r[i] * d + c, a[i]);
    }
    for (; c < d; c++)
        for (int i = 0; i < R; i++) {
            float a = acc[r[i] * d + c] * alpha[i][0];
            for (int64_t jj = 0; jj < visible_max; jj++) a += p[i * kTile + jj] * vt[jj * kv_row + c];
            acc[r[i] * d + c] = a;
        }
}

}  // namespace

void flash_rows_f32(const float* q, const int64_t* pos, int64_t M, int64_t d, const float* K, const float* V,
                    int64_t kv_row, int64_t k0, int64_t k1, float* m, float* l, float* acc, float* scratch) {
    float* kt = scratch;             // [d, kTile]: the key tile, transposed
    float* p = scratch + d * kTile;  // [kRows, kTile]: exp(s − m') of the rows in flight
    int64_t last = -1;
    for (int64_t r = 0; r < M; r++) last = pos[r] > last ? pos[r] : last;
    if (last + 1 < k1) k1 = last + 1;
    for (int64_t j0 = k0; j0 < k1; j0 += kTile) {
        const int64_t nk = k1 - j0 < kTile ? k1 - j0 : kTile;
        // ask for the next tile's keys and values now: decode streams them from memory
        const int64_t next = k1 - (j0 + kTile) < kTile ? k1 - (j0 + kTile) : kTile;
        for (int64_t jj = 0; jj < next; jj++)
            for (int64_t c = 0; c < d; c += 16) {
                __builtin_prefetch(K + (j0 + kTile + jj) * kv_row + c);
                __builtin_prefetch(V + (j0 + kTile + jj) * kv_row + c);
            }
        transpose_tile(K, kv_row, j0, nk, d, kt);
        const float* vt = V + j0 * kv_row;
        // the rows that see this tile, kRows at a time
        int64_t rows[kRows];
        int n = 0;
        for (int64_t r = 0; r < M; r++) {
            if (pos[r] < j0) continue;  // every key of this tile is in row r's future
            rows[n++] = r;
            if (n == kRows) {
                rows_tile<kRows>(rows, q, pos, d, kt, vt, kv_row, j0, nk, m, l, acc, p);
                n = 0;
            }
        }
        int i = 0;
        if constexpr (kRows > 2)
            for (; i + 2 <= n; i += 2) rows_tile<2>(rows + i, q, pos, d, kt, vt, kv_row, j0, nk, m, l, acc, p);
        for (; i < n; i++) rows_tile<1>(rows + i, q, pos, d, kt, vt, kv_row, j0, nk, m, l, acc, p);
    }
}

// decode_rows_f32: the contract of flash_rows_f32, for the few rows of a decode step (the
// G query heads of one KV head, times L for a short continuation). A handful of rows cannot
// amortise a transposed key tile, so K is read as stored, in blocks of 16 keys: per row and
// key the d products are summed lane-wise into one vector, and the 16 vectors of a block
// are reduced together (reduce_stage) into one vector of 16 scores. The rows of a group
// then share every V load of acc += p·V. AVX-512 with d of 32, 64 or 128; otherwise it
// is flash_rows_f32.
#if defined(__AVX512F__)
namespace {
template <int DV, int RG>  // d = DV·16; rows in groups of RG, their acc in registers
void decode_rows_t(const float* q, const int64_t* pos, int64_t M, const float* K, const float* V, int64_t kv_row,
                   int64_t k0, int64_t k1, float* m, float* l, float* acc) {
    constexpr int64_t d = DV * W;
    const vf lane = vf M4J_LANES;
    for (int64_t j0 = k0; j0 < k1; j0 += W) {
        const int64_t nk = k1 - j0 < W ? k1 - j0 : W;
        // ask for the keys and values two blocks ahead (this head's rows are kv_row apart)
        for (int64_t j = j0 + 2 * W; j < j0 + 3 * W && j < k1; j++)
#pragma GCC unroll 8
            for (int u = 0; u < DV; u++) {
                __builtin_prefetch(K + j * kv_row + W * u);
                __builtin_prefetch(V + j * kv_row + W * u);
            }
        for (int64_t r0 = 0; r0 < M; r0 += RG) {
            const int rg = M - r0 < RG ? int(M - r0) : RG;
            float p[RG][W], alpha[RG];
            int64_t seen = 0;  // keys of the block that some row of the group sees
            for (int i = 0; i < rg; i++) {
                const int64_t r = r0 + i, visible = pos[r] - j0 + 1 < nk ? pos[r] - j0 + 1 : nk;
                alpha[i] = 1.0f;
                if (visible <= 0) {
                    for (int jj = 0; jj < W; jj++) p[i][jj] = 0.0f;
                    continue;
                }
                seen = visible > seen ? visible : seen;
                vf qv[DV], part[W];
#pragma GCC unroll 8
                for (int u = 0; u < DV; u++) qv[u] = ld(q + r * d + W * u);
#pragma GCC unroll 16
                for (int jj = 0; jj < W; jj++) {  // keys past `visible` are not read (they may lie past the cache)
                    const float* kr = K + (j0 + (jj < visible ? jj : 0)) * kv_row;
                    vf sum = qv[0] * ld(kr);
#pragma GCC unroll 8
                    for (int u = 1; u < DV; u++) sum += qv[u] * ld(kr + W * u);
                    part[jj] = sum;
                }
                reduce_stage<3>(part);
                reduce_stage<2>(part);
                reduce_stage<1>(part);
                reduce_stage<0>(part);
                const vf sc = lane < splat(float(visible)) ? part[0] : splat(-INFINITY);
                const float m_blk = hmax(sc), m_old = m[r], m_new = m_blk > m_old ? m_blk : m_old;
                alpha[i] = m_old == -INFINITY ? 0.0f : std::exp(m_old - m_new);
                const vf e = exp_nonpositive(sc - splat(m_new));  // 0 on masked lanes
                l[r] = alpha[i] * l[r] + hsum(e);
                m[r] = m_new;
                st(p[i], e);
            }
            vf o[RG][DV];
#pragma GCC unroll 4
            for (int i = 0; i < RG; i++)
#pragma GCC unroll 8
                for (int u = 0; u < DV; u++) o[i][u] = i < rg ? ld(acc + (r0 + i) * d + W * u) * alpha[i] : vf{};
            for (int64_t jj = 0; jj < seen; jj++) {
                vf v[DV];
                const float* vr = V + (j0 + jj) * kv_row;
#pragma GCC unroll 8
                for (int u = 0; u < DV; u++) v[u] = ld(vr + W * u);
#pragma GCC unroll 4
                for (int i = 0; i < RG; i++) {
                    const vf w = splat(i < rg ? p[i][jj] : 0.0f);
#pragma GCC unroll 8
                    for (int u = 0; u < DV; u++) o[i][u] += w * v[u];
                }
            }
#pragma GCC unroll 4
            for (int i = 0; i < RG; i++)
#pragma GCC unroll 8
                for (int u = 0; u < DV; u++)
                    if (i < rg) st(acc + (r0 + i) * d + W * u, o[i][u]);
        }
    }
}
}  // namespace
#endif

void decode_rows_f32(const float* q, const int64_t* pos, int64_t M, int64_t d, const float* K, const float* V,
                     int64_t kv_row, int64_t k0, int64_t k1, float* m, float* l, float* acc, float* scratch) {
#if defined(__AVX512F__)
    switch (d) {
        case 32: return decode_rows_t<2, 4>(q, pos, M, K, V, kv_row, k0, k1, m, l, acc);
        case 64: return decode_rows_t<4, 4>(q, pos, M, K, V, kv_row, k0, k1, m, l, acc);
        case 128: return decode_rows_t<8, 2>(q, pos, M, K, V, kv_row, k0, k1, m, l, acc);
        default: break;
    }
#endif
    flash_rows_f32(q, pos, M, d, K, V, kv_row, k0, k1, m, l, acc, scratch);
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
