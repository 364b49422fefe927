package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Feed-forward: SwiGLU down(silu(gate·xn) ⊙ up·xn), with {@code in} the {@link Projection}
 * of gate [I, D] and up [I, D] (one matmul when they lie back to back, as Granite's stored
 * gate_up matrix does and most files' gate_proj, up_proj), or squared ReLU
 * down(relu(up·xn)²) with {@code in} = up alone.
 */
public record Mlp(Mixer.Mlp spec, int hidden, Projection in, Tensor down, Tensor downBias) implements Layer {
    /** Part numbers of {@link #in} for SwiGLU. */
    static final int GATE = 0, UP = 1;

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var k = s.kernels();
        int rows = s.rows(), D = hidden, I = spec.intermediate(), W = in.width();
        MemorySegment h = s.floats((long) rows * I);
        switch (spec.activation()) {
            case RELU2 -> {
                in.apply(k, rows, xn, D, h, I);
                k.activation(rows, I, Mixer.Activation.RELU2, h, I, null, 0, h, I);
            }
            case SILU_GATE -> {
                MemorySegment gu = s.floats((long) rows * W); // gate and up per row, at their columns
                in.apply(k, rows, xn, D, gu, W);
                k.activation(rows, I, Mixer.Activation.SILU_GATE, in.part(gu, GATE), W, in.part(gu, UP), W, h, I);
            }
        }
        k.matmul(rows, D, I, h, I, down, downBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        return new LayerCache.None();
    }
}
