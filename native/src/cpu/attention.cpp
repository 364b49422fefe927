// Causal grouped-query attention with a KV cache, on the CPU (DESIGN.md §3).
//   q, out [B, L, Hq, d] (strides per row b and token t);  k, v [B, L, Hkv, d]
//   k_cache, v_cache [slot_count, T, Hkv, d];  slot s = slots[b];  G = Hq / Hkv
// 1. The new keys and values go to the cache:  K[s, start_pos[b] + t] = k[b, t]  (same for V)
// 2. Query t of row b sits at p = start_pos[b] + t and sees cache positions 0..p:
//      score_j = scale · q[b,t,h]·K[s,j,h/G],  out[b,t,h] = Σ_j softmax(score)_j · V[s,j,h/G]
// attention_reference: the two passes over the full score row (max, then exp/sum/Σ pV),
// in double. attention_flash: query blocks × key tiles with the online softmax
// (isa/attention_isa.cpp), never an L×L matrix; the G query heads of a KV head are
// processed together so each key tile is read once for all of them. Decode (L == 1)
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

namespace mamba4j::cpu {

namespace {

constexpr int64_t kKeyTile = 64;  // keys per tile of flash_rows_f32

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
#pragma omp parallel for num_threads(threads()) schedule(static) if (s.B * s.L * s.Hkv * s.d > 65536)
    for (int64_t bt = 0; bt < s.B * s.L; bt++) {
        const int64_t b = bt / s.L, t = bt % s.L;
        const int64_t dst = cache_at(s, slot_of(a, b), start_of(a, b) + t), src = b * a.kv_stride_b + t * a.kv_stride_t;
        std::memmove(kc + dst, k + src, bytes);
        std::memmove(vc + dst, v + src, bytes);
    }
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

// One unit of flash work: query tokens [t0, t1) of row b, the G heads of KV head kvh,
// against keys [k0, k1). part >= 0: a key range of a split decode, written to partials.
struct Item {
    int64_t b, kvh, t0, t1, k0, k1, part;
};

// Per-thread buffers of one item: M = (t1 − t0)·G query rows.
struct Rows {
    std::vector<float> q, m, l, acc, scratch;
    std::vector<int64_t> pos;
    Rows(int64_t max_rows, int64_t d)
        : q(size_t(max_rows * d)), m(size_t(max_rows)), l(size_t(max_rows)), acc(size_t(max_rows * d)),
          scratch(size_t(d * kKeyTile + kKeyTile)), pos(size_t(max_rows)) {}
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

void attention_flash(const mamba4j_attention_args& a, const Shape& s) {
    auto kernel = MAMBA4J_ISA_SELECT(flash_rows_f32);
    const int nthreads = threads();
    float* out = static_cast<float*>(a.out);
    std::vector<Item> items;
    int64_t max_rows;

    if (s.L == 1) {
        // Decode: one query token, the G heads of a KV head as G rows. A long cache is cut
        // into key ranges (multiples of the tile) so that all threads have work.
        max_rows = s.G;
        const int64_t want = std::max<int64_t>(1, (4 * nthreads + s.B * s.Hkv - 1) / (s.B * s.Hkv));
        int64_t parts = 0;
        for (int64_t b = 0; b < s.B; b++) {
            const int64_t keys = start_of(a, b) + 1;
            const int64_t tiles = (keys + kKeyTile - 1) / kKeyTile;
            const int64_t split = std::min(want, std::max<int64_t>(1, keys / 512));
            const int64_t per = (tiles + split - 1) / split * kKeyTile;
            for (int64_t kvh = 0; kvh < s.Hkv; kvh++)
                for (int64_t k0 = 0; k0 < keys; k0 += per)
                    items.push_back({b, kvh, 0, 1, k0, std::min(keys, k0 + per), split > 1 ? parts++ : -1});
        }
        // partials [parts, G, d + 2]: acc, then m and l
        std::vector<float> partials(size_t(parts * s.G * (s.d + 2)));
#pragma omp parallel num_threads(nthreads)
        {
            Rows rows(max_rows, s.d);
#pragma omp for schedule(dynamic, 1)
            for (size_t i = 0; i < items.size(); i++) {
                const Item& it = items[i];
                run_item(a, s, it, rows, kernel);
                for (int64_t g = 0; g < s.G; g++) {
                    const float* acc = rows.acc.data() + g * s.d;
                    if (it.part < 0) {
                        float* o = out + it.b * a.out_stride_b + (it.kvh * s.G + g) * s.d;
                        const float inv = 1.0f / rows.l[size_t(g)];
                        for (int64_t c = 0; c < s.d; c++) o[c] = acc[c] * inv;
                    } else {
                        float* dst = partials.data() + (it.part * s.G + g) * (s.d + 2);
                        std::memcpy(dst, acc, size_t(s.d) * sizeof(float));
                        dst[s.d] = rows.m[size_t(g)];
                        dst[s.d + 1] = rows.l[size_t(g)];
                    }
                }
            }
        }
        if (parts == 0) return;
        // Combine the key ranges of each (b, kvh): items of one (b, kvh) are consecutive.
        std::vector<size_t> first;
        for (size_t i = 0; i < items.size(); i++)
            if (items[i].part >= 0 && (i == 0 || items[i - 1].b != items[i].b || items[i - 1].kvh != items[i].kvh))
                first.push_back(i);
#pragma omp parallel for num_threads(nthreads) schedule(static) if (first.size() > 1)
        for (size_t f = 0; f < first.size(); f++) {
            const Item& head = items[first[f]];
            size_t end = first[f];
            while (end < items.size() && items[end].b == head.b && items[end].kvh == head.kvh) end++;
            for (int64_t g = 0; g < s.G; g++) {
                float M = -INFINITY;
                for (size_t i = first[f]; i < end; i++)
                    M = std::max(M, partials[size_t((items[i].part * s.G + g) * (s.d + 2) + s.d)]);
                float* o = out + head.b * a.out_stride_b + (head.kvh * s.G + g) * s.d;
                double l = 0;
                std::vector<double> acc(size_t(s.d), 0.0);
                for (size_t i = first[f]; i < end; i++) {
                    const float* src = partials.data() + (items[i].part * s.G + g) * (s.d + 2);
                    const double w = std::exp(double(src[s.d]) - M);
                    l += w * src[s.d + 1];
                    for (int64_t c = 0; c < s.d; c++) acc[size_t(c)] += w * src[c];
                }
                for (int64_t c = 0; c < s.d; c++) o[c] = float(acc[size_t(c)] / l);
            }
        }
        return;
    }

    // Prefill: blocks of about 64 query rows (Bq tokens × G heads), heaviest (latest) first
    // so the dynamic schedule ends balanced under the causal mask.
    const int64_t Bq = std::max<int64_t>(1, 64 / s.G);
    max_rows = Bq * s.G;
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
    else attention_flash(a, s);
}

}  // namespace mamba4j::cpu
