package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_ssd_args;
import java.lang.foreign.MemorySegment;

/**
 * Mamba-2 SSD scan with a scalar decay per head h (group g = h / (heads/groups)):
 * {@code Δ = clamp(softplus(dt + dt_bias), dtMin, dtMax)}, {@code a = exp(Δ·-exp(A_log))},
 * {@code S = a·S + Δ·x ⊗ B} (state [headDim, state] per head), {@code y = S·C + D·x},
 * {@code y *= silu(z)}.
 * x, z, y [batch, seqlen, heads, headDim]; dt [batch, seqlen, heads]; B, C [batch, seqlen,
 * groups, state] (dtype); one token every {@code xStride} / {@code dtStride} /
 * {@code bcStride} / {@code zStride} / {@code yStride} elements, batch rows seqlen tokens
 * apart; dtBias, aLog, D [heads] fp32 (dtBias, D, z may be null); dtMax <= 0: no upper
 * limit; ssmState [slots, heads, headDim, state] fp32, initial state in, final state out
 * (null: zeros); stateSlots [batch] int32 (null: row b uses slot b). {@code chunkSize}
 * tokens per chunk for CHUNKED (0: 256); AUTO takes the recurrence for short sequences
 * and the chunked algorithm otherwise (on the CPU in chunks of at most 64 tokens: the same
 * result up to rounding, less work).
 */
public record Ssd(long batch, long seqlen, long heads, long headDim, long groups, long state, long chunkSize,
                  DType dtype, float dtMin, float dtMax, long xStride, long dtStride, long bcStride, long zStride,
                  long yStride, Algo algo) {

    /** Contiguous tensors, no dt limits, the fast implementation. */
    public Ssd(long batch, long seqlen, long heads, long headDim, long groups, long state, long chunkSize,
               DType dtype) {
        this(batch, seqlen, heads, headDim, groups, state, chunkSize, dtype, 0f, 0f, heads * headDim, heads,
                groups * state, heads * headDim, heads * headDim, Algo.AUTO);
    }

    public Ssd withAlgo(Algo algo) {
        return new Ssd(batch, seqlen, heads, headDim, groups, state, chunkSize, dtype, dtMin, dtMax, xStride,
                dtStride, bcStride, zStride, yStride, algo);
    }

    public Ssd withDtLimits(float dtMin, float dtMax) {
        return new Ssd(batch, seqlen, heads, headDim, groups, state, chunkSize, dtype, dtMin, dtMax, xStride,
                dtStride, bcStride, zStride, yStride, algo);
    }

    public Ssd withStrides(long xStride, long dtStride, long bcStride, long zStride, long yStride) {
        return new Ssd(batch, seqlen, heads, headDim, groups, state, chunkSize, dtype, dtMin, dtMax, xStride,
                dtStride, bcStride, zStride, yStride, algo);
    }

    public void run(Context ctx, MemorySegment x, MemorySegment dt, MemorySegment dtBias, MemorySegment aLog,
                    MemorySegment b, MemorySegment c, MemorySegment d, MemorySegment z, MemorySegment ssmState,
                    MemorySegment stateSlots, MemorySegment y) {
        boolean sane = batch > 0 && seqlen > 0 && heads > 0 && headDim > 0 && groups > 0 && state > 0;
        long hp = sane ? Math.multiplyExact(heads, headDim) : -1, gn = sane ? Math.multiplyExact(groups, state) : -1;
        Native.requireCovers(x, sane ? Conv1d.extent(batch, seqlen, xStride, hp) : -1, dtype, "x");
        Native.requireCovers(z, sane ? Conv1d.extent(batch, seqlen, zStride, hp) : -1, dtype, "z");
        Native.requireCovers(y, sane ? Conv1d.extent(batch, seqlen, yStride, hp) : -1, dtype, "y");
        Native.requireCovers(dt, sane ? Conv1d.extent(batch, seqlen, dtStride, heads) : -1, dtype, "dt");
        Native.requireCovers(b, sane ? Conv1d.extent(batch, seqlen, bcStride, gn) : -1, dtype, "B");
        Native.requireCovers(c, sane ? Conv1d.extent(batch, seqlen, bcStride, gn) : -1, dtype, "C");
        Native.requireCovers(dtBias, sane ? heads : -1, DType.F32, "dtBias");
        Native.requireCovers(aLog, sane ? heads : -1, DType.F32, "aLog");
        Native.requireCovers(d, sane ? heads : -1, DType.F32, "D");
        Native.requireCovers(stateSlots, sane ? batch : -1, DType.F32, "stateSlots");
        Native.requireCovers(ssmState, sane && stateSlots == null
                ? Math.multiplyExact(batch, Math.multiplyExact(hp, state)) : -1, DType.F32, "ssmState");
        MemorySegment a = Native.args(mamba4j_ssd_args.layout());
        mamba4j_ssd_args.batch(a, batch);
        mamba4j_ssd_args.seqlen(a, seqlen);
        mamba4j_ssd_args.heads(a, heads);
        mamba4j_ssd_args.head_dim(a, headDim);
        mamba4j_ssd_args.groups(a, groups);
        mamba4j_ssd_args.state(a, state);
        mamba4j_ssd_args.chunk_size(a, chunkSize);
        mamba4j_ssd_args.dtype(a, dtype.code);
        mamba4j_ssd_args.x(a, Native.orNull(x));
        mamba4j_ssd_args.x_stride_t(a, xStride);
        mamba4j_ssd_args.x_stride_b(a, Conv1d.rowStride(seqlen, xStride));
        mamba4j_ssd_args.dt(a, Native.orNull(dt));
        mamba4j_ssd_args.dt_stride_t(a, dtStride);
        mamba4j_ssd_args.dt_stride_b(a, Conv1d.rowStride(seqlen, dtStride));
        mamba4j_ssd_args.dt_bias(a, Native.orNull(dtBias));
        mamba4j_ssd_args.A_log(a, Native.orNull(aLog));
        mamba4j_ssd_args.B(a, Native.orNull(b));
        mamba4j_ssd_args.B_stride_t(a, bcStride);
        mamba4j_ssd_args.B_stride_b(a, Conv1d.rowStride(seqlen, bcStride));
        mamba4j_ssd_args.C(a, Native.orNull(c));
        mamba4j_ssd_args.C_stride_t(a, bcStride);
        mamba4j_ssd_args.C_stride_b(a, Conv1d.rowStride(seqlen, bcStride));
        mamba4j_ssd_args.D(a, Native.orNull(d));
        mamba4j_ssd_args.z(a, Native.orNull(z));
        mamba4j_ssd_args.z_stride_t(a, zStride);
        mamba4j_ssd_args.z_stride_b(a, Conv1d.rowStride(seqlen, zStride));
        mamba4j_ssd_args.dt_min(a, dtMin);
        mamba4j_ssd_args.dt_max(a, dtMax);
        mamba4j_ssd_args.ssm_state(a, Native.orNull(ssmState));
        mamba4j_ssd_args.state_slots(a, Native.orNull(stateSlots));
        mamba4j_ssd_args.y(a, Native.orNull(y));
        mamba4j_ssd_args.y_stride_t(a, yStride);
        mamba4j_ssd_args.y_stride_b(a, Conv1d.rowStride(seqlen, yStride));
        mamba4j_ssd_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_ssd(ctx.handle(), a));
    }
}
