package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_conv1d_args;
import java.lang.foreign.MemorySegment;

/**
 * Causal depthwise conv1d over {@code channels}, width {@code width}, then optional SiLU:
 * {@code y[b,t,c] = act(bias[c] + Σ_k w[c,k] · x̃[b, t-K+1+k, c])}, where x̃ before the
 * first token comes from the conv state (the last K-1 inputs of the previous call).
 * x, y [batch, seqlen, channels] of {@code dtype}, one token every {@code xStride} /
 * {@code yStride} elements (so x may be a column slice of a wider tensor), batch rows
 * {@code seqlen} tokens apart; w [channels, width] and bias [channels] of
 * {@code weightDtype}; convState [slots, width-1, channels] fp32, read then overwritten
 * (null: zeros, nothing returned); stateSlots [batch] int32 picks each row's slot (null:
 * row b uses slot b). seqlen 1 is the decode step.
 */
public record Conv1d(long batch, long seqlen, long channels, long width, DType dtype, DType weightDtype, boolean silu,
                     long xStride, long yStride, Algo algo) {

    /** Contiguous x and y, the fast implementation. */
    public Conv1d(long batch, long seqlen, long channels, long width, DType dtype, DType weightDtype, boolean silu) {
        this(batch, seqlen, channels, width, dtype, weightDtype, silu, channels, channels, Algo.AUTO);
    }

    public Conv1d withAlgo(Algo algo) {
        return new Conv1d(batch, seqlen, channels, width, dtype, weightDtype, silu, xStride, yStride, algo);
    }

    public Conv1d withStrides(long xStride, long yStride) {
        return new Conv1d(batch, seqlen, channels, width, dtype, weightDtype, silu, xStride, yStride, algo);
    }

    public void run(Context ctx, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment convState,
                    MemorySegment stateSlots, MemorySegment y) {
        boolean sane = batch > 0 && seqlen > 0 && channels > 0 && width > 0;
        Native.requireCovers(x, sane ? extent(batch, seqlen, xStride, channels) : -1, dtype, "x");
        Native.requireCovers(y, sane ? extent(batch, seqlen, yStride, channels) : -1, dtype, "y");
        Native.requireCovers(w, sane ? Math.multiplyExact(channels, width) : -1, weightDtype, "w");
        Native.requireCovers(bias, sane ? channels : -1, weightDtype, "bias");
        Native.requireCovers(stateSlots, sane ? batch : -1, DType.F32, "stateSlots"); // int32: 4 bytes too
        Native.requireCovers(convState, sane && stateSlots == null ? Math.multiplyExact(batch,
                Math.multiplyExact(width - 1, channels)) : -1, DType.F32, "convState");
        MemorySegment a = Native.args(mamba4j_conv1d_args.layout());
        mamba4j_conv1d_args.batch(a, batch);
        mamba4j_conv1d_args.seqlen(a, seqlen);
        mamba4j_conv1d_args.channels(a, channels);
        mamba4j_conv1d_args.width(a, width);
        mamba4j_conv1d_args.dtype(a, dtype.code);
        mamba4j_conv1d_args.weight_dtype(a, weightDtype.code);
        mamba4j_conv1d_args.x(a, Native.orNull(x));
        mamba4j_conv1d_args.x_stride_t(a, xStride);
        mamba4j_conv1d_args.x_stride_b(a, Conv1d.rowStride(seqlen, xStride));
        mamba4j_conv1d_args.w(a, Native.orNull(w));
        mamba4j_conv1d_args.bias(a, Native.orNull(bias));
        mamba4j_conv1d_args.conv_state(a, Native.orNull(convState));
        mamba4j_conv1d_args.state_slots(a, Native.orNull(stateSlots));
        mamba4j_conv1d_args.y(a, Native.orNull(y));
        mamba4j_conv1d_args.y_stride_t(a, yStride);
        mamba4j_conv1d_args.y_stride_b(a, Conv1d.rowStride(seqlen, yStride));
        mamba4j_conv1d_args.silu(a, silu ? 1 : 0);
        mamba4j_conv1d_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_conv1d(ctx.handle(), a));
    }

    /** Elements between batch rows: seqlen tokens of stride elements (0 for sizes the native checks reject). */
    static long rowStride(long seqlen, long stride) {
        return seqlen > 0 && stride > 0 ? Math.multiplyExact(seqlen, stride) : 0;
    }

    /** Elements spanned by [batch, seqlen, inner] with one token every stride elements; -1 if the stride is short. */
    static long extent(long batch, long seqlen, long stride, long inner) {
        if (stride < inner) return -1; // the native check names the stride
        return Math.addExact(Math.multiplyExact(Math.multiplyExact(batch, seqlen) - 1, stride), inner);
    }
}
