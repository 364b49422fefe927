package io.github.mamba4j.runtime.model;

import java.lang.foreign.MemorySegment;

/** The per-layer part of a session: recurrent states (constant size) or a KV cache (grows with T). */
public sealed interface LayerCache {
    /** Bytes held for every slot, whatever the sequence length. */
    long constantBytes();

    /** Bytes per token per sequence. */
    long bytesPerToken();

    /** Zeroes the rows of {@code slot} (a sequence joining or leaving). */
    void reset(int slot);

    /** conv [slots, K-1, C] and ssm [slots, ...] fp32. */
    record Ssm(MemorySegment conv, long convPerSlot, MemorySegment ssm, long ssmPerSlot) implements LayerCache {
        public long constantBytes() {
            return conv.byteSize() + ssm.byteSize();
        }

        public long bytesPerToken() {
            return 0;
        }

        public void reset(int slot) {
            conv.asSlice(slot * convPerSlot * Float.BYTES, convPerSlot * Float.BYTES).fill((byte) 0);
            ssm.asSlice(slot * ssmPerSlot * Float.BYTES, ssmPerSlot * Float.BYTES).fill((byte) 0);
        }
    }

    /** k, v [slots, T, Hkv, d] fp32. */
    record Kv(MemorySegment k, MemorySegment v, int capacity, long perToken) implements LayerCache {
        public long constantBytes() {
            return 0;
        }

        public long bytesPerToken() {
            return 2 * perToken * Float.BYTES;
        }

        public void reset(int slot) {
            long bytes = capacity * perToken * Float.BYTES;
            k.asSlice(slot * bytes, bytes).fill((byte) 0);
            v.asSlice(slot * bytes, bytes).fill((byte) 0);
        }
    }

    /** Layers without state (MLP). */
    record None() implements LayerCache {
        public long constantBytes() {
            return 0;
        }

        public long bytesPerToken() {
            return 0;
        }

        public void reset(int slot) {}
    }
}
