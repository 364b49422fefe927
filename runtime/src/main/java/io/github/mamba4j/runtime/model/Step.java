package io.github.mamba4j.runtime.model;

import java.lang.foreign.MemorySegment;

/**
 * One forward call: B sequences of L new tokens each, the cache slot of each and the
 * position of its first new token; scratch memory comes from the session's
 * {@code scratch}: a piece a layer takes is valid until that layer returns (the model
 * releases it for the next layer), one taken outside the layers until the session's next
 * call.
 */
public record Step(Kernels kernels, Scratch scratch, int batch, int seqlen, int[] slots, int[] startPos) {
    public int rows() {
        return batch * seqlen;
    }

    /** fp32 scratch of {@code count} floats, not zeroed (every use writes it before reading). */
    public MemorySegment floats(long count) {
        return scratch.floats(count);
    }
}
