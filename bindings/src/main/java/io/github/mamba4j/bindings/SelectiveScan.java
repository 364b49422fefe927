package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_selective_scan_args;
import java.lang.foreign.MemorySegment;

/**
 * Mamba-1 fused selective scan, per channel e and state n:
 * {@code Δ = softplus(dt + dt_bias)} (when {@code dtSoftplus}), {@code A = -exp(A_log)},
 * {@code h = exp(Δ·A)·h + Δ·B·u}, {@code y = C·h + D·u}, {@code y *= silu(z)}.
 * u, dt, z, y [batch, seqlen, inner] and B, C [batch, seqlen, state] of {@code dtype}, one
 * token every {@code uStride} / {@code dtStride} / {@code zStride} / {@code yStride} /
 * {@code bcStride} elements (column slices of wider tensors), batch rows seqlen tokens
 * apart; dtBias [inner], aLog [inner, state], D [inner] fp32 (dtBias, D, z may be null);
 * ssmState [slots, inner, state] fp32, initial state in, final state out (null: zeros,
 * nothing returned); stateSlots [batch] int32 (null: row b uses slot b). seqlen 1 is decode.
 */
public record SelectiveScan(long batch, long seqlen, long inner, long state, DType dtype, boolean dtSoftplus,
                            long uStride, long dtStride, long bcStride, long zStride, long yStride, Algo algo) {

    /** Contiguous tensors, the fast implementation. */
    public SelectiveScan(long batch, long seqlen, long inner, long state, DType dtype, boolean dtSoftplus) {
        this(batch, seqlen, inner, state, dtype, dtSoftplus, inner, inner, state, inner, inner, Algo.AUTO);
    }

    public SelectiveScan withAlgo(Algo algo) {
        return new SelectiveScan(batch, seqlen, inner, state, dtype, dtSoftplus, uStride, dtStride, bcStride, zStride,
                yStride, algo);
    }

    public SelectiveScan withStrides(long uStride, long dtStride, long bcStride, long zStride, long yStride) {
        return new SelectiveScan(batch, seqlen, inner, state, dtype, dtSoftplus, uStride, dtStride, bcStride, zStride,
                yStride, algo);
    }

    public void run(Context ctx, MemorySegment u, MemorySegment dt, MemorySegment dtBias, MemorySegment aLog,
                    MemorySegment b, MemorySegment c, MemorySegment d, MemorySegment z, MemorySegment ssmState,
                    MemorySegment stateSlots, MemorySegment y) {
        boolean sane = batch > 0 && seqlen > 0 && inner > 0 && state > 0;
        Native.requireCovers(u, sane ? Conv1d.extent(batch, seqlen, uStride, inner) : -1, dtype, "u");
        Native.requireCovers(dt, sane ? Conv1d.extent(batch, seqlen, dtStride, inner) : -1, dtype, "dt");
        Native.requireCovers(z, sane ? Conv1d.extent(batch, seqlen, zStride, inner) : -1, dtype, "z");
        Native.requireCovers(y, sane ? Conv1d.extent(batch, seqlen, yStride, inner) : -1, dtype, "y");
        Native.requireCovers(b, sane ? Conv1d.extent(batch, seqlen, bcStride, state) : -1, dtype, "B");
        Native.requireCovers(c, sane ? Conv1d.extent(batch, seqlen, bcStride, state) : -1, dtype, "C");
        Native.requireCovers(dtBias, sane ? inner : -1, DType.F32, "dtBias");
        Native.requireCovers(d, sane ? inner : -1, DType.F32, "D");
        Native.requireCovers(aLog, sane ? Math.multiplyExact(inner, state) : -1, DType.F32, "aLog");
        Native.requireCovers(stateSlots, sane ? batch : -1, DType.F32, "stateSlots");
        Native.requireCovers(ssmState, sane && stateSlots == null
                ? Math.multiplyExact(batch, Math.multiplyExact(inner, state)) : -1, DType.F32, "ssmState");
        MemorySegment a = Native.args(mamba4j_selective_scan_args.layout());
        mamba4j_selective_scan_args.batch(a, batch);
        mamba4j_selective_scan_args.seqlen(a, seqlen);
        mamba4j_selective_scan_args.inner(a, inner);
        mamba4j_selective_scan_args.state(a, state);
        mamba4j_selective_scan_args.dtype(a, dtype.code);
        mamba4j_selective_scan_args.u(a, Native.orNull(u));
        mamba4j_selective_scan_args.u_stride_t(a, uStride);
        mamba4j_selective_scan_args.u_stride_b(a, Conv1d.rowStride(seqlen, uStride));
        mamba4j_selective_scan_args.dt(a, Native.orNull(dt));
        mamba4j_selective_scan_args.dt_stride_t(a, dtStride);
        mamba4j_selective_scan_args.dt_stride_b(a, Conv1d.rowStride(seqlen, dtStride));
        mamba4j_selective_scan_args.dt_bias(a, Native.orNull(dtBias));
        mamba4j_selective_scan_args.A_log(a, Native.orNull(aLog));
        mamba4j_selective_scan_args.B(a, Native.orNull(b));
        mamba4j_selective_scan_args.B_stride_t(a, bcStride);
        mamba4j_selective_scan_args.B_stride_b(a, Conv1d.rowStride(seqlen, bcStride));
        mamba4j_selective_scan_args.C(a, Native.orNull(c));
        mamba4j_selective_scan_args.C_stride_t(a, bcStride);
        mamba4j_selective_scan_args.C_stride_b(a, Conv1d.rowStride(seqlen, bcStride));
        mamba4j_selective_scan_args.D(a, Native.orNull(d));
        mamba4j_selective_scan_args.z(a, Native.orNull(z));
        mamba4j_selective_scan_args.z_stride_t(a, zStride);
        mamba4j_selective_scan_args.z_stride_b(a, Conv1d.rowStride(seqlen, zStride));
        mamba4j_selective_scan_args.ssm_state(a, Native.orNull(ssmState));
        mamba4j_selective_scan_args.state_slots(a, Native.orNull(stateSlots));
        mamba4j_selective_scan_args.y(a, Native.orNull(y));
        mamba4j_selective_scan_args.y_stride_t(a, yStride);
        mamba4j_selective_scan_args.y_stride_b(a, Conv1d.rowStride(seqlen, yStride));
        mamba4j_selective_scan_args.dt_softplus(a, dtSoftplus ? 1 : 0);
        mamba4j_selective_scan_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_selective_scan(ctx.handle(), a));
    }
}
