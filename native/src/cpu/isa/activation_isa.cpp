// MLP activations of one fp32 row, compiled once per SIMD level (see cpu.h): plain
// loops vectorised with the level's flags; y may alias gate.
//   SILU_GATE: y = silu(gate) ⊙ up     RELU2: y = relu(gate)²     SILU: y = silu(gate)
#include "vmath.h"

namespace mamba4j::cpu::MAMBA4J_ISA_NS {

void activation_row_f32(int kind, const float* gate, const float* up, float* y, int64_t dim) {
    if (kind == 0) {
#pragma omp simd
        for (int64_t i = 0; i < dim; i++) y[i] = silu_approx(gate[i]) * up[i];
    } else if (kind == 1) {
#pragma omp simd
        for (int64_t i = 0; i < dim; i++) {
            const float g = gate[i];
            const float r = g > 0.0f ? g : 0.0f * g;  // 0·NaN keeps a NaN
            y[i] = r * r;
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < dim; i++) y[i] = silu_approx(gate[i]);
    }
}

}  // namespace mamba4j::cpu::MAMBA4J_ISA_NS
