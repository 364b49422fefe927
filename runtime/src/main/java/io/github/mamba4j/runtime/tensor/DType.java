package io.github.mamba4j.runtime.tensor;

import java.util.Arrays;
import java.util.Optional;

/** Element types of tensors as safetensors names them; byte size per element. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1), F8_E4M3(1), F8_E5M2(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16 || this == F8_E4M3 || this == F8_E5M2;
    }

    /** The safetensors spelling ("F32", "BF16", ...), or empty when unknown. */
    public static Optional<DType> of(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }

    /** The kernels' element type, for the dtypes kernels take (F32, BF16, F16). */
    public io.github.mamba4j.bindings.DType kernelType() {
        return switch (this) {
            case F32 -> io.github.mamba4j.bindings.DType.F32;
            case BF16 -> io.github.mamba4j.bindings.DType.BF16;
            case F16 -> io.github.mamba4j.bindings.DType.F16;
            default -> throw new IllegalArgumentException("kernels take F32, BF16 or F16, not " + this);
        };
    }
}
