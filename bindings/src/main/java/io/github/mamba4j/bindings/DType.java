package io.github.mamba4j.bindings;

/** Element types the kernels take (mamba4j_dtype). */
public enum DType {
    F32(0, 4), BF16(1, 2), F16(2, 2);

    final int code;
    private final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
