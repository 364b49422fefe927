package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_matmul_args;
import java.lang.foreign.MemorySegment;

/**
 * Matmul / matvec {@code y[i,:] (+)= x[i,:] · Wᵀ + bias} with W [n, k] in PyTorch order (out, in),
 * fp32 accumulation; {@code m == 1} is the matvec of decode. x [m, k] and y [m, n] of {@code dtype}
 * with row strides {@code xStride} / {@code yStride} (elements), W of {@code weightDtype} (F32 or
 * BF16), bias [n] fp32 or null. {@code accumulate} adds into y (a fused residual add).
 */
public record Matmul(long m, long n, long k, DType dtype, DType weightDtype, long xStride, long yStride,
                     boolean accumulate, Algo algo) {

    /** Contiguous x and y, y overwritten, the fast path. */
    public Matmul(long m, long n, long k, DType dtype, DType weightDtype) {
        this(m, n, k, dtype, weightDtype, k, n, false, Algo.AUTO);
    }

    public Matmul withAccumulate(boolean add) {
        return new Matmul(m, n, k, dtype, weightDtype, xStride, yStride, add, algo);
    }

    public Matmul withStrides(long x, long y) {
        return new Matmul(m, n, k, dtype, weightDtype, x, y, accumulate, algo);
    }

    public Matmul withAlgo(Algo a) {
        return new Matmul(m, n, k, dtype, weightDtype, xStride, yStride, accumulate, a);
    }

    public void run(Context ctx, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y) {
        Native.requireCovers(x, extent(m, xStride, k), dtype, "x");
        Native.requireCovers(y, extent(m, yStride, n), dtype, "y");
        Native.requireCovers(w, n > 0 && k > 0 ? Math.multiplyExact(n, k) : -1, weightDtype, "w");
        Native.requireCovers(bias, n > 0 ? n : -1, DType.F32, "bias");
        MemorySegment a = Native.args(mamba4j_matmul_args.layout());
        mamba4j_matmul_args.m(a, m);
        mamba4j_matmul_args.n(a, n);
        mamba4j_matmul_args.k(a, k);
        mamba4j_matmul_args.dtype(a, dtype.code);
        mamba4j_matmul_args.weight_dtype(a, weightDtype.code);
        mamba4j_matmul_args.x(a, Native.orNull(x));
        mamba4j_matmul_args.x_stride(a, xStride);
        mamba4j_matmul_args.w(a, Native.orNull(w));
        mamba4j_matmul_args.bias(a, Native.orNull(bias));
        mamba4j_matmul_args.y(a, Native.orNull(y));
        mamba4j_matmul_args.y_stride(a, yStride);
        mamba4j_matmul_args.accumulate(a, accumulate ? 1 : 0);
        mamba4j_matmul_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_matmul(ctx.handle(), a));
    }

    /** Elements spanned by rows of {@code inner} values {@code stride} apart; -1 when a size is bad. */
    static long extent(long rows, long stride, long inner) {
        if (rows <= 0 || inner <= 0 || stride < inner) return -1;
        return Math.addExact(Math.multiplyExact(rows - 1, stride), inner);
    }
}
