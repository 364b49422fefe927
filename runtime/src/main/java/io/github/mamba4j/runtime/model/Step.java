package io.github.mamba4j.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One forward call: B sequences of L new tokens each, the cache slot of each and the
 * position of its first new token; scratch memory comes from {@code arena} (freed after
 * the call).
 */
public record Step(Kernels kernels, Arena arena, int batch, int seqlen, int[] slots, int[] startPos) {
    public int rows() {
        return batch * seqlen;
    }

    /** Zeroed fp32 scratch of {@code count} floats. */
    public MemorySegment floats(long count) {
        return arena.allocate(Math.max(count, 1) * Float.BYTES, 64);
    }
}
