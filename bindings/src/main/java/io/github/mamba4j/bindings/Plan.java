package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Kernel calls recorded once and run again with one native call (mamba4j_plan_*), so a
 * step that repeats the same calls, such as a decode step, crosses into the library once.
 * While {@link #record} runs its body, every kernel wrapper called on the context is
 * checked as usual and its arguments are kept instead of run; {@link #run} makes those
 * calls again, in order, each checked again. The memory the recorded calls name is read
 * when the plan runs: change a step's inputs by writing that memory, and keep it allocated
 * (its arena open) while the plan is used. Closing the plan frees it.
 */
public final class Plan implements AutoCloseable {
    private final NativeHandle handle;
    private final long calls;

    private Plan(MemorySegment plan) {
        handle = new NativeHandle("plan", plan, Mamba4jH::mamba4j_plan_destroy);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(ValueLayout.JAVA_LONG);
            Native.check(Mamba4jH.mamba4j_plan_size(plan, n));
            calls = n.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Records the kernel calls {@code body} makes on {@code ctx}; if it throws, the recording is dropped. */
    public static Plan record(Context ctx, Runnable body) {
        Native.check(Mamba4jH.mamba4j_plan_begin(ctx.handle()));
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            Mamba4jH.mamba4j_plan_destroy(end(ctx));
            throw e;
        }
        return new Plan(end(ctx));
    }

    private static MemorySegment end(Context ctx) {
        return Native.created(out -> Mamba4jH.mamba4j_plan_end(ctx.handle(), out));
    }

    /** Runs the recorded calls on {@code ctx} (of the backend they were recorded on). */
    public void run(Context ctx) {
        Native.check(Mamba4jH.mamba4j_plan_run(ctx.handle(), handle.get()));
    }

    /** The number of recorded calls. */
    public long calls() {
        return calls;
    }

    @Override
    public void close() {
        handle.close();
    }
}
