// Causal grouped-query attention with a KV cache, on the CPU (DESIGN.md §3).
//   q, out [B, L, Hq, d] (strides per row b and token t);  k, v [B, L, Hkv, d]
//   k_cache, v_cache [slot_count, T, Hkv, d];  slot s = slots[b];  G = Hq / Hkv
// 1. The new keys and values go to the cache:  K[s, start_pos[b] + t] = k[b, t]  (same for V)
// 2. Query t of row b sits at p = start_pos[b] + t and sees cache positions 0..p:
//      score_j = scale · q[b,t,h]·K[s,j,h/G],  out[b,t,h] = Σ_j softmax(score)_j · V[s,j,h/G]
// attention_reference: the two passes over the full score row (max, then exp/sum/Σ pV),
// in double. FLASH: attention_prefill runs query blocks × key tiles with the online
// softmax (isa/attention_isa.cpp), never an L×L matrix; the G query heads of a KV head
// are processed together so each key tile is read once for all of them.
// attention_decode (L == 1, and short L) reads the cache in address order for all heads
// with the decode kernel (isa/attention_isa.cpp: decode_rows_f32),
// splits long caches into key ranges across threads and combines the partial
// (max m, sum l, unnormalised acc) of each range:
//      M = max_i m_i,  out = Σ_i e^{m_i − M} acc_i / Σ_i e^{m_i − M} l_i
#include "../kernels.h"
#include "cpu.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

MAMBA4J_ISA_DECLARE(void, flash_rows_f32,
                    (const float* q, const int64_t* pos, int64_t M, int64_t d, const float* K, const float* V,
                     int64_t kv_row, int64_t k0, int64_t k1, float* m, float* l, float* acc, float* scratch))
MAMBA4J_ISA_DECLARE(void, decode_rows_f32,
                    (const float* q, const int64_t* pos, int64_t M, int64_t d, const float* K, const float* V,
                     int64_t kv_row, int64_t k0, int64_t k1, float* m, float* l, float* acc, float* scratch))

