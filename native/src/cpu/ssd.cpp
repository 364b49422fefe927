// Mamba-2 SSD on the CPU (DESIGN.md §3). Scalar decay per head h, group g = h / (H/G):
//   Δ_t = clamp(softplus(dt[b,t,h] + dt_bias[h]), dt_min, dt_max)      A_h = -exp(A_log[h])
//   S_t = exp(Δ_t·A_h) · S_{t-1} + Δ_t · x_t ⊗ B_t                    (state [P, N])
//   y_t = S_t · C_t + D_h · x_t;   y_t *= silu(z_t)
// x, z, y [B, L, H, P]; dt [B, L, H]; B, C [B, L, G, N]; ssm_state [slot, H, P, N] fp32.
//
// Three implementations:
//  - ssd_reference: the recurrence above line by line, in double.
//  - ssd_recurrent: the same recurrence in fp32, SIMD over N, threads over (b, h). Decode
//    (L == 1) over a batch of slots takes this path.
//  - ssd_chunked: the chunked matrix algorithm (ssd_minimal.py). Split L into chunks of Q
//    tokens (CHUNKED: chunk_size; AUTO: at most 64, where a CPU does least work — the
//    intra-chunk part costs Q·P per token and head, the state parts 4·P·N whatever Q);
//    cum_i = Σ_{j ≤ i} Δ_j·A within a chunk. Then
//      (1) intra-chunk:   Y = (C·Bᵀ ∘ Lmask) · (Δ x),   Lmask[i,j] = exp(cum_i − cum_j), j ≤ i
//      (2) chunk states:  S_c = Σ_j exp(cum_end − cum_j) · Δ_j · x_j ⊗ B_j
//      (3) inter-chunk:   S_in(c+1) = exp(cum_end(c)) · S_in(c) + S_c        (a short recurrence)
//      (4) output:        Y_i += exp(cum_i) · S_in(c) · C_i
//    Exponents are clamped at ≤ 0, so rounding never makes a decay exceed 1. Steps 1, 2
//    and 4 are matrix products (src/cpu/isa/ssd_isa.cpp); C·Bᵀ is computed once per group
//    and chunk. The chunks of a head run in order, so step 3 is a running state.
#include "../kernels.h"
#include "cpu.h"

#include <algorithm>
#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, ssd_step_f32,
                    (float* S, int64_t P, int64_t N, float a, float delta, const float* x, const float* Bv,
                     const float* Cv, float D, const float* z, float* y))
MAMBA4J_ISA_DECLARE(void, ssd_chunked_heads_f32,
                    (const mamba4j_ssd_args& a, int64_t Q, int64_t b, int64_t h0, int64_t h1, float* state))
MAMBA4J_ISA_DECLARE(float, ssd_delta_f32, (const mamba4j_ssd_args& a, float raw, int64_t h))

