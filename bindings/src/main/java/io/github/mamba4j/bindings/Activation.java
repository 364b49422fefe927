package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_activation_args;
import java.lang.foreign.MemorySegment;

/**
 * MLP activations over rows of {@code dim} values: gate, up, y [rows, dim] of {@code dtype};
 * y contiguous, gate and up rows {@code inStride} elements apart (column slices of a wider
 * tensor, such as a fused [gate | up] projection output); y may be the same segment as gate.
 */
public record Activation(long rows, long dim, DType dtype, Kind kind, Algo algo, long inStride) {

    /** mamba4j_activation. */
    public enum Kind {
        /** y = silu(gate) ⊙ up (SwiGLU). */
        SILU_GATE,
        /** y = relu(gate)² (squared ReLU; up unused). */
        RELU2,
        /** y = silu(gate) (up unused). */
        SILU
    }

    public Activation(long rows, long dim, DType dtype, Kind kind) {
        this(rows, dim, dtype, kind, Algo.AUTO);
    }

    /** Contiguous gate and up. */
    public Activation(long rows, long dim, DType dtype, Kind kind, Algo algo) {
        this(rows, dim, dtype, kind, algo, dim);
    }

    public Activation withInStride(long stride) {
        return new Activation(rows, dim, dtype, kind, algo, stride);
    }

    /** {@code up} may be null unless the kind is SILU_GATE. */
    public void run(Context ctx, MemorySegment gate, MemorySegment up, MemorySegment y) {
        long elements = rows > 0 && dim > 0 ? Math.multiplyExact(rows, dim) : -1;
        long in = rows > 0 && dim > 0 ? Matmul.extent(rows, inStride, dim) : -1;
        Native.requireCovers(gate, in, dtype, "gate");
        Native.requireCovers(up, in, dtype, "up");
        Native.requireCovers(y, elements, dtype, "y");
        MemorySegment a = Native.args(mamba4j_activation_args.layout());
        mamba4j_activation_args.rows(a, rows);
        mamba4j_activation_args.dim(a, dim);
        mamba4j_activation_args.dtype(a, dtype.code);
        mamba4j_activation_args.kind(a, kind.ordinal());
        mamba4j_activation_args.gate(a, Native.orNull(gate));
        mamba4j_activation_args.gate_stride(a, inStride);
        mamba4j_activation_args.up(a, Native.orNull(up));
        mamba4j_activation_args.up_stride(a, inStride);
        mamba4j_activation_args.y(a, Native.orNull(y));
        mamba4j_activation_args.y_stride(a, dim);
        mamba4j_activation_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_activation_apply(ctx.handle(), a));
    }
}
