package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Feed-forward: SwiGLU down(silu(gate·xn) ⊙ up·xn), or squared ReLU down(relu(up·xn)²).
 * A fused [gate; up] checkpoint matrix (Granite) arrives as two views of its halves.
 */
public record Mlp(Mixer.Mlp spec, int hidden, Tensor gate, Tensor up, Tensor down, Tensor gateBias,
                  Tensor upBias, Tensor downBias) implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var k = s.kernels();
        int rows = s.rows(), D = hidden, I = spec.intermediate();
        MemorySegment h = s.floats((long) rows * I);
        switch (spec.activation()) {
            case RELU2 -> {
                k.matmul(rows, I, D, xn, D, up, upBias, h, I, false);
                k.activation(rows, I, Mixer.Activation.RELU2, h, I, null, 0, h, I);
            }
            case SILU_GATE -> {
                MemorySegment u = s.floats((long) rows * I);
                k.matmul(rows, I, D, xn, D, gate, gateBias, h, I, false);
                k.matmul(rows, I, D, xn, D, up, upBias, u, I, false);
                k.activation(rows, I, Mixer.Activation.SILU_GATE, h, I, u, I, h, I);
            }
        }
        k.matmul(rows, D, I, h, I, down, downBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        return new LayerCache.None();
    }
}
