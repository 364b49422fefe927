package io.github.mamba4j.runtime.model;

import io.github.mamba4j.bindings.Activation;
import io.github.mamba4j.bindings.Algo;
import io.github.mamba4j.bindings.Attention;
import io.github.mamba4j.bindings.Context;
import io.github.mamba4j.bindings.Conv1d;
import io.github.mamba4j.bindings.DType;
import io.github.mamba4j.bindings.Embedding;
import io.github.mamba4j.bindings.GatedRmsNorm;
import io.github.mamba4j.bindings.Matmul;
import io.github.mamba4j.bindings.Plan;
import io.github.mamba4j.bindings.RmsNorm;
import io.github.mamba4j.bindings.Rope;
import io.github.mamba4j.bindings.SelectiveScan;
import io.github.mamba4j.bindings.Ssd;
import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@link Kernels} on libmamba4j through the bindings' wrappers (a CPU context unless one is
 * given). Activations fp32; matrices as stored (F32 or BF16). Closing it closes the context
 * it created.
 */
public final class NativeKernels implements Kernels, AutoCloseable {
    private final Context ctx;
    private final boolean owned;
    private Map<int[], MemorySegment> recording; // while record() runs: the int arrays that stand for native inputs

    public NativeKernels() {
        this(Context.cpu(), true);
    }

    public NativeKernels(Context ctx) {
        this(ctx, false);
    }

    private NativeKernels(Context ctx, boolean owned) {
        this.ctx = ctx;
        this.owned = owned;
    }

    private static DType type(Tensor t) {
        return t.dtype().kernelType();
    }

    private static MemorySegment data(Tensor t) {
        return t == null ? null : t.data();
    }

    private static MemorySegment data(Strided s) {
        return s == null ? null : s.data();
    }

    /** Per-thread native memory for the int arrays of one call (slots, positions), reused by the next call. */
    private static final ThreadLocal<MemorySegment[]> INTS = ThreadLocal.withInitial(
            () -> new MemorySegment[] {MemorySegment.NULL, MemorySegment.NULL});

