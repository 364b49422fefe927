package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Feed-forward: SwiGLU down(silu(gate·xn) ⊙ up·xn), with gate and up as one matrix
 * [gate; up] [2I, D] (one matmul; stored so by Granite, concatenated at load otherwise), or
 * squared ReLU down(relu(up·xn)²) with {@code in} = up [I, D].
 */
public record Mlp(Mixer.Mlp spec, int hidden, Tensor in, Tensor inBias, Tensor down, Tensor downBias) implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var k = s.kernels();
        int rows = s.rows(), D = hidden, I = spec.intermediate();
        MemorySegment h = s.floats((long) rows * I);
        switch (spec.activation()) {
            case RELU2 -> {
                k.matmul(rows, I, D, xn, D, in, inBias, h, I, false);
                k.activation(rows, I, Mixer.Activation.RELU2, h, I, null, 0, h, I);
            }
            case SILU_GATE -> {
                MemorySegment gu = s.floats((long) rows * 2 * I); // [gate | up] per row
                k.matmul(rows, 2 * I, D, xn, D, in, inBias, gu, 2 * I, false);
                k.activation(rows, I, Mixer.Activation.SILU_GATE, gu, 2 * I, gu.asSlice((long) I * Float.BYTES), 2 * I, h, I);
            }
        }
        k.matmul(rows, D, I, h, I, down, downBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        return new LayerCache.None();
    }
}
