package io.github.mamba4j.bindings;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/**
 * The handle of a native object that one {@link #close} frees (a context, an event, a plan):
 * {@link #get} afterwards is an {@link IllegalStateException} naming the object.
 */
final class NativeHandle {
    private final String what;
    private final ToIntFunction<MemorySegment> destroy;
    private MemorySegment handle;

    NativeHandle(String what, MemorySegment handle, ToIntFunction<MemorySegment> destroy) {
        this.what = what;
        this.handle = handle;
        this.destroy = destroy;
    }

    MemorySegment get() {
        if (handle == null) throw new IllegalStateException(what + " is closed");
        return handle;
    }

    /** Frees the native object, once. */
    void close() {
        if (handle == null) return;
        MemorySegment h = handle;
        handle = null;
        Native.check(destroy.applyAsInt(h));
    }
}
