package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.MemorySegment;

/**
 * Where kernels run: the CPU, or one CUDA device with its stream. Kernel arguments are
 * host memory for a CPU context and device memory for a CUDA context. Closing it frees
 * the native context; using it afterwards is an {@link IllegalStateException}.
 */
public final class Context implements AutoCloseable {
    private final Backend backend;
    private final NativeHandle handle;

    private Context(Backend backend, int device) {
        NativeLibrary.load();
        this.backend = backend;
        handle = new NativeHandle("context", Native.created(out -> Mamba4jH.mamba4j_context_create(backend.code(), device, out)),
                Mamba4jH::mamba4j_context_destroy);
    }

    public static Context cpu() {
        return new Context(Backend.CPU, 0);
    }

    public static Context cuda(int device) {
        return new Context(Backend.CUDA, device);
    }

    public Backend backend() {
        return backend;
    }

    /** Waits for the work queued on this context (a no-op on the CPU). */
    public void synchronize() {
        Native.check(Mamba4jH.mamba4j_synchronize(handle()));
    }

    MemorySegment handle() {
        return handle.get();
    }

    @Override
    public void close() {
        handle.close();
    }
}
