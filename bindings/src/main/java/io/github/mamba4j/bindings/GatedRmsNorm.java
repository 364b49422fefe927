package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_gated_rmsnorm_args;
import java.lang.foreign.MemorySegment;

/**
 * Gated RMSNorm of Mamba-2, normalised per group of {@code groupSize} channels:
 * {@code normBeforeGate == false}: {@code y = rmsnorm_g(x ⊙ silu(z)) · w} (mamba_ssm, Nemotron-H);
 * {@code true}: {@code y = rmsnorm_g(x) · w ⊙ silu(z)}. x, y [rows, dim] of {@code dtype}
 * (contiguous), z [rows, dim] with rows {@code zStride} elements apart (a column slice of a
 * wider tensor, such as Mamba-2's in_proj output), w [dim] of {@code weightDtype}; z may be
 * null (no gate).
 */
public record GatedRmsNorm(long rows, long dim, long groupSize, DType dtype, DType weightDtype, float eps,
                           boolean normBeforeGate, Algo algo, long zStride) {

    public GatedRmsNorm(long rows, long dim, long groupSize, DType dtype, DType weightDtype, float eps,
                        boolean normBeforeGate) {
        this(rows, dim, groupSize, dtype, weightDtype, eps, normBeforeGate, Algo.AUTO);
    }

    /** Contiguous z. */
    public GatedRmsNorm(long rows, long dim, long groupSize, DType dtype, DType weightDtype, float eps,
                        boolean normBeforeGate, Algo algo) {
        this(rows, dim, groupSize, dtype, weightDtype, eps, normBeforeGate, algo, dim);
    }

    public GatedRmsNorm withZStride(long stride) {
        return new GatedRmsNorm(rows, dim, groupSize, dtype, weightDtype, eps, normBeforeGate, algo, stride);
    }

    public void run(Context ctx, MemorySegment x, MemorySegment z, MemorySegment w, MemorySegment y) {
        long elements = rows > 0 && dim > 0 ? Math.multiplyExact(rows, dim) : -1;
        Native.requireCovers(x, elements, dtype, "x");
        Native.requireCovers(z, rows > 0 && dim > 0 ? Matmul.extent(rows, zStride, dim) : -1, dtype, "z");
        Native.requireCovers(y, elements, dtype, "y");
        Native.requireCovers(w, dim > 0 ? dim : -1, weightDtype, "w");
        MemorySegment a = Native.args(mamba4j_gated_rmsnorm_args.layout());
        mamba4j_gated_rmsnorm_args.rows(a, rows);
        mamba4j_gated_rmsnorm_args.dim(a, dim);
        mamba4j_gated_rmsnorm_args.group_size(a, groupSize);
        mamba4j_gated_rmsnorm_args.dtype(a, dtype.code);
        mamba4j_gated_rmsnorm_args.weight_dtype(a, weightDtype.code);
        mamba4j_gated_rmsnorm_args.x(a, Native.orNull(x));
        mamba4j_gated_rmsnorm_args.x_stride(a, dim);
        mamba4j_gated_rmsnorm_args.z(a, Native.orNull(z));
        mamba4j_gated_rmsnorm_args.z_stride(a, zStride);
        mamba4j_gated_rmsnorm_args.w(a, Native.orNull(w));
        mamba4j_gated_rmsnorm_args.y(a, Native.orNull(y));
        mamba4j_gated_rmsnorm_args.y_stride(a, dim);
        mamba4j_gated_rmsnorm_args.eps(a, eps);
        mamba4j_gated_rmsnorm_args.norm_before_gate(a, normBeforeGate ? 1 : 0);
        mamba4j_gated_rmsnorm_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_gated_rmsnorm(ctx.handle(), a));
    }
}
