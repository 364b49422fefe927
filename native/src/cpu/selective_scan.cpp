// Mamba-1 fused selective scan on the CPU (DESIGN.md §3), per channel e < E, state n < N:
//   Δ = softplus(dt[b,t,e] + dt_bias[e])      A = -exp(A_log[e,n])
//   h[e,n] = exp(Δ·A[e,n]) · h[e,n] + Δ · B[b,t,n] · u[b,t,e]
//   y[b,t,e] = Σ_n C[b,t,n] · h[e,n] + D[e] · u[b,t,e]      y *= silu(z[b,t,e])
// u, dt, z, y [B, L, E]; B, C [B, L, N]; A_log [E, N]; dt_bias, D [E];
// ssm_state [slot, E, N] fp32, initial state in, final state out. L == 1 is decode.
#include "../kernels.h"
#include "cpu.h"

#include <algorithm>
#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, selective_scan_block_f32,
                    (const mamba4j_selective_scan_args& a, float* state, int64_t b, int64_t e0, int64_t e1))
MAMBA4J_ISA_DECLARE(void, selective_scan_step_f32,
                    (const mamba4j_selective_scan_args& a, float* state, int64_t b, int64_t e0, int64_t e1))

namespace mamba4j::cpu {

static float* state_of(const mamba4j_selective_scan_args& a, int64_t b) {
    if (a.ssm_state == nullptr) return nullptr;
    int64_t slot = a.state_slots ? a.state_slots[b] : b;
    return a.ssm_state + slot * a.inner * a.state;
}

static double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// The math line by line, in double; the state is rounded to fp32 only when stored.
static void selective_scan_reference(const mamba4j_selective_scan_args& a) {
    const int64_t L = a.seqlen, E = a.inner, N = a.state;
    std::vector<double> h(static_cast<size_t>(N));
    for (int64_t b = 0; b < a.batch; b++) {
        float* state = state_of(a, b);
        for (int64_t e = 0; e < E; e++) {
            for (int64_t n = 0; n < N; n++) h[size_t(n)] = state ? state[e * N + n] : 0.0;
            for (int64_t t = 0; t < L; t++) {
                double u = load(a.u, a.dtype, b * a.u_stride_b + t * a.u_stride_t + e);
                double delta = double(load(a.dt, a.dtype, b * a.dt_stride_b + t * a.dt_stride_t + e)) +
                               (a.dt_bias ? a.dt_bias[e] : 0.0f);
                if (a.dt_softplus) delta = softplus(delta);
                double y = 0;
                for (int64_t n = 0; n < N; n++) {
                    double A = -std::exp(double(a.A_log[e * N + n]));
                    double Bn = load(a.B, a.dtype, b * a.B_stride_b + t * a.B_stride_t + n);
                    double Cn = load(a.C, a.dtype, b * a.C_stride_b + t * a.C_stride_t + n);
                    h[size_t(n)] = std::exp(delta * A) * h[size_t(n)] + delta * Bn * u;
                    y += Cn * h[size_t(n)];
                }
                if (a.D) y += a.D[e] * u;
                if (a.z) {
                    double z = load(a.z, a.dtype, b * a.z_stride_b + t * a.z_stride_t + e);
                    y *= z / (1.0 + std::exp(-z));
                }
                store(a.y, a.dtype, b * a.y_stride_b + t * a.y_stride_t + e, float(y));
            }
            if (state)
                for (int64_t n = 0; n < N; n++) state[e * N + n] = float(h[size_t(n)]);
        }
    }
}

// Tasks over (batch row, block of channels); within a block, 16 channels at a time in
// SIMD lanes, the state of each in registers/L1 for the whole sequence.
static void selective_scan_fast(const mamba4j_selective_scan_args& a) {
    const int64_t E = a.inner, N = a.state;
    auto block_kernel = MAMBA4J_ISA_SELECT(selective_scan_block_f32);
    // blocks of 256 channels: their states (256·N floats) stay in L1 while the tokens stream by
    const int64_t block = 256, blocks = (E + block - 1) / block, tasks = a.batch * blocks;
    // threads for work worth tens of µs (about 1–2 ns per t·e·n element): a decode step of
    // mamba-130m (B 1, E 1536, N 16: ~50 µs on one thread) gains from the second thread
    const bool parallel = a.batch * a.seqlen * E * N > (int64_t(1) << 14);
    auto step_kernel = MAMBA4J_ISA_SELECT(selective_scan_step_f32);  // one token: on the state rows, no tiles
    // a decode step: each thread one contiguous run of blocks (static schedule), so its
    // part of the state and of A_log is one sequential stream (as in the SSD decode)
    parallel_region(parallel, [&] {
        auto task_of = [&](int64_t task) {
            int64_t b = task / blocks, e0 = (task % blocks) * block, e1 = std::min(E, e0 + block);
            if (a.seqlen == 1) step_kernel(a, state_of(a, b), b, e0, e1);
            else block_kernel(a, state_of(a, b), b, e0, e1);
        };
        if (a.seqlen == 1) {
#pragma omp for schedule(static)
            for (int64_t task = 0; task < tasks; task++) task_of(task);
        } else {
#pragma omp for schedule(dynamic, 1)
            for (int64_t task = 0; task < tasks; task++) task_of(task);
        }
    });
}

void selective_scan(const mamba4j_selective_scan_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) return selective_scan_reference(a);
    if (a.dtype != MAMBA4J_F32)
        fail(MAMBA4J_ERR_UNSUPPORTED,
             "the CPU selective scan takes F32 activations only (got %s); ALGO_REFERENCE takes any",
             dtype_name(a.dtype));
    selective_scan_fast(a);
}

}  // namespace mamba4j::cpu
