package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A timing mark on a context's stream (mamba4j_event): a CUDA event on a CUDA context, the
 * wall clock on a CPU context (where kernels are synchronous, so it times them too).
 * <pre>{@code
 * try (Event start = Event.create(ctx); Event end = Event.create(ctx)) {
 *     start.record();  kernel.run(ctx, ...);  end.record();
 *     float ms = start.elapsedMs(end);   // waits for end
 * }
 * }</pre>
 * Closing destroys the native event, once; afterwards every method throws
 * {@link IllegalStateException}. Not thread-safe.
 */
public final class Event implements AutoCloseable {
    private final Context ctx;
    private final NativeHandle handle;
    private boolean recorded;

    private Event(Context ctx, MemorySegment handle) {
        this.ctx = ctx;
        this.handle = new NativeHandle("event", handle, Mamba4jH::mamba4j_event_destroy);
    }

    public static Event create(Context ctx) {
        return new Event(ctx, Native.created(out -> Mamba4jH.mamba4j_event_create(ctx.handle(), out)));
    }

    public Context context() {
        return ctx;
    }

    /** Marks the point of the context's stream after the work queued so far (now, on a CPU context). */
    public void record() {
        Native.check(Mamba4jH.mamba4j_event_record(ctx.handle(), handle()));
        recorded = true;
    }

    /** Milliseconds from this event to {@code end}, both recorded; waits until {@code end} has happened. */
    public float elapsedMs(Event end) {
        if (!recorded || !end.recorded)
            throw new IllegalStateException("elapsedMs needs both events recorded (start "
                    + (recorded ? "recorded" : "not recorded") + ", end " + (end.recorded ? "recorded" : "not recorded")
                    + ")");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ms = arena.allocate(ValueLayout.JAVA_FLOAT);
            Native.check(Mamba4jH.mamba4j_event_elapsed_ms(handle(), end.handle(), ms));
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    private MemorySegment handle() {
        return handle.get();
    }

    @Override
    public void close() {
        handle.close();
    }
}