namespace mamba4j::cpu {

namespace {

constexpr int64_t kDefaultChunk = 256;    // chunk_size == 0
constexpr int64_t kAutoChunk = 64;        // AUTO's chunk on the CPU (measured: 32–64 best, 256 ~30% slower)
constexpr int64_t kAutoChunkedFrom = 32;  // AUTO: chunked from this many tokens on (measured: equal at 16)

float* state_of(const mamba4j_ssd_args& a, int64_t b) {
    if (a.ssm_state == nullptr) return nullptr;
    int64_t slot = a.state_slots ? a.state_slots[b] : b;
    return a.ssm_state + slot * a.heads * a.head_dim * a.state;
}

double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// The math line by line, in double; the state is rounded to fp32 only when stored.
void ssd_reference(const mamba4j_ssd_args& a) {
    const int64_t L = a.seqlen, H = a.heads, P = a.head_dim, N = a.state, heads_per_group = a.heads / a.groups;
    std::vector<double> S(size_t(P * N));
    for (int64_t b = 0; b < a.batch; b++) {
        float* state = state_of(a, b);
        for (int64_t h = 0; h < H; h++) {
            const int64_t g = h / heads_per_group;
            for (int64_t i = 0; i < P * N; i++) S[size_t(i)] = state ? state[h * P * N + i] : 0.0;
            const double A = -std::exp(double(a.A_log[h]));
            for (int64_t t = 0; t < L; t++) {
                double delta = softplus(double(load(a.dt, a.dtype, b * a.dt_stride_b + t * a.dt_stride_t + h)) +
                                        (a.dt_bias ? a.dt_bias[h] : 0.0f));
                delta = std::max(delta, double(a.dt_min));
                if (a.dt_max > 0.0f) delta = std::min(delta, double(a.dt_max));
                const double decay = std::exp(delta * A);
                const int64_t xo = b * a.x_stride_b + t * a.x_stride_t + h * P;
                const int64_t bo = b * a.B_stride_b + t * a.B_stride_t + g * N;
                const int64_t co = b * a.C_stride_b + t * a.C_stride_t + g * N;
                for (int64_t p = 0; p < P; p++) {
                    const double x = load(a.x, a.dtype, xo + p);
                    double y = 0;
                    for (int64_t n = 0; n < N; n++) {
                        double& s = S[size_t(p * N + n)];
                        s = decay * s + delta * x * double(load(a.B, a.dtype, bo + n));
                        y += s * double(load(a.C, a.dtype, co + n));
                    }
                    if (a.D) y += a.D[h] * x;
                    if (a.z) {
                        const double z = load(a.z, a.dtype, b * a.z_stride_b + t * a.z_stride_t + h * P + p);
                        y *= z / (1.0 + std::exp(-z));
                    }
                    store(a.y, a.dtype, b * a.y_stride_b + t * a.y_stride_t + h * P + p, float(y));
                }
            }
            if (state)
                for (int64_t i = 0; i < P * N; i++) state[h * P * N + i] = float(S[size_t(i)]);
        }
    }
}

// Token by token, fp32; tasks over (b, h), each head's state updated in place.
void ssd_recurrent(const mamba4j_ssd_args& a) {
    const int64_t L = a.seqlen, H = a.heads, P = a.head_dim, N = a.state, heads_per_group = a.heads / a.groups;
    auto step = MAMBA4J_ISA_SELECT(ssd_step_f32);
    auto delta_of = MAMBA4J_ISA_SELECT(ssd_delta_f32);
    const float* x = static_cast<const float*>(a.x);
    const float* dt = static_cast<const float*>(a.dt);
    const float* Bm = static_cast<const float*>(a.B);
    const float* Cm = static_cast<const float*>(a.C);
    const float* z = static_cast<const float*>(a.z);
    float* y = static_cast<float*>(a.y);
    // Threads for work worth tens of µs (about 0.1–0.5 ns per t·h·p·n element): a decode
    // step of mamba2-130m (B 1, 24 heads × 64 × 128, a 786 KB state per layer) is
    // memory-bound at ~85 µs on one thread and gains from the second one's bandwidth.
    // A decode step (L == 1) gives each thread one contiguous run of heads (static schedule):
    // its part of the state is then one sequential stream, which the hardware prefetcher
    // follows (measured 10–20% faster than heads handed out one by one); longer sequences
    // hand out heads dynamically.
    parallel_region(a.batch * H * L * P * N > (int64_t(1) << 16), [&] {
        std::vector<float> zero_state(a.ssm_state ? 0 : size_t(P * N));
        auto head = [&](int64_t task) {
            const int64_t b = task / H, h = task % H, g = h / heads_per_group;
            float* S = a.ssm_state ? state_of(a, b) + h * P * N : zero_state.data();
            if (!a.ssm_state) std::fill(zero_state.begin(), zero_state.end(), 0.0f);
            const float A = -std::exp(a.A_log[h]), D = a.D ? a.D[h] : 0.0f;
            for (int64_t t = 0; t < L; t++) {
                if (t + 2 < L) {  // a later token's rows (a new page each: the hardware prefetcher stops there)
                    const int64_t u = t + 2;
                    __builtin_prefetch(x + b * a.x_stride_b + u * a.x_stride_t + h * P);
                    __builtin_prefetch(Bm + b * a.B_stride_b + u * a.B_stride_t + g * N);
                    __builtin_prefetch(Cm + b * a.C_stride_b + u * a.C_stride_t + g * N);
                }
                const float delta = delta_of(a, dt[b * a.dt_stride_b + t * a.dt_stride_t + h], h);
                step(S, P, N, std::exp(delta * A), delta, x + b * a.x_stride_b + t * a.x_stride_t + h * P,
                     Bm + b * a.B_stride_b + t * a.B_stride_t + g * N, Cm + b * a.C_stride_b + t * a.C_stride_t + g * N,
                     D, z ? z + b * a.z_stride_b + t * a.z_stride_t + h * P : nullptr,
                     y + b * a.y_stride_b + t * a.y_stride_t + h * P);
            }
        };
        if (L == 1) {
#pragma omp for schedule(static)
            for (int64_t task = 0; task < a.batch * H; task++) head(task);
        } else {
#pragma omp for schedule(dynamic, 1)
            for (int64_t task = 0; task < a.batch * H; task++) head(task);
        }
    });
}

// The chunked algorithm: tasks over (batch row, group, block of the group's heads), each
// running all chunks in order with its heads' states in a local buffer. Splitting a
// group's heads into blocks gives the threads work when B·G is small; each block then
// computes the group's C·Bᵀ itself (a small share of the work: N/(P·heads in block)).
void ssd_chunked(const mamba4j_ssd_args& a, int64_t chunk) {
    const int64_t B = a.batch, G = a.groups, heads_per_group = a.heads / a.groups;
    const int64_t Q = std::min(chunk, a.seqlen);
    const int64_t nthreads = threads();
    const int64_t wanted = std::clamp<int64_t>((2 * nthreads + B * G - 1) / (B * G), 1, heads_per_group);
    const int64_t per_block = (heads_per_group + wanted - 1) / wanted;
    const int64_t blocks = (heads_per_group + per_block - 1) / per_block, tasks = B * G * blocks;
    auto run_heads = MAMBA4J_ISA_SELECT(ssd_chunked_heads_f32);
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) if (tasks > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t b = task / (G * blocks), g = (task / blocks) % G, blk = task % blocks;
        const int64_t h0 = g * heads_per_group + blk * per_block;
        const int64_t h1 = std::min(h0 + per_block, (g + 1) * heads_per_group);
        run_heads(a, Q, b, h0, h1, state_of(a, b));
    }
}

}  // namespace

void ssd(const mamba4j_ssd_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) return ssd_reference(a);
    if (a.dtype != MAMBA4J_F32)
        fail(MAMBA4J_ERR_UNSUPPORTED, "the CPU SSD takes F32 activations only (got %s); ALGO_REFERENCE takes any",
             dtype_name(a.dtype));
    const int64_t chunk = a.chunk_size > 0 ? a.chunk_size : kDefaultChunk;
    if (a.algo == MAMBA4J_ALGO_CHUNKED) ssd_chunked(a, chunk);
    // AUTO: chunked for prefill where SIMD makes its matrix products fast (measured: AVX2
    // and AVX-512 1.5–3x over the recurrence at L 1024; SSE2 alone about 0.6–0.9x)
    else if (a.algo == MAMBA4J_ALGO_AUTO && a.seqlen >= kAutoChunkedFrom && simd_in_use() != MAMBA4J_SIMD_SCALAR)
        ssd_chunked(a, std::min(chunk, kAutoChunk));  // the same math in smaller chunks: less work on a CPU
    else ssd_recurrent(a);
}

}  // namespace mamba4j::cpu
