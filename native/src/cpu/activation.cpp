// MLP activations on the CPU (DESIGN.md §3 MLP):
//   SILU_GATE: y = silu(gate) ⊙ up    (SwiGLU)   silu(g) = g · sigmoid(g) = g / (1 + e^-g)
//   RELU2:     y = relu(gate)²        (squared ReLU, Nemotron-H; up unused)
//   SILU:      y = silu(gate)         (up unused)
// gate, up, y [rows, dim] (dtype, row strides gate_stride, up_stride, y_stride); y may
// alias gate (each element is read before it is written).
#include "../kernels.h"
#include "cpu.h"

#include <cmath>
#include <vector>

MAMBA4J_ISA_DECLARE(void, activation_row_f32, (int kind, const float* gate, const float* up, float* y, int64_t dim))

namespace mamba4j::cpu {

// The math line by line, in double with std::exp.
static void activation_reference(const mamba4j_activation_args& a) {
    for (int64_t r = 0; r < a.rows; r++)
        for (int64_t i = 0; i < a.dim; i++) {
            const double g = load(a.gate, a.dtype, r * a.gate_stride + i);
            double y;
            if (a.kind == MAMBA4J_ACT_SILU_GATE) y = g / (1.0 + std::exp(-g)) * load(a.up, a.dtype, r * a.up_stride + i);
            else if (a.kind == MAMBA4J_ACT_RELU2) y = g > 0 ? g * g : (std::isnan(g) ? g : 0.0);
            else y = g / (1.0 + std::exp(-g));
            store(a.y, a.dtype, r * a.y_stride + i, float(y));
        }
}

// Rows in parallel; fp32 rows go straight to the SIMD row kernel, others through fp32
// copies of the row.
static void activation_fast(const mamba4j_activation_args& a) {
    auto row_kernel = MAMBA4J_ISA_SELECT(activation_row_f32);
    const bool f32 = a.dtype == MAMBA4J_F32, gated = a.kind == MAMBA4J_ACT_SILU_GATE;
    parallel_region(a.rows * a.dim > 65536, [&] {
        std::vector<float> g(f32 ? 0 : size_t(a.dim)), u(f32 || !gated ? 0 : size_t(a.dim));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < a.rows; r++) {
            if (f32) {
                row_kernel(a.kind, static_cast<const float*>(a.gate) + r * a.gate_stride,
                           gated ? static_cast<const float*>(a.up) + r * a.up_stride : nullptr,
                           static_cast<float*>(a.y) + r * a.y_stride, a.dim);
                continue;
            }
            for (int64_t i = 0; i < a.dim; i++) g[size_t(i)] = load(a.gate, a.dtype, r * a.gate_stride + i);
            if (gated)
                for (int64_t i = 0; i < a.dim; i++) u[size_t(i)] = load(a.up, a.dtype, r * a.up_stride + i);
            row_kernel(a.kind, g.data(), gated ? u.data() : nullptr, g.data(), a.dim);
            for (int64_t i = 0; i < a.dim; i++) store(a.y, a.dtype, r * a.y_stride + i, g[size_t(i)]);
        }
    });
}

void activation(const mamba4j_activation_args& a) {
    if (a.algo == MAMBA4J_ALGO_REFERENCE) activation_reference(a);
    else activation_fast(a);
}

}  // namespace mamba4j::cpu