namespace mamba4j::cpu {

namespace {

constexpr int64_t kKeyTile = 64;      // keys per tile of flash_rows_f32
constexpr int64_t kPrefillRows = 64;  // query rows (tokens × heads of a KV head) per prefill block

struct Shape {
    int64_t B, L, Hq, Hkv, d, T, G;
    float scale;
    explicit Shape(const mamba4j_attention_args& a)
        : B(a.batch), L(a.seqlen), Hq(a.q_heads), Hkv(a.kv_heads), d(a.head_dim), T(a.capacity),
          G(a.q_heads / a.kv_heads), scale(a.scale > 0.0f ? a.scale : float(1.0 / std::sqrt(double(a.head_dim)))) {}
};

inline int64_t slot_of(const mamba4j_attention_args& a, int64_t b) { return a.slots ? a.slots[b] : b; }
inline int64_t start_of(const mamba4j_attention_args& a, int64_t b) { return a.start_pos ? a.start_pos[b] : 0; }

// Offset of cache position j of slot s, KV head 0.
inline int64_t cache_at(const Shape& s, int64_t slot, int64_t j) { return (slot * s.T + j) * s.Hkv * s.d; }

// Step 1: k, v → cache (memmove: the caller may have written k in place already).
void write_cache(const mamba4j_attention_args& a, const Shape& s) {
    float* kc = static_cast<float*>(a.k_cache);
    float* vc = static_cast<float*>(a.v_cache);
    const float* k = static_cast<const float*>(a.k);
    const float* v = static_cast<const float*>(a.v);
    const size_t bytes = size_t(s.Hkv * s.d) * sizeof(float);
    parallel_region(s.B * s.L * s.Hkv * s.d > 65536, [&] {
#pragma omp for schedule(static)
        for (int64_t bt = 0; bt < s.B * s.L; bt++) {
            const int64_t b = bt / s.L, t = bt % s.L;
            const int64_t dst = cache_at(s, slot_of(a, b), start_of(a, b) + t), src = b * a.kv_stride_b + t * a.kv_stride_t;
            std::memmove(kc + dst, k + src, bytes);
            std::memmove(vc + dst, v + src, bytes);
        }
    });
}

// The math line by line: all scores of a row, their max, then exp, sum and Σ p·V.
void attention_reference(const mamba4j_attention_args& a, const Shape& s) {
    const float* q = static_cast<const float*>(a.q);
    const float* kc = static_cast<const float*>(a.k_cache);
    const float* vc = static_cast<const float*>(a.v_cache);
    float* out = static_cast<float*>(a.out);
    std::vector<double> score, o(size_t(s.d));
    for (int64_t b = 0; b < s.B; b++)
        for (int64_t t = 0; t < s.L; t++)
            for (int64_t h = 0; h < s.Hq; h++) {
                const int64_t p = start_of(a, b) + t, kvh = h / s.G, slot = slot_of(a, b);
                const float* qr = q + b * a.q_stride_b + t * a.q_stride_t + h * s.d;
                score.assign(size_t(p + 1), 0.0);
                double mx = -INFINITY;
                for (int64_t j = 0; j <= p; j++) {  // pass 1: scores and their max
                    const float* kj = kc + cache_at(s, slot, j) + kvh * s.d;
                    double dot = 0;
                    for (int64_t c = 0; c < s.d; c++) dot += double(qr[c]) * kj[c];
                    score[size_t(j)] = double(s.scale) * dot;
                    mx = std::max(mx, score[size_t(j)]);
                }
                double sum = 0;  // pass 2: exp, sum, weighted values
                std::fill(o.begin(), o.end(), 0.0);
                for (int64_t j = 0; j <= p; j++) {
                    const double e = std::exp(score[size_t(j)] - mx);
                    sum += e;
                    const float* vj = vc + cache_at(s, slot, j) + kvh * s.d;
                    for (int64_t c = 0; c < s.d; c++) o[size_t(c)] += e * vj[c];
                }
                float* orow = out + b * a.out_stride_b + t * a.out_stride_t + h * s.d;
                for (int64_t c = 0; c < s.d; c++) orow[c] = float(o[size_t(c)] / sum);
            }
}

// One unit of flash work: query tokens [t0, t1) of row b, the G heads of KV head kvh
// (decode: all heads), against keys [k0, k1). part >= 0: a key range of a split decode.
struct Item {
    int64_t b, kvh, t0, t1, k0, k1, part;
};

// Per-thread buffers of one item: M = (t1 − t0)·G query rows.
struct Rows {
    std::vector<float> q, m, l, acc, scratch;
    std::vector<int64_t> pos;
    Rows(int64_t max_rows, int64_t d)
        : q(size_t(max_rows * d)), m(size_t(max_rows)), l(size_t(max_rows)), acc(size_t(max_rows * d)),
          scratch(size_t((d + 4) * kKeyTile)), pos(size_t(max_rows)) {}  // flash_rows_f32: (d + 4)·kTile
};

// Runs one item: gathers its query rows (row r = (t − t0)·G + g, scaled), runs the key
// tiles, and leaves (m, l, acc) in `rows`.
void run_item(const mamba4j_attention_args& a, const Shape& s, const Item& it, Rows& rows,
              decltype(&isa_scalar::flash_rows_f32) kernel) {
    const float* q = static_cast<const float*>(a.q);
    const int64_t M = (it.t1 - it.t0) * s.G, start = start_of(a, it.b);
    for (int64_t t = it.t0; t < it.t1; t++)
        for (int64_t g = 0; g < s.G; g++) {
            const int64_t r = (t - it.t0) * s.G + g;
            const float* qr = q + it.b * a.q_stride_b + t * a.q_stride_t + (it.kvh * s.G + g) * s.d;
            for (int64_t c = 0; c < s.d; c++) rows.q[size_t(r * s.d + c)] = qr[c] * s.scale;
            rows.pos[size_t(r)] = start + t;
        }
    std::fill_n(rows.m.begin(), M, -INFINITY);
    std::fill_n(rows.l.begin(), M, 0.0f);
    std::fill_n(rows.acc.begin(), M * s.d, 0.0f);
    const int64_t base = cache_at(s, slot_of(a, it.b), 0) + it.kvh * s.d;
    kernel(rows.q.data(), rows.pos.data(), M, s.d, static_cast<const float*>(a.k_cache) + base,
           static_cast<const float*>(a.v_cache) + base, s.Hkv * s.d, it.k0, it.k1, rows.m.data(), rows.l.data(),
           rows.acc.data(), rows.scratch.data());
}

// Decode (L == 1), and short continuations (L·G <= 64: one prefill block per KV head): the
// L tokens × Hq heads of row b as rows r = kvh·(L·G) + t·G + g (those of one KV head
// contiguous). An item is a key range of one row b; it walks its keys in chunks of
// kDecodeChunk and, for each chunk, every KV head in turn, so the cache [T, Hkv, d] is
// read in address order (a chunk stays in L2 across the heads; no page is visited
// twice). A long cache is cut into equal ranges (in blocks of 16 keys, the decode kernel's
// step: 513 keys as 272 + 241, not 320 + 193 tiles of 64) so that every thread has about
// the same work, and the partial (m, l, acc) of the ranges are combined at the end
// (a row that sees no key of a range has m = −inf, l = 0, acc = 0 there: weight 0).
// The kernel is decode_rows_f32 (K as stored, no transposed tile: a decode step has only
// G rows per KV head to share it; flash_rows_f32 where it has no SIMD form).
constexpr int64_t kDecodeChunk = 256;
// Keys per range from which a decode is cut into ranges for the threads: a range of 256
// keys is ~200 KB of cache (SmolLM2: 3 KV heads × 64) and some 20 µs of work, several
// times a parallel region's cost (measured: 513 keys on one thread 112 µs a layer).
constexpr int64_t kDecodeSplitKeys = 256;

void attention_decode(const mamba4j_attention_args& a, const Shape& s, decltype(&isa_scalar::flash_rows_f32) kernel) {
    const int nthreads = threads();
    const float* q = static_cast<const float*>(a.q);
    float* out = static_cast<float*>(a.out);
    const int64_t rows_per_kvh = s.L * s.G, R = s.L * s.Hq;  // R rows per item
    // out[b, t, h] of row r
    auto out_row = [&](int64_t b, int64_t r) {
        const int64_t kvh = r / rows_per_kvh, t = (r % rows_per_kvh) / s.G, g = r % s.G;
        return out + b * a.out_stride_b + t * a.out_stride_t + (kvh * s.G + g) * s.d;
    };
    std::vector<Item> items;
    const int64_t want = std::max<int64_t>(1, (4 * nthreads + s.B - 1) / s.B);
    int64_t parts = 0;
    for (int64_t b = 0; b < s.B; b++) {
        const int64_t keys = start_of(a, b) + s.L;
        const int64_t split = std::min(want, std::max<int64_t>(1, keys / kDecodeSplitKeys));
        const int64_t per = ((keys + split - 1) / split + 15) / 16 * 16;  // equal ranges, in blocks of 16 keys
        for (int64_t k0 = 0; k0 < keys; k0 += per)
            items.push_back({b, 0, 0, s.L, k0, std::min(keys, k0 + per), split > 1 ? parts++ : -1});
    }
    // partials [parts, R, d + 2]: acc, then m and l
    std::vector<float> partials(size_t(parts * R * (s.d + 2)));
    parallel_region(items.size() > 1, [&] {
        Rows rows(R, s.d);
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < items.size(); i++) {
            const Item& it = items[i];
            const int64_t slot_base = cache_at(s, slot_of(a, it.b), 0), start = start_of(a, it.b);
            for (int64_t r = 0; r < R; r++) {
                const int64_t kvh = r / rows_per_kvh, t = (r % rows_per_kvh) / s.G, g = r % s.G;
                const float* qr = q + it.b * a.q_stride_b + t * a.q_stride_t + (kvh * s.G + g) * s.d;
                for (int64_t c = 0; c < s.d; c++) rows.q[size_t(r * s.d + c)] = qr[c] * s.scale;
                rows.pos[size_t(r)] = start + t;
            }
            std::fill_n(rows.m.begin(), R, -INFINITY);
            std::fill_n(rows.l.begin(), R, 0.0f);
            std::fill_n(rows.acc.begin(), R * s.d, 0.0f);
            for (int64_t c0 = it.k0; c0 < it.k1; c0 += kDecodeChunk)
                for (int64_t kvh = 0; kvh < s.Hkv; kvh++) {
                    const int64_t r0 = kvh * rows_per_kvh, base = slot_base + kvh * s.d;
                    kernel(rows.q.data() + r0 * s.d, rows.pos.data() + r0, rows_per_kvh, s.d,
                           static_cast<const float*>(a.k_cache) + base, static_cast<const float*>(a.v_cache) + base,
                           s.Hkv * s.d, c0, std::min(it.k1, c0 + kDecodeChunk), rows.m.data() + r0, rows.l.data() + r0,
                           rows.acc.data() + r0 * s.d, rows.scratch.data());
                }
            for (int64_t r = 0; r < R; r++) {
                const float* acc = rows.acc.data() + r * s.d;
                if (it.part < 0) {
                    float* o = out_row(it.b, r);
                    const float inv = 1.0f / rows.l[size_t(r)];
                    for (int64_t c = 0; c < s.d; c++) o[c] = acc[c] * inv;
                } else {
                    float* dst = partials.data() + (it.part * R + r) * (s.d + 2);
                    std::memcpy(dst, acc, size_t(s.d) * sizeof(float));
                    dst[s.d] = rows.m[size_t(r)];
                    dst[s.d + 1] = rows.l[size_t(r)];
                }
            }
        }
    });
    if (parts == 0) return;
    // Combine the key ranges of each row b (its items are consecutive), per query row:
    //   M = max_i m_i,  out = Σ_i e^{m_i − M} acc_i / Σ_i e^{m_i − M} l_i
    for (size_t first = 0; first < items.size();) {
        size_t end = first + 1;
        while (end < items.size() && items[end].b == items[first].b) end++;
        if (items[first].part >= 0)
            for (int64_t r = 0; r < R; r++) {
                float M = -INFINITY;
                for (size_t i = first; i < end; i++)
                    M = std::max(M, partials[size_t((items[i].part * R + r) * (s.d + 2) + s.d)]);
                float* o = out_row(items[first].b, r);
                double l = 0;
                for (int64_t c = 0; c < s.d; c++) o[c] = 0.0f;
                for (size_t i = first; i < end; i++) {
                    const float* src = partials.data() + (items[i].part * R + r) * (s.d + 2);
                    const float w = std::exp(src[s.d] - M);
                    l += double(w) * src[s.d + 1];
                    for (int64_t c = 0; c < s.d; c++) o[c] += w * src[c];
                }
                const float inv = float(1.0 / l);
                for (int64_t c = 0; c < s.d; c++) o[c] *= inv;
            }
        first = end;
    }
}

// Prefill: an item is a block of Bq query tokens × the G heads of one KV head
// (about kPrefillRows rows), against all the keys it may see; heaviest (latest) blocks first so the
// dynamic schedule ends balanced under the causal mask.
void attention_prefill(const mamba4j_attention_args& a, const Shape& s, decltype(&isa_scalar::flash_rows_f32) kernel) {
    const int nthreads = threads();
    float* out = static_cast<float*>(a.out);
    std::vector<Item> items;
    const int64_t Bq = std::max<int64_t>(1, kPrefillRows / s.G), max_rows = Bq * s.G;
    for (int64_t t0 = ((s.L - 1) / Bq) * Bq; t0 >= 0; t0 -= Bq)
        for (int64_t b = 0; b < s.B; b++)
            for (int64_t kvh = 0; kvh < s.Hkv; kvh++)
                items.push_back({b, kvh, t0, std::min(s.L, t0 + Bq), 0, start_of(a, b) + std::min(s.L, t0 + Bq), -1});
#pragma omp parallel num_threads(nthreads)
    {
        Rows rows(max_rows, s.d);
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < items.size(); i++) {
            const Item& it = items[i];
            run_item(a, s, it, rows, kernel);
            for (int64_t t = it.t0; t < it.t1; t++)
                for (int64_t g = 0; g < s.G; g++) {
                    const int64_t r = (t - it.t0) * s.G + g;
                    float* o = out + it.b * a.out_stride_b + t * a.out_stride_t + (it.kvh * s.G + g) * s.d;
                    const float* acc = rows.acc.data() + r * s.d;
                    const float inv = 1.0f / rows.l[size_t(r)];
                    for (int64_t c = 0; c < s.d; c++) o[c] = acc[c] * inv;
                }
        }
    }
}

}  // namespace

void attention(const mamba4j_attention_args& a) {
    if (a.dtype != MAMBA4J_F32)
        fail(MAMBA4J_ERR_UNSUPPORTED, "the CPU backend computes attention in F32 only, got dtype %s",
             dtype_name(a.dtype));
    const Shape s(a);
    write_cache(a, s);
    if (a.algo == MAMBA4J_ALGO_REFERENCE) attention_reference(a, s);
    else if (s.L * s.G <= kPrefillRows) attention_decode(a, s, MAMBA4J_ISA_SELECT(decode_rows_f32));
    else attention_prefill(a, s, MAMBA4J_ISA_SELECT(flash_rows_f32));
}

}  // namespace mamba4j::cpu
