package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;

/** The one place where native status codes become exceptions. */
final class Native {
    private Native() {}

    /** Bytes of per-thread argument memory: more than the largest args struct of mamba4j.h. */
    private static final long ARGS_BYTES = 1024;
    private static final ThreadLocal<MemorySegment> ARGS = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(ARGS_BYTES, 64));

    /**
     * Zeroed memory for one call's argument struct of {@code layout}, owned by the calling
     * thread and reused by its next call (a kernel call never nests in another, and the
     * library keeps no pointer to its arguments): no allocation per kernel call.
     */
    static MemorySegment args(MemoryLayout layout) {
        if (layout.byteSize() > ARGS_BYTES) throw new IllegalStateException("args struct of " + layout.byteSize() + " bytes");
        MemorySegment a = ARGS.get().asSlice(0, layout.byteSize());
        a.fill((byte) 0);
        return a;
    }

    /** The pointer a native call writes to its out argument, e.g. {@code out -> mamba4j_event_create(ctx, out)}. */
    static MemorySegment created(ToIntFunction<MemorySegment> call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(call.applyAsInt(out));
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** Throws {@link Mamba4jException} with the library's message when status is not OK. */
    static void check(int status) {
        if (status == Mamba4jH.MAMBA4J_OK()) return;
        String message = Mamba4jH.mamba4j_last_error().reinterpret(Long.MAX_VALUE).getString(0);
        throw new Mamba4jException(Status.of(status), message.isEmpty() ? "status " + status : message);
    }

    /**
     * Checks that a segment can hold {@code elements} values of {@code dtype}, which the
     * native side cannot see. A null segment or a negative count is left to the native
     * checks, which name the argument.
     */
    static void requireCovers(MemorySegment segment, long elements, DType dtype, String name) {
        if (segment == null || segment.equals(MemorySegment.NULL)) return;
        requireAlive(segment, name);
        if (elements < 0) return;
        if (!segment.isNative())
            throw new IllegalArgumentException(name + " must be off-heap memory (Arena.allocate), not a heap array");
        long need = Math.multiplyExact(elements, (long) dtype.bytes());
        if (segment.byteSize() < need)
            throw new IllegalArgumentException(name + " holds " + segment.byteSize() + " bytes but the shape needs "
                    + need);
    }

    /**
     * Kernel arguments travel inside an args struct, where the FFM runtime does not check
     * that a segment's memory is still alive: a closed arena or {@link DeviceBuffer} would
     * pass a freed address. Checked here instead.
     */
    static void requireAlive(MemorySegment segment, String name) {
        if (!segment.scope().isAlive())
            throw new IllegalStateException(name + " is freed memory (its arena or device buffer is closed)");
    }

    /** MemorySegment.NULL for a missing optional argument. */
    static MemorySegment orNull(MemorySegment s) {
        return s == null ? MemorySegment.NULL : s;
    }
}
