package io.github.mamba4j.bindings;

/** Where kernels run (mamba4j_backend). */
public enum Backend {
    CPU, CUDA;

    int code() {
        return ordinal();
    }
}
