// The inner loop of flash attention on the CPU, compiled once per SIMD level (see cpu.h).
// Written with GCC vector types of 16 floats: one zmm with AVX-512, two ymm with AVX2,
// four xmm on plain x86-64 — the same source for every level, no intrinsics.
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
// kv_row floats apart; m, l [M]; acc [M, d]; scratch holds d·kTile + kTile floats.
#include <cmath>
#include <cstdint>
#include <cstring>

// The 64-byte vector helpers are inlined; their ABI (zmm or not) never crosses a call.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

namespace {

constexpr int64_t kTile = 64;  // keys per tile: 4 vectors of 16

typedef float v16 __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

inline v16 splat(float f) { return v16{} + f; }
inline v16 ld(const float* p) {
    v16 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void st(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
inline float hmax(v16 v) {
    float m = v[0];
    for (int i = 1; i < 16; i++) m = v[i] > m ? v[i] : m;
    return m;
}
inline float hsum(v16 v) {
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += v[i];
    return s;
}

// exp(x) for x <= 0 (softmax arguments), relative error ~2 ulp: x = n·ln2 + r with
// |r| <= ln2/2, a degree-6 polynomial for exp(r) (Cephes expf), 2^n from the exponent
// bits. exp(x) is 0 below −87 (including −inf, the masked keys); NaN stays NaN.
inline v16 exp_nonpositive(v16 x) {
    const v16 xc = x < splat(-87.0f) ? splat(-87.0f) : x;
    const v16 fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
    const v16 r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
    v16 p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const v16i n = __builtin_convertvector(fn, v16i);
    const v16i bits = (n + 127) << 23;
    v16 scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const v16 e = p * scale;
    return x < splat(-87.0f) ? splat(0.0f) : e;
}

}  // namespace

void flash_rows_f32(const float* q, const int64_t* pos, int64_t M, int64_t d, const float* K, const float* V,
                    int64_t kv_row, int64_t k0, int64_t k1, float* m, float* l, float* acc, float* scratch) {
    float* kt = scratch;              // [d, kTile]: the key tile, transposed
    float* p = scratch + d * kTile;   // [kTile]: exp(s − m') of one row
    int64_t last = -1;
    for (int64_t r = 0; r < M; r++) last = pos[r] > last ? pos[r] : last;
    if (last + 1 < k1) k1 = last + 1;
    const v16 lane = v16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const v16 neg_inf = splat(-INFINITY);

    for (int64_t j0 = k0; j0 < k1; j0 += kTile) {
        const int64_t nk = k1 - j0 < kTile ? k1 - j0 : kTile;
        for (int64_t jj = 0; jj < nk; jj++) {
            const float* kr = K + (j0 + jj) * kv_row;
            for (int64_t c = 0; c < d; c++) kt[c * kTile + jj] = kr[c];
        }
        for (int64_t jj = nk; jj < kTile; jj++)
            for (int64_t c = 0; c < d; c++) kt[c * kTile + jj] = 0.0f;

        for (int64_t r = 0; r < M; r++) {
            if (pos[r] < j0) continue;  // every key of this tile is in row r's future
            // scores of the tile: 64 keys in 4 vectors, q broadcast one channel at a time
            const float* qr = q + r * d;
            v16 s0 = {}, s1 = {}, s2 = {}, s3 = {};
            for (int64_t c = 0; c < d; c++) {
                const float* kc = kt + c * kTile;
                const v16 qc = splat(qr[c]);
                s0 += qc * ld(kc);
                s1 += qc * ld(kc + 16);
                s2 += qc * ld(kc + 32);
                s3 += qc * ld(kc + 48);
            }
            // keys at or past `visible` (the tile's end, or the row's future) are masked
            const int64_t visible = pos[r] - j0 + 1 < nk ? pos[r] - j0 + 1 : nk;
            if (visible < kTile) {
                const v16 lim = splat(float(visible));
                s0 = lane < lim ? s0 : neg_inf;
                s1 = lane + 16.0f < lim ? s1 : neg_inf;
                s2 = lane + 32.0f < lim ? s2 : neg_inf;
                s3 = lane + 48.0f < lim ? s3 : neg_inf;
            }
            v16 mx = s0 > s1 ? s0 : s1;
            const v16 mx23 = s2 > s3 ? s2 : s3;
            mx = mx > mx23 ? mx : mx23;
            const float m_old = m[r], m_tile = hmax(mx);
            const float m_new = m_tile > m_old ? m_tile : m_old;
            const float alpha = m_old == -INFINITY ? 0.0f : std::exp(m_old - m_new);
            const v16 mn = splat(m_new);
            const v16 p0 = exp_nonpositive(s0 - mn), p1 = exp_nonpositive(s1 - mn);
            const v16 p2 = exp_nonpositive(s2 - mn), p3 = exp_nonpositive(s3 - mn);
            st(p, p0);
            st(p + 16, p1);
            st(p + 32, p2);
            st(p + 48, p3);
            l[r] = alpha * l[r] + hsum((p0 + p1) + (p2 + p3));
            m[r] = m_new;

            // acc_r = α·acc_r + Σ_j p_j·V_j, 64 channels at a time held in registers
            float* ar = acc + r * d;
            const float* vt = V + j0 * kv_row;
            const v16 va = splat(alpha);
            int64_t c = 0;
            for (; c + 64 <= d; c += 64) {
                v16 a0 = ld(ar + c) * va, a1 = ld(ar + c + 16) * va, a2 = ld(ar + c + 32) * va, a3 = ld(ar + c + 48) * va;
                for (int64_t jj = 0; jj < visible; jj++) {
                    const float* vr = vt + jj * kv_row + c;
                    const v16 pj = splat(p[jj]);
                    a0 += pj * ld(vr);
                    a1 += pj * ld(vr + 16);
                    a2 += pj * ld(vr + 32);
                    a3 += pj * ld(vr + 48);
                }
                st(ar + c, a0);
                st(ar + c + 16, a1);
                st(ar + c + 32, a2);
                st(ar + c + 48, a3);
            }
            for (; c + 16 <= d; c += 16) {
                v16 a0 = ld(ar + c) * va;
                for (int64_t jj = 0; jj < visible; jj++) a0 += splat(p[jj]) * ld(vt + jj * kv_row + c);
                st(ar + c, a0);
            }
            for (; c < d; c++) {
                float a0 = ar[c] * alpha;
                for (int64_t jj = 0; jj < visible; jj++) a0 += p[jj] * vt[jj * kv_row + c];
                ar[c] = a0;
            }
        }
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
