package io.github.mamba4j.runtime.model;

import java.lang.foreign.MemorySegment;

/**
 * One mixer kind (not one per family: families differ in config and tensor names only).
 * {@link #forward} reads the normalised input xn [B·L, D] and adds its output into the fp32
 * residual [B·L, D]; a residual multiplier is folded into the output projection at load.
 */
public sealed interface Layer permits Mamba1Mixer, Mamba2Mixer, Attention, Mlp {

    void forward(Step step, MemorySegment xn, MemorySegment residual, LayerCache cache);

    /** The cache this layer needs for {@code slots} sequences of up to {@code capacity} tokens. */
    LayerCache newCache(java.lang.foreign.Arena arena, int slots, int capacity);
}
