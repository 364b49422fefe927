package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Memory of a context's backend (mamba4j_malloc): device memory for a CUDA context, the
 * memory kernel arguments must live in there.
 *
 * <p>{@link #address()} is a segment of {@link #byteSize()} bytes to pass as a kernel
 * argument (slice it with {@code asSlice} for an offset). On a CUDA context it holds a
 * device address: never read or write it from Java (that would crash the JVM); move data
 * with {@link #copyFrom} and {@link #copyTo}. On a CPU context the library allocates
 * 64-byte aligned host memory natively and the copies are plain memmoves, so the same code
 * runs on both backends; there the segment may also be read and written directly.
 *
 * <p>Copies to the device are complete when they return; copies to the host wait for the
 * kernels queued before them on the context's stream (mamba4j_memcpy is synchronous for
 * host destinations), so no separate {@link Context#synchronize()} is needed to read results.
 *
 * <p>Closing frees the memory, once; afterwards every method and every segment handed out
 * by {@link #address()} throws {@link IllegalStateException}. Close buffers before their
 * context (try-with-resources does, in reverse order): a CUDA context does not free them.
 * Not thread-safe, like {@link Context}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Context ctx;
    private final long bytes;
    private final MemorySegment pointer; // the raw address, for mamba4j_free
    private final Arena scope;           // ends the life of every view of the memory on close
    private final MemorySegment address;
    private boolean closed;

    private DeviceBuffer(Context ctx, long bytes, MemorySegment pointer) {
        this.ctx = ctx;
        this.bytes = bytes;
        this.pointer = pointer;
        this.scope = Arena.ofShared();
        this.address = pointer.reinterpret(bytes, scope, null);
    }

    /**
     * {@code bytes} of the context's memory, uninitialised. {@code bytes <= 0} is an
     * {@link IllegalArgumentException}; a size the backend cannot provide is a
     * {@link Mamba4jException} (OUT_OF_MEMORY) with the library's message.
     */
    public static DeviceBuffer allocate(Context ctx, long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("bytes must be > 0, got " + bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(Mamba4jH.mamba4j_malloc(ctx.handle(), bytes, out));
            return new DeviceBuffer(ctx, bytes, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** A buffer of the size of {@code host}, holding a copy of it. */
    public static DeviceBuffer of(Context ctx, MemorySegment host) {
        DeviceBuffer b = allocate(ctx, host.byteSize());
        try {
            b.copyFrom(host);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    public Context context() {
        return ctx;
    }

    public long byteSize() {
        return bytes;
    }

    /** The memory as a kernel argument; see the class comment before touching it from Java. */
    public MemorySegment address() {
        requireOpen();
        return address;
    }

    /** Copies all of {@code host} (off-heap, at most {@link #byteSize()} bytes) to the start of this buffer. */
    public void copyFrom(MemorySegment host) {
        copyFrom(host, 0);
    }

    /** Copies all of {@code host} into this buffer from byte {@code offset} on. */
    public void copyFrom(MemorySegment host, long offset) {
        requireRange(host, offset, "host source");
        if (host.byteSize() == 0) return;
        Native.check(Mamba4jH.mamba4j_memcpy(ctx.handle(), address.asSlice(offset), host, host.byteSize(),
                Mamba4jH.MAMBA4J_COPY_HOST_TO_DEVICE()));
    }

    /** Fills {@code host} (off-heap, at most {@link #byteSize()} bytes) from the start of this buffer. */
    public void copyTo(MemorySegment host) {
        copyTo(host, 0);
    }

    /** Fills {@code host} from byte {@code offset} of this buffer on. */
    public void copyTo(MemorySegment host, long offset) {
        requireRange(host, offset, "host destination");
        if (host.byteSize() == 0) return;
        Native.check(Mamba4jH.mamba4j_memcpy(ctx.handle(), host, address.asSlice(offset), host.byteSize(),
                Mamba4jH.MAMBA4J_COPY_DEVICE_TO_HOST()));
    }

    /** Copies all of {@code src}, a buffer of the same context, to the start of this one (on the stream). */
    public void copyFrom(DeviceBuffer src) {
        requireOpen();
        src.requireOpen();
        if (src.ctx != ctx) throw new IllegalArgumentException("the source buffer belongs to another context");
        if (src.bytes > bytes)
            throw new IllegalArgumentException("the source buffer holds " + src.bytes + " bytes, this one " + bytes);
        Native.check(Mamba4jH.mamba4j_memcpy(ctx.handle(), address, src.address, src.bytes,
                Mamba4jH.MAMBA4J_COPY_DEVICE_TO_DEVICE()));
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees the memory; a second close does nothing. */
    @Override
    public void close() {
        if (closed) return;
        MemorySegment c = ctx.handle(); // a closed context: the memory is lost, say so rather than free into nothing
        closed = true;
        scope.close();
        Native.check(Mamba4jH.mamba4j_free(c, pointer));
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("device buffer is closed");
    }

    private void requireRange(MemorySegment host, long offset, String name) {
        requireOpen();
        if (host == null || host.equals(MemorySegment.NULL)) throw new IllegalArgumentException(name + " is null");
        if (!host.isNative())
            throw new IllegalArgumentException(name + " must be off-heap memory (Arena.allocate), not a heap array");
        if (offset < 0 || offset > bytes || host.byteSize() > bytes - offset)
            throw new IllegalArgumentException(name + " of " + host.byteSize() + " bytes at offset " + offset
                    + " does not fit a device buffer of " + bytes + " bytes");
    }
}
