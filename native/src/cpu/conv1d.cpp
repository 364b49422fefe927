// Causal depthwise conv1d + optional SiLU on the CPU (DESIGN.md §3):
//   y[b,t,c] = act(bias[c] + Σ_{k<K} w[c,k] · x̃[b, t-K+1+k, c])
// x̃ before t = 0 comes from conv_state [slot, K-1, C] (the last K-1 inputs of the previous
// call; zeros when conv_state is NULL), which is then overwritten with the last K-1 inputs
// of [state; x]. x, y [B, L, C]; w [C, K]; bias [C] (weight_dtype). L == 1 is decode.
#include "../kernels.h"
#include "cpu.h"

#include <algorithm>
#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, conv1d_rows_f32,
                    (const float* x, int64_t x_stride_t, int64_t C, int64_t K, const float* wT, const float* bias,
                     const float* state, float* y, int64_t y_stride_t, int64_t t0, int64_t t1, bool silu))
MAMBA4J_ISA_DECLARE(void, conv1d_step_f32,
                    (const float* x, int64_t C, int64_t K, const float* w, const float* bias, const float* state,
                     float* y, bool silu))

namespace mamba4j::cpu {

static float* state_of(const mamba4j_conv1d_args& a, int64_t b) {
    if (a.conv_state == nullptr) return nullptr;
    int64_t slot = a.state_slots ? a.state_slots[b] : b;
    return a.conv_state + slot * (a.width - 1) * a.channels;
}

// The math line by line, sums in double.
static void conv1d_reference(const mamba4j_conv1d_args& a) {
    const int64_t L = a.seqlen, C = a.channels, K = a.width;
    for (int64_t b = 0; b < a.batch; b++) {
        float* state = state_of(a, b);
        // x̃ = [state (K-1 rows); x (L rows)]
        auto xt = [&](int64_t i, int64_t c) -> double {  // i indexes x̃
            if (i < K - 1) return state ? state[i * C + c] : 0.0;
            return load(a.x, a.dtype, b * a.x_stride_b + (i - (K - 1)) * a.x_stride_t + c);
        };
        for (int64_t t = 0; t < L; t++)
            for (int64_t c = 0; c < C; c++) {
                double acc = a.bias ? load(a.bias, a.weight_dtype, c) : 0.0;
                for (int64_t k = 0; k < K; k++) acc += double(load(a.w, a.weight_dtype, c * K + k)) * xt(t + k, c);
                if (a.silu) acc = acc / (1.0 + std::exp(-acc));
                store(a.y, a.dtype, b * a.y_stride_b + t * a.y_stride_t + c, float(acc));
            }
        if (state)
            for (int64_t j = 0; j < K - 1; j++)
                for (int64_t c = 0; c < C; c++) state[j * C + c] = float(xt(L + j, c));
    }
}

// The state after the call: the last K-1 rows of [state (K-1 rows); x (L rows)]. Row j
// reads row L + j >= j, so the shift is safe in place.
static void update_state(const float* x, int64_t x_stride_t, int64_t L, int64_t C, int64_t K, float* state) {
    for (int64_t j = 0; j < K - 1; j++) {
        const int64_t i = L + j;
        const float* src = i < K - 1 ? state + i * C : x + (i - (K - 1)) * x_stride_t;
        std::copy(src, src + C, state + j * C);
    }
}

// Tasks over (batch row, range of tokens), whole rows each: x and y are read and written
// in order. The states are read by the tasks and updated after them.
static void conv1d_fast(const mamba4j_conv1d_args& a) {
    const int64_t L = a.seqlen, C = a.channels, K = a.width;
    if (L == 1 && a.weight_dtype == MAMBA4J_F32) {  // decode: straight from the stored weights, nothing copied
        auto step = MAMBA4J_ISA_SELECT(conv1d_step_f32);
        for (int64_t b = 0; b < a.batch; b++) {
            const float* x = static_cast<const float*>(a.x) + b * a.x_stride_b;
            float* state = state_of(a, b);
            step(x, C, K, static_cast<const float*>(a.w), static_cast<const float*>(a.bias), state,
                 static_cast<float*>(a.y) + b * a.y_stride_b, a.silu != 0);
            if (state && K > 1) update_state(x, a.x_stride_t, 1, C, K, state);
        }
        return;
    }
    std::vector<float> wT(size_t(K * C)), bias(a.bias ? size_t(C) : 0);
    // the dtype chosen once, not per weight: at decode this copy is as much work as the token
    auto transpose = [&](auto weight) {
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < K; k++) wT[size_t(k * C + c)] = weight(c * K + k);
    };
    if (a.weight_dtype == MAMBA4J_F32)
        transpose([w = static_cast<const float*>(a.w)](int64_t i) { return w[i]; });
    else if (a.weight_dtype == MAMBA4J_BF16)
        transpose([w = static_cast<const uint16_t*>(a.w)](int64_t i) { return bf16_to_f32(w[i]); });
    else
        transpose([&](int64_t i) { return load(a.w, a.weight_dtype, i); });
    for (int64_t c = 0; c < int64_t(bias.size()); c++) bias[size_t(c)] = load(a.bias, a.weight_dtype, c);
    auto rows_kernel = MAMBA4J_ISA_SELECT(conv1d_rows_f32);
    const int64_t span = std::max<int64_t>(16, (L + 2 * threads() - 1) / (2 * threads()));  // tokens a task
    const int64_t spans = (L + span - 1) / span, tasks = a.batch * spans;
    const float* x = static_cast<const float*>(a.x);
    float* y = static_cast<float*>(a.y);
    // Threads only for work worth a few hundred µs: a parallel region costs a scheduler
    // wake-up, which on a busy machine is far more than a decode step's work.
    parallel_region(a.batch * L * C * K > (int64_t(1) << 20), [&] {
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < tasks; task++) {
            const int64_t b = task / spans, t0 = (task % spans) * span, t1 = std::min(L, t0 + span);
            rows_kernel(x + b * a.x_stride_b, a.x_stride_t, C, K, wT.data(), a.bias ? bias.data() : nullptr,
                        state_of(a, b), y + b * a.y_stride_b, a.y_stride_t, t0, t1, a.silu != 0);
        }
    });
    if (a.conv_state && K > 1)
        for (int64_t b = 0; b < a.batch; b++) update_state(x + b * a.x_stride_b, a.x_stride_t, L, C, K, state_of(a, b));
}

void conv1d(const mamba4j_conv1d_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) return conv1d_reference(a);
    if (a.dtype != MAMBA4J_F32)
        fail(MAMBA4J_ERR_UNSUPPORTED, "the CPU conv1d takes F32 activations only (got %s); ALGO_REFERENCE takes any",
             dtype_name(a.dtype));
    conv1d_fast(a);
}

}  // namespace mamba4j::cpu
