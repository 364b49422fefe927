// Rotary position embedding on the CPU, rotate-half form (Llama / Hugging Face), in place.
//   q [B, L, Hq, d], k [B, L, Hkv, d] (dtype, strides per row b and token t)
//   p = start_pos[b] + t;  r = rotary_dim (<= d, even);  half = r / 2
//   inv_freq[i] = theta^(-2i/r)                      i < half   (then llama3 scaling)
//   angle = fp32(p · inv_freq[i]);  c = cos(angle), s = sin(angle)
//   x'[i] = x[i]·c − x[i+half]·s;   x'[i+half] = x[i+half]·c + x[i]·s;   x[r..d) unchanged
// llama3 scaling (transformers' _compute_llama3_parameters): with wavelen = 2π / inv_freq,
// low_wavelen = original_max_position / low_freq_factor, high_wavelen = … / high_freq_factor:
//   wavelen > low_wavelen:   inv_freq / factor                        (long waves: scaled)
//   wavelen < high_wavelen:  inv_freq                                 (short waves: kept)
//   otherwise:               (1 − s) · inv_freq / factor + s · inv_freq,
//                            s = (original_max_position / wavelen − low) / (high − low)
// inv_freq is rounded to fp32 and the angle formed in fp32 as transformers does, so long
// positions round the same way; cos/sin of that angle are exact (double).
#include "../kernels.h"
#include "cpu.h"

#include <cmath>
#include <vector>

namespace mamba4j::cpu {

std::vector<float> rope_inverse_frequencies(const mamba4j_rope_args& a) {
    const int64_t half = a.rotary_dim / 2;
    std::vector<float> inv_freq(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; i++) {
        double f = 1.0 / std::pow(double(a.theta), double(2 * i) / double(a.rotary_dim));
        if (a.llama3_factor > 0.0f) {
            const double factor = a.llama3_factor, low = a.llama3_low_freq_factor, high = a.llama3_high_freq_factor;
            const double old_len = double(a.llama3_original_max_position);
            const double low_wavelen = old_len / low, high_wavelen = old_len / high;
            const double wavelen = 2.0 * M_PI / f;
            if (wavelen > low_wavelen) {
                f = f / factor;
            } else if (!(wavelen < high_wavelen)) {
                const double s = (old_len / wavelen - low) / (high - low);
                f = (1.0 - s) * f / factor + s * f;
            }
        }
        inv_freq[size_t(i)] = float(f);
    }
    return inv_freq;
}

static inline int64_t position(const mamba4j_rope_args& a, int64_t b, int64_t t) {
    return (a.start_pos ? int64_t(a.start_pos[b]) : 0) + t;
}

// The math line by line: cos/sin per element, rotation in double.
static void rope_reference(const mamba4j_rope_args& a) {
    const std::vector<float> inv_freq = rope_inverse_frequencies(a);
    const int64_t half = a.rotary_dim / 2, d = a.head_dim;
    for (int64_t b = 0; b < a.batch; b++)
        for (int64_t t = 0; t < a.seqlen; t++) {
            const int64_t p = position(a, b, t);
            for (int pass = 0; pass < 2; pass++) {
                void* x = pass == 0 ? a.q : a.k;
                if (x == nullptr) continue;
                const int64_t heads = pass == 0 ? a.q_heads : a.kv_heads;
                const int64_t row = pass == 0 ? b * a.q_stride_b + t * a.q_stride_t : b * a.k_stride_b + t * a.k_stride_t;
                for (int64_t h = 0; h < heads; h++)
                    for (int64_t i = 0; i < half; i++) {
                        const float angle = float(p) * inv_freq[size_t(i)];
                        const double c = std::cos(double(angle)), s = std::sin(double(angle));
                        const int64_t i1 = row + h * d + i, i2 = i1 + half;
                        const double x1 = load(x, a.dtype, i1), x2 = load(x, a.dtype, i2);
                        store(x, a.dtype, i1, float(x1 * c - x2 * s));
                        store(x, a.dtype, i2, float(x2 * c + x1 * s));
                    }
            }
        }
}

// Rotates the first 2·half channels of each of `heads` heads of one token in place.
static inline void rotate_f32(float* x, int64_t heads, int64_t d, int64_t half, const float* cos_p, const float* sin_p) {
    for (int64_t h = 0; h < heads; h++) {
        float* x1 = x + h * d;
        float* x2 = x1 + half;
#pragma omp simd
        for (int64_t i = 0; i < half; i++) {
            const float a = x1[i], b = x2[i];
            x1[i] = a * cos_p[i] - b * sin_p[i];
            x2[i] = b * cos_p[i] + a * sin_p[i];
        }
    }
}

static void rotate_any(void* x, mamba4j_dtype dt, int64_t row, int64_t heads, int64_t d, int64_t half,
                       const float* cos_p, const float* sin_p) {
    for (int64_t h = 0; h < heads; h++)
        for (int64_t i = 0; i < half; i++) {
            const int64_t i1 = row + h * d + i, i2 = i1 + half;
            const float a = load(x, dt, i1), b = load(x, dt, i2);
            store(x, dt, i1, a * cos_p[i] - b * sin_p[i]);
            store(x, dt, i2, b * cos_p[i] + a * sin_p[i]);
        }
}

// Tokens (b, t) in parallel; cos/sin of a token's position computed once and applied to
// all its q and k heads.
static void rope_fast(const mamba4j_rope_args& a) {
    const std::vector<float> inv_freq = rope_inverse_frequencies(a);
    const int64_t half = a.rotary_dim / 2, d = a.head_dim, tokens = a.batch * a.seqlen;
    const int64_t work = tokens * (a.q_heads + (a.k ? a.kv_heads : 0)) * a.rotary_dim;
    parallel_region(work > 65536, [&] {
        std::vector<float> cos_p(static_cast<size_t>(half)), sin_p(static_cast<size_t>(half));
#pragma omp for schedule(static)
        for (int64_t bt = 0; bt < tokens; bt++) {
            const int64_t b = bt / a.seqlen, t = bt % a.seqlen, p = position(a, b, t);
            for (int64_t i = 0; i < half; i++) {
                const double angle = float(p) * inv_freq[size_t(i)];
                cos_p[size_t(i)] = float(std::cos(angle));
                sin_p[size_t(i)] = float(std::sin(angle));
            }
            const int64_t q_row = b * a.q_stride_b + t * a.q_stride_t, k_row = b * a.k_stride_b + t * a.k_stride_t;
            if (a.dtype == MAMBA4J_F32) {
                rotate_f32(static_cast<float*>(a.q) + q_row, a.q_heads, d, half, cos_p.data(), sin_p.data());
                if (a.k) rotate_f32(static_cast<float*>(a.k) + k_row, a.kv_heads, d, half, cos_p.data(), sin_p.data());
            } else {
                rotate_any(a.q, a.dtype, q_row, a.q_heads, d, half, cos_p.data(), sin_p.data());
                if (a.k) rotate_any(a.k, a.dtype, k_row, a.kv_heads, d, half, cos_p.data(), sin_p.data());
            }
        }
    });
}

void rope(const mamba4j_rope_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) rope_reference(a);
    else rope_fast(a);
}

}  // namespace mamba4j::cpu
