package io.github.mamba4j.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The fp32 scratch memory of forward calls, reused from call to call: a bump allocator over
 * off-heap chunks. A call takes pieces with {@link #floats} and {@link #reset} frees them all
 * at the start of the next; when a call needed more than one chunk, the next reset replaces
 * them by one chunk of the total, so a steady sequence of decode steps allocates nothing.
 * Not thread-safe (one per session).
 */
final class Scratch {
    private static final long ALIGN = 64;
    private final List<MemorySegment> chunks = new ArrayList<>();
    private long used; // bytes used of the last chunk

    /** Frees every piece handed out since the last reset. */
    void reset() {
        if (chunks.size() > 1) {
            long size = chunks.stream().mapToLong(MemorySegment::byteSize).sum();
            chunks.clear();
            chunks.add(Arena.ofAuto().allocate(size, ALIGN)); // the old chunks go with the garbage collector
        }
        used = 0;
    }

    /** fp32 scratch of {@code count} floats, 64-byte aligned; its contents are left over from earlier calls. */
    MemorySegment floats(long count) {
        long bytes = (Math.max(count, 1) * Float.BYTES + ALIGN - 1) / ALIGN * ALIGN;
        MemorySegment last = chunks.isEmpty() ? null : chunks.getLast();
        if (last == null || used + bytes > last.byteSize()) {
            last = Arena.ofAuto().allocate(Math.max(bytes, 1L << 20), ALIGN);
            chunks.add(last);
            used = 0;
        }
        MemorySegment piece = last.asSlice(used, bytes);
        used += bytes;
        return piece.asSlice(0, count * Float.BYTES);
    }
}
