package io.github.mamba4j.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The fp32 scratch memory of forward calls: a bump allocator over off-heap chunks that are
 * kept and reused. {@link #floats} hands out the next piece; {@link #mark} and
 * {@link #release} free everything handed out after the mark (a layer's temporaries, once
 * the layer is done: a forward call then needs one layer's worth, not one per layer), and
 * {@link #reset} frees all. Chunks are reused in order, so a steady sequence of calls of
 * one shape allocates nothing after the first. Not thread-safe (one per session).
 */
final class Scratch {
    private static final long ALIGN = 64, MIN_CHUNK = 1L << 20;
    private final List<MemorySegment> chunks = new ArrayList<>();
    private int chunk; // the chunk pieces come from
    private long used; // bytes of it handed out

    /** A point to {@link #release} back to. */
    record Mark(int chunk, long used) {}

    /** Frees every piece handed out. */
    void reset() {
        chunk = 0;
        used = 0;
    }

    Mark mark() {
        return new Mark(chunk, used);
    }

    /** Frees the pieces handed out since {@code mark} was taken. */
    void release(Mark mark) {
        chunk = mark.chunk();
        used = mark.used();
    }

    /** Bytes of all chunks (what the session holds for activations). */
    long capacity() {
        return chunks.stream().mapToLong(MemorySegment::byteSize).sum();
    }

    /** fp32 scratch of {@code count} floats, 64-byte aligned; its contents are left over from earlier calls. */
    MemorySegment floats(long count) {
        long bytes = (Math.max(count, 1) * Float.BYTES + ALIGN - 1) / ALIGN * ALIGN;
        while (chunk < chunks.size() && used + bytes > chunks.get(chunk).byteSize()) { // on to the next chunk with room
            chunk++;
            used = 0;
        }
        if (chunk == chunks.size()) chunks.add(Arena.ofAuto().allocate(Math.max(bytes, MIN_CHUNK), ALIGN));
        MemorySegment piece = chunks.get(chunk).asSlice(used, bytes);
        used += bytes;
        return piece.asSlice(0, count * Float.BYTES);
    }
}
