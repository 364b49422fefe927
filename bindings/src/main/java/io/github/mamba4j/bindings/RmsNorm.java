package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_rmsnorm_args;
import java.lang.foreign.MemorySegment;

/**
 * RMSNorm over rows of {@code dim} values: {@code y = x / sqrt(mean(x²) + eps) · w}, or,
 * with a residual, {@code residual += x; y = rmsnorm(residual) · w} (residual fp32).
 * x, y [rows, dim] of {@code dtype} (contiguous), w [dim] of {@code weightDtype}.
 */
public record RmsNorm(long rows, long dim, DType dtype, DType weightDtype, float eps, Algo algo) {

    public RmsNorm(long rows, long dim, DType dtype, DType weightDtype, float eps) {
        this(rows, dim, dtype, weightDtype, eps, Algo.AUTO);
    }

    public void run(Context ctx, MemorySegment x, MemorySegment w, MemorySegment y) {
        run(ctx, x, null, w, y);
    }

    /** With a fused residual add when {@code residual} is not null. */
    public void run(Context ctx, MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment y) {
        long elements = rows > 0 && dim > 0 ? Math.multiplyExact(rows, dim) : -1;
        Native.requireCovers(x, elements, dtype, "x");
        Native.requireCovers(y, elements, dtype, "y");
        Native.requireCovers(residual, elements, DType.F32, "residual");
        Native.requireCovers(w, dim > 0 ? dim : -1, weightDtype, "w");
        MemorySegment a = Native.args(mamba4j_rmsnorm_args.layout());
        mamba4j_rmsnorm_args.rows(a, rows);
        mamba4j_rmsnorm_args.dim(a, dim);
        mamba4j_rmsnorm_args.dtype(a, dtype.code);
        mamba4j_rmsnorm_args.weight_dtype(a, weightDtype.code);
        mamba4j_rmsnorm_args.x(a, Native.orNull(x));
        mamba4j_rmsnorm_args.x_stride(a, dim);
        mamba4j_rmsnorm_args.w(a, Native.orNull(w));
        mamba4j_rmsnorm_args.residual(a, Native.orNull(residual));
        mamba4j_rmsnorm_args.residual_stride(a, dim);
        mamba4j_rmsnorm_args.y(a, Native.orNull(y));
        mamba4j_rmsnorm_args.y_stride(a, dim);
        mamba4j_rmsnorm_args.eps(a, eps);
        mamba4j_rmsnorm_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_rmsnorm(ctx.handle(), a));
    }
}