    /**
     * values copied to the calling thread's int scratch number {@code which} (0 or 1): no
     * allocation per call; while recording, the native input that {@code values} stands for.
     */
    private MemorySegment ints(int which, int[] values) {
        if (values == null) return null;
        if (recording != null) {
            MemorySegment input = recording.get(values);
            if (input == null) throw new IllegalStateException("a recorded kernel call got an int array that is not an input "
                    + "of the recording (its values would be stale when replayed)");
            return input;
        }
        MemorySegment[] scratch = INTS.get();
        long bytes = (long) values.length * Integer.BYTES;
        if (scratch[which].byteSize() < bytes) scratch[which] = Arena.ofAuto().allocate(Math.max(bytes, 256), 64);
        MemorySegment s = scratch[which].asSlice(0, bytes);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_INT, 0, values.length);
        return s;
    }

    private static void requireContiguous(String op, long stride, long dim) {
        if (stride != dim) throw new IllegalArgumentException(op + ": the native wrapper takes contiguous rows (stride " + stride
                + ", width " + dim + ")");
    }

    private static void requireRowsOfTokens(String op, Strided s, int seqlen) {
        if (s != null && s.strideB() != seqlen * s.strideT())
            throw new IllegalArgumentException(op + ": batch rows must be seqlen tokens apart");
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment x, long xStride, Tensor w, Tensor bias, MemorySegment y, long yStride,
                       boolean accumulate) {
        new Matmul(m, n, k, DType.F32, type(w), xStride, yStride, accumulate, Algo.AUTO).run(ctx, x, w.data(), data(bias), y);
    }

    @Override
    public void rmsnorm(int rows, int dim, MemorySegment x, long xStride, Tensor w, MemorySegment y, long yStride, float eps) {
        requireContiguous("rmsnorm", xStride, dim);
        requireContiguous("rmsnorm", yStride, dim);
        new RmsNorm(rows, dim, DType.F32, type(w), eps).run(ctx, x, w.data(), y);
    }

    @Override
    public void gatedRmsnorm(int rows, int dim, int groupSize, MemorySegment x, long xStride, MemorySegment z, long zStride,
                             Tensor w, MemorySegment y, long yStride, float eps) {
        requireContiguous("gated rmsnorm", xStride, dim);
        requireContiguous("gated rmsnorm", yStride, dim);
        new GatedRmsNorm(rows, dim, groupSize, DType.F32, type(w), eps, false).withZStride(z == null ? dim : zStride)
                .run(ctx, x, z, w.data(), y);
    }

    @Override
    public void conv1d(int batch, int seqlen, int channels, int width, MemorySegment x, long xStrideB, long xStrideT, Tensor w,
                       Tensor bias, MemorySegment convState, int[] slots, MemorySegment y, long yStrideB, long yStrideT,
                       boolean silu) {
        if (xStrideB != seqlen * xStrideT || yStrideB != seqlen * yStrideT)
            throw new IllegalArgumentException("conv1d: batch rows must be seqlen tokens apart");
        if (bias != null && bias.dtype() != w.dtype()) throw new IllegalArgumentException("conv1d: bias and weight dtypes differ");
        new Conv1d(batch, seqlen, channels, width, DType.F32, type(w), silu, xStrideT, yStrideT, Algo.AUTO)
                .run(ctx, x, w.data(), data(bias), convState, ints(0, slots), y);
    }

    @Override
    public void selectiveScan(int batch, int seqlen, int inner, int state, Strided u, Strided dt, Tensor dtBias, Tensor aLog,
                              Strided b, Strided c, Tensor d, Strided z, MemorySegment ssmState, int[] slots, Strided y) {
        for (Strided s : new Strided[] {u, dt, b, c, z, y}) requireRowsOfTokens("selective scan", s, seqlen);
        if (b.strideT() != c.strideT()) throw new IllegalArgumentException("selective scan: B and C need one stride");
        new SelectiveScan(batch, seqlen, inner, state, DType.F32, true, u.strideT(), dt.strideT(), b.strideT(),
                z == null ? inner : z.strideT(), y.strideT(), Algo.AUTO)
                .run(ctx, u.data(), dt.data(), data(dtBias), aLog.data(), b.data(), c.data(), data(d), data(z), ssmState,
                        ints(0, slots), y.data());
    }

    @Override
    public void ssd(int batch, int seqlen, int heads, int headDim, int groups, int state, int chunkSize, Strided x, Strided dt,
                    Tensor dtBias, Tensor aLog, Strided b, Strided c, Tensor d, Strided z, float dtMin, float dtMax,
                    MemorySegment ssmState, int[] slots, Strided y) {
        for (Strided s : new Strided[] {x, dt, b, c, z, y}) requireRowsOfTokens("ssd", s, seqlen);
        if (b.strideT() != c.strideT()) throw new IllegalArgumentException("ssd: B and C need one stride");
        new Ssd(batch, seqlen, heads, headDim, groups, state, chunkSize, DType.F32, dtMin,
                Float.isInfinite(dtMax) ? 0f : dtMax, x.strideT(), dt.strideT(), b.strideT(),
                z == null ? (long) heads * headDim : z.strideT(), y.strideT(), Algo.AUTO)
                .run(ctx, x.data(), dt.data(), data(dtBias), aLog.data(), b.data(), c.data(), data(d), data(z), ssmState,
                        ints(0, slots), y.data());
    }

    @Override
    public void rope(int batch, int seqlen, int qHeads, int kvHeads, int headDim, Mixer.Rope rope, Strided q, Strided k,
                     int[] startPos) {
        Mixer.Llama3 l = rope.llama3();
        Rope.Llama3Scaling scaling = l == null ? null
                : new Rope.Llama3Scaling(l.factor(), l.lowFreqFactor(), l.highFreqFactor(), l.originalMaxPosition());
        new Rope(batch, seqlen, qHeads, kvHeads, headDim, rope.rotaryDim(), DType.F32, rope.theta(), scaling, Algo.AUTO)
                .run(ctx, new Rope.Strides(q.strideB(), q.strideT(), k == null ? 0 : k.strideB(), k == null ? 0 : k.strideT()),
                        q.data(), data(k), ints(0, startPos));
    }

    @Override
    public void attention(int batch, int seqlen, int qHeads, int kvHeads, int headDim, int capacity, Strided q, Strided k,
                          Strided v, MemorySegment kCache, MemorySegment vCache, int[] slots, int[] startPos, Strided out,
                          float scale) {
        if (k.strideB() != v.strideB() || k.strideT() != v.strideT())
            throw new IllegalArgumentException("attention: k and v need the same strides");
        long slotCount = kCache.byteSize() / ((long) capacity * kvHeads * headDim * Float.BYTES);
        new Attention(batch, seqlen, qHeads, kvHeads, headDim, capacity, slotCount, DType.F32, scale, Algo.AUTO)
                .run(ctx, new Attention.Strides(q.strideB(), q.strideT(), k.strideB(), k.strideT(), out.strideB(),
                                out.strideT()), q.data(), k.data(), v.data(), kCache, vCache, ints(0, slots),
                        ints(1, startPos), out.data());
    }

    @Override
    public void activation(int rows, int dim, Mixer.Activation kind, MemorySegment gate, long gateStride, MemorySegment up,
                           long upStride, MemorySegment y, long yStride) {
        requireContiguous("activation", yStride, dim);
        if (up != null && upStride != gateStride)
            throw new IllegalArgumentException("activation: the native wrapper takes gate and up with one stride");
        Activation.Kind k = switch (kind) {
            case SILU_GATE -> Activation.Kind.SILU_GATE;
            case RELU2 -> Activation.Kind.RELU2;
        };
        new Activation(rows, dim, DType.F32, k).withInStride(gateStride).run(ctx, gate, up, y);
    }

    @Override
    public void embedding(int count, int[] ids, Tensor table, MemorySegment out, long outStride) {
        requireContiguous("embedding", outStride, table.dim(1));
        new Embedding(count, table.dim(0), table.dim(1), type(table), DType.F32).run(ctx, ints(0, ids), table.data(), out);
    }

    /** A native {@link Plan} of the calls. */
    @Override
    public Replay record(Map<int[], MemorySegment> inputs, Runnable calls) {
        recording = new IdentityHashMap<>(inputs);
        Plan plan;
        try {
            plan = Plan.record(ctx, calls);
        } finally {
            recording = null;
        }
        return new Replay() {
            @Override
            public void run() {
                plan.run(ctx);
            }

            @Override
            public void close() {
                plan.close();
            }
        };
    }

    @Override
    public void close() {
        if (owned) ctx.close();
    }
}
