package io.github.mamba4j.bindings;

import static io.github.mamba4j.bindings.CudaTestSupport.concat;
import static io.github.mamba4j.bindings.CudaTestSupport.roundTo;
import static io.github.mamba4j.bindings.CudaTestSupport.stateTol;
import static io.github.mamba4j.bindings.CudaTestSupport.tol;
import static io.github.mamba4j.bindings.DenseKernelsTestSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mamba4j.bindings.CudaTestSupport.Memory;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every kernel wrapper with a CUDA implementation, through the bindings: the same inputs on
 * Context.cuda(0) (in bf16 and f32) and on Context.cpu() (in f32), outputs and states
 * compared by NMSE (thresholds: {@link CudaTestSupport#tol}). Inputs are rounded to the
 * dtype under test before either backend sees them, and device outputs are NaN-poisoned
 * first. Runs only with MAMBA4J_TEST_CUDA=1 (ci/gpu-test.sh --java); then a missing
 * device fails every test here (in {@link #openDevice}), it does not skip them.
 *
 * <p>The kernel wrappers read only {@link DeviceBuffer#address()}, so each body below runs
 * unchanged on the CPU (whose "device" memory is natively allocated host memory).
 */
@EnabledIfEnvironmentVariable(named = CudaTestSupport.ENV, matches = "1")
class CudaKernelsTest {
    /*
     * Kernels whose CUDA route is being written: while false, the test asserts the clear
     * UNSUPPORTED error of the route; set true when the CUDA implementation lands (the test
     * then fails, saying so, until this is done) and the results are compared.
     */
    static final boolean ROPE_ON_CUDA = true;
    static final boolean MATMUL_ON_CUDA = true;

    private static Context gpu, cpu;

    @BeforeAll
    static void openDevice() {
        gpu = CudaTestSupport.openDevice();
        cpu = Context.cpu();
    }

    @AfterAll
    static void closeContexts() {
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
    }

    private static MemorySegment a(DeviceBuffer b) {
        return b == null ? null : b.address();
    }

    private static void assertClose(String what, float[] got, float[] want, double threshold) {
        double e = CudaTestSupport.nmse(got, want);
        String line = String.format("%s: NMSE %.3g (threshold %.3g)", what, e, threshold);
        assertTrue(e <= threshold, line);
        System.out.println("ok   " + line);
    }

    // ---------------------------------------------------------------- RMSNorm

    @ParameterizedTest(name = "{0}/{1} rows={2} dim={3} residual={4}")
    @CsvSource({"F32,F32,7,1000,true", "BF16,F32,7,1000,true", "BF16,BF16,3,4096,false", "F32,F32,2,257,false",
                "BF16,BF16,5,768,true"})
    void rmsNorm(DType dt, DType wdt, int rows, int dim, boolean residual) {
        Random rnd = new Random(rows * 31L + dim);
        float[] x = roundTo(random(rnd, rows * dim, 2f), dt), w = roundTo(random(rnd, dim, 1f), wdt);
        float[] res = residual ? random(rnd, rows * dim, 1f) : null;
        float[][] want = rmsNorm(cpu, DType.F32, DType.F32, rows, dim, x, w, res);
        float[][] got = rmsNorm(gpu, dt, wdt, rows, dim, x, w, res);
        String shape = dt + "/" + wdt + " rows=" + rows + " dim=" + dim + (residual ? " residual" : "");
        assertClose("rmsnorm y " + shape, got[0], want[0], tol(dt, false));
        if (residual) assertClose("rmsnorm residual " + shape, got[1], want[1], 1e-12);
    }

    private static float[][] rmsNorm(Context ctx, DType dt, DType wdt, int rows, int dim, float[] x, float[] w,
                                     float[] res) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer y = m.output((long) rows * dim, dt), r = res == null ? null : m.put(res, DType.F32);
            new RmsNorm(rows, dim, dt, wdt, 1e-6f).run(ctx, a(m.put(x, dt)), a(r), a(m.put(w, wdt)), a(y));
            return new float[][] {m.get(y, dt), r == null ? null : m.get(r, DType.F32)};
        }
    }

    // ---------------------------------------------------------------- gated RMSNorm

    @ParameterizedTest(name = "{0}/{1} rows={2} dim={3} group={4} gate={5} normBeforeGate={6}")
    @CsvSource({"BF16,BF16,5,2048,256,true,false", "BF16,F32,3,1000,200,true,false", "F32,F32,3,96,32,true,true",
                "BF16,F32,4,1536,1536,false,false", "BF16,BF16,2,8192,1024,true,true"})
    void gatedRmsNorm(DType dt, DType wdt, int rows, int dim, int group, boolean gate, boolean normBeforeGate) {
        Random rnd = new Random(rows * 17L + dim + group);
        float[] x = roundTo(random(rnd, rows * dim, 2f), dt), w = roundTo(random(rnd, dim, 1f), wdt);
        float[] z = gate ? roundTo(random(rnd, rows * dim, 2f), dt) : null;
        float[] want = gatedRmsNorm(cpu, DType.F32, DType.F32, rows, dim, group, normBeforeGate, x, z, w);
        float[] got = gatedRmsNorm(gpu, dt, wdt, rows, dim, group, normBeforeGate, x, z, w);
        assertClose("gated rmsnorm " + dt + "/" + wdt + " rows=" + rows + " dim=" + dim + " group=" + group
                + (gate ? " z" : "") + " before=" + normBeforeGate, got, want, tol(dt, false));
    }

    private static float[] gatedRmsNorm(Context ctx, DType dt, DType wdt, int rows, int dim, int group,
                                        boolean normBeforeGate, float[] x, float[] z, float[] w) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer y = m.output((long) rows * dim, dt);
            new GatedRmsNorm(rows, dim, group, dt, wdt, 1e-5f, normBeforeGate)
                    .run(ctx, a(m.put(x, dt)), z == null ? null : a(m.put(z, dt)), a(m.put(w, wdt)), a(y));
            return m.get(y, dt);
        }
    }

    // ---------------------------------------------------------------- conv1d

    /** Prefill of L tokens, then decode steps, rows mapped to state slots by a slot table (state carried). */
    @ParameterizedTest(name = "{0}/{1} B=3 L={2}+{3}x1 C={4} K={5} slots")
    @CsvSource({"F32,F32,37,5,300,4", "BF16,BF16,37,5,300,4", "BF16,F32,64,3,1024,4", "BF16,BF16,2,4,130,3"})
    void conv1dPrefillThenDecodeWithSlots(DType dt, DType wdt, int seqlen, int steps, int channels, int width) {
        int batch = 3, slotCount = 5;
        int[] slots = {4, 0, 2};
        Random rnd = new Random(seqlen * 101L + channels + width);
        float[] x = roundTo(random(rnd, batch * (seqlen + steps) * channels, 1f), dt); // prefill, then the steps
        float[] w = roundTo(random(rnd, channels * width, 0.5f), wdt), bias = roundTo(random(rnd, channels, 0.2f), wdt);
        float[] state0 = random(rnd, slotCount * (width - 1) * channels, 1f);
        float[][] want = conv1d(cpu, DType.F32, DType.F32, batch, seqlen, steps, channels, width, x, w, bias, state0, slots);
        float[][] got = conv1d(gpu, dt, wdt, batch, seqlen, steps, channels, width, x, w, bias, state0, slots);
        String shape = dt + "/" + wdt + " B=3 L=" + seqlen + "+" + steps + "x1 C=" + channels + " K=" + width;
        assertClose("conv1d y " + shape, got[0], want[0], tol(dt, false));
        assertEquals(0.0, CudaTestSupport.nmse(got[1], want[1]), "conv1d state " + shape + ": a copy of the inputs");
    }

    private static float[][] conv1d(Context ctx, DType dt, DType wdt, int batch, int seqlen, int steps, int channels,
                                    int width, float[] x, float[] w, float[] bias, float[] state0, int[] slots) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer ws = m.put(w, wdt), bs = m.put(bias, wdt), st = m.put(state0, DType.F32), sl = m.putInts(slots);
            int prefill = batch * seqlen * channels, step = batch * channels;
            DeviceBuffer y = m.output(prefill + (long) steps * step, dt);
            long es = dt.bytes();
            new Conv1d(batch, seqlen, channels, width, dt, wdt, true)
                    .run(ctx, a(m.put(Arrays.copyOf(x, prefill), dt)), a(ws), a(bs), a(st), a(sl), a(y));
            Conv1d decode = new Conv1d(batch, 1, channels, width, dt, wdt, true);
            for (int s = 0; s < steps; s++) {
                int at = prefill + s * step;
                float[] xs = Arrays.copyOfRange(x, at, at + step);
                decode.run(ctx, a(m.put(xs, dt)), a(ws), a(bs), a(st), a(sl), y.address().asSlice(at * es));
            }
            return new float[][] {m.get(y, dt), m.get(st, DType.F32)};
        }
    }

    // ---------------------------------------------------------------- Mamba-1 selective scan

    @ParameterizedTest(name = "{0} B=3 L={1}+{2}x1 E={3} N={4} slots")
    @CsvSource({"BF16,50,4,130,16", "F32,50,4,130,16", "BF16,200,2,64,64", "BF16,7,3,48,8"})
    void selectiveScanPrefillThenDecodeWithSlots(DType dt, int seqlen, int steps, int inner, int state) {
        int batch = 3, slotCount = 5;
        int[] slots = {1, 4, 3};
        Random rnd = new Random(seqlen * 7L + inner * 31L + state);
        int tokens = batch * (seqlen + steps);
        float[] u = roundTo(random(rnd, tokens * inner, 1f), dt), dt_ = roundTo(random(rnd, tokens * inner, 0.5f), dt);
        float[] z = roundTo(random(rnd, tokens * inner, 1f), dt);
        float[] b = roundTo(random(rnd, tokens * state, 1f), dt), c = roundTo(random(rnd, tokens * state, 1f), dt);
        float[] aLog = new float[inner * state], dtBias = new float[inner], d = random(rnd, inner, 1f);
        for (int e = 0; e < inner; e++) {
            for (int n = 0; n < state; n++) aLog[e * state + n] = (float) Math.log(n + 1);
            dtBias[e] = (float) Math.log(Math.expm1(0.001 + 0.1 * rnd.nextDouble()));
        }
        float[] state0 = random(rnd, slotCount * inner * state, 0.5f);
        float[][] in = {u, dt_, z, b, c};
        float[][] want = scan(cpu, DType.F32, batch, seqlen, steps, inner, state, in, dtBias, aLog, d, state0, slots);
        float[][] got = scan(gpu, dt, batch, seqlen, steps, inner, state, in, dtBias, aLog, d, state0, slots);
        String shape = dt + " B=3 L=" + seqlen + "+" + steps + "x1 E=" + inner + " N=" + state + " slots";
        assertClose("selective scan y " + shape, got[0], want[0], tol(dt, false));
        assertClose("selective scan state " + shape, got[1], want[1], stateTol(dt, false));
    }

    /** in: u, dt, z [tokens, E] and B, C [tokens, N], the prefill's batch·L tokens first, then each step's batch. */
    private static float[][] scan(Context ctx, DType dt, int batch, int seqlen, int steps, int inner, int state,
                                  float[][] in, float[] dtBias, float[] aLog, float[] d, float[] state0, int[] slots) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer u = m.put(in[0], dt), dts = m.put(in[1], dt), z = m.put(in[2], dt);
            DeviceBuffer b = m.put(in[3], dt), c = m.put(in[4], dt);
            DeviceBuffer bias = m.put(dtBias, DType.F32), al = m.put(aLog, DType.F32), ds = m.put(d, DType.F32);
            DeviceBuffer st = m.put(state0, DType.F32), sl = m.putInts(slots);
            DeviceBuffer y = m.output((long) batch * (seqlen + steps) * inner, dt);
            long es = dt.bytes();
            for (int s = -1; s < steps; s++) { // s = -1: the prefill
                long t0 = s < 0 ? 0 : (long) batch * (seqlen + s); // first token of this call
                long e0 = t0 * inner * es, n0 = t0 * state * es;
                new SelectiveScan(batch, s < 0 ? seqlen : 1, inner, state, dt, true)
                        .run(ctx, u.address().asSlice(e0), dts.address().asSlice(e0), a(bias), a(al),
                                b.address().asSlice(n0), c.address().asSlice(n0), a(ds), z.address().asSlice(e0),
                                a(st), a(sl), y.address().asSlice(e0));
            }
            return new float[][] {m.get(y, dt), m.get(st, DType.F32)};
        }
    }

    // ---------------------------------------------------------------- Mamba-2 SSD

    /** Prefill (chunked on CUDA for bf16), then decode steps, through a slot table; state carried. */
    @ParameterizedTest(name = "{0} {1} B=2 L={2}+{3}x1 H={4} P={5} G={6} N={7} Q={8}")
    @CsvSource({"BF16,CHUNKED,300,4,8,64,2,128,128", "BF16,AUTO,200,3,4,32,1,64,256", "F32,AUTO,100,3,8,64,2,128,256",
                "BF16,RECURRENT,37,2,6,16,3,32,256", "BF16,CHUNKED,130,2,4,128,2,256,64"})
    void ssdPrefillThenDecodeWithSlots(DType dt, Algo algo, int seqlen, int steps, int heads, int headDim, int groups,
                                       int state, int chunk) {
        int batch = 2, slotCount = 3;
        int[] slots = {2, 0};
        Random rnd = new Random(seqlen * 131L + heads * 7L + groups + chunk + state);
        int tokens = batch * (seqlen + steps), hp = heads * headDim, gn = groups * state;
        float[] x = roundTo(random(rnd, tokens * hp, 1f), dt), z = roundTo(random(rnd, tokens * hp, 1f), dt);
        float[] b = roundTo(random(rnd, tokens * gn, 1f), dt), c = roundTo(random(rnd, tokens * gn, 1f), dt);
        float[] dt_ = new float[tokens * heads];
        for (int i = 0; i < dt_.length; i++) dt_[i] = (float) (-3 + 4 * rnd.nextDouble());
        dt_ = roundTo(dt_, dt);
        float[] dtBias = new float[heads], aLog = new float[heads], d = random(rnd, heads, 1f);
        for (int h = 0; h < heads; h++) {
            dtBias[h] = (float) (-4 + 3 * rnd.nextDouble());
            aLog[h] = (float) (2.77 * rnd.nextDouble()); // A in [-16, -1]
        }
        float[] state0 = random(rnd, slotCount * hp * state, 0.5f);
        float[][] in = {x, dt_, z, b, c};
        Ssd shape = new Ssd(batch, seqlen, heads, headDim, groups, state, chunk, dt).withAlgo(algo);
        float[][] want = ssd(cpu, new Ssd(batch, seqlen, heads, headDim, groups, state, chunk, DType.F32), steps, in,
                dtBias, aLog, d, state0, slots);
        float[][] got = ssd(gpu, shape, steps, in, dtBias, aLog, d, state0, slots);
        boolean matrix = dt != DType.F32 && (algo == Algo.CHUNKED || (algo == Algo.AUTO && seqlen >= 64));
        String what = dt + " " + algo + " B=2 L=" + seqlen + "+" + steps + "x1 H=" + heads + " P=" + headDim + " G="
                + groups + " N=" + state + " Q=" + chunk + " slots";
        assertClose("ssd y " + what, got[0], want[0], tol(dt, matrix));
        assertClose("ssd state " + what, got[1], want[1], stateTol(dt, matrix));
    }

    /** in: x, dt, z, B, C, the prefill's batch·L tokens first, then each step's batch; steps run with AUTO. */
    private static float[][] ssd(Context ctx, Ssd prefill, int steps, float[][] in, float[] dtBias, float[] aLog,
                                 float[] d, float[] state0, int[] slots) {
        DType dt = prefill.dtype();
        long batch = prefill.batch(), seqlen = prefill.seqlen(), hp = prefill.heads() * prefill.headDim();
        long gn = prefill.groups() * prefill.state(), es = dt.bytes();
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer x = m.put(in[0], dt), dts = m.put(in[1], dt), z = m.put(in[2], dt);
            DeviceBuffer b = m.put(in[3], dt), c = m.put(in[4], dt);
            DeviceBuffer bias = m.put(dtBias, DType.F32), al = m.put(aLog, DType.F32), ds = m.put(d, DType.F32);
            DeviceBuffer st = m.put(state0, DType.F32), sl = m.putInts(slots);
            DeviceBuffer y = m.output(batch * (seqlen + steps) * hp, dt);
            Ssd decode = new Ssd(batch, 1, prefill.heads(), prefill.headDim(), prefill.groups(), prefill.state(),
                    prefill.chunkSize(), dt);
            for (int s = -1; s < steps; s++) { // s = -1: the prefill
                long t0 = s < 0 ? 0 : batch * (seqlen + s);
                Ssd call = s < 0 ? prefill : decode;
                call.run(ctx, x.address().asSlice(t0 * hp * es), dts.address().asSlice(t0 * prefill.heads() * es),
                        a(bias), a(al), b.address().asSlice(t0 * gn * es), c.address().asSlice(t0 * gn * es), a(ds),
                        z.address().asSlice(t0 * hp * es), a(st), a(sl), y.address().asSlice(t0 * hp * es));
            }
            return new float[][] {m.get(y, dt), m.get(st, DType.F32)};
        }
    }

    // ---------------------------------------------------------------- attention

    /**
     * Prefill of L tokens per row after different start positions (row 1 continues a cache
     * that already holds 17 tokens), then decode steps, rows in slots of a shared cache.
     */
    @ParameterizedTest(name = "{0} B=2 L={1}+{2}x1 Hq={3} Hkv={4} d={5}")
    @CsvSource({"BF16,40,3,8,2,64", "F32,40,3,8,2,64", "BF16,70,2,4,4,128", "BF16,9,2,6,3,256", "F32,5,2,4,1,128"})
    void attentionPrefillThenDecodeWithStartPos(DType dt, int seqlen, int steps, int qHeads, int kvHeads, int headDim) {
        int batch = 2, slotCount = 3, capacity = 17 + seqlen + steps + 5;
        int[] slots = {2, 0}, start = {0, 17};
        Random rnd = new Random(seqlen * 1000L + qHeads * 10L + headDim);
        int tokens = batch * (seqlen + steps), qs = qHeads * headDim, kvs = kvHeads * headDim;
        float[] q = roundTo(random(rnd, tokens * qs, 1f), dt);
        float[] k = roundTo(random(rnd, tokens * kvs, 1f), dt), v = roundTo(random(rnd, tokens * kvs, 1f), dt);
        float[] kc = roundTo(random(rnd, slotCount * capacity * kvs, 1f), dt);
        float[] vc = roundTo(random(rnd, slotCount * capacity * kvs, 1f), dt);
        float[][] in = {q, k, v, kc, vc};
        float[][] want = attention(cpu, DType.F32, batch, seqlen, steps, qHeads, kvHeads, headDim, capacity, slotCount,
                in, slots, start);
        float[][] got = attention(gpu, dt, batch, seqlen, steps, qHeads, kvHeads, headDim, capacity, slotCount, in,
                slots, start);
        String what = dt + " B=2 L=" + seqlen + "+" + steps + "x1 Hq=" + qHeads + " Hkv=" + kvHeads + " d=" + headDim;
        // 16-bit dtypes with head_dim 64 or 128 may run on the tensor cores (prefill, and decode
        // too), which round the probabilities to the dtype for P·V as FlashAttention and SDPA
        // do: twice the matrix tolerance, as in gpu_test_kernels.cpp
        boolean mma = dt != DType.F32 && (headDim == 64 || headDim == 128);
        double threshold = mma ? 2 * tol(dt, true) : tol(dt, false);
        int prefill = batch * seqlen * qs;
        assertClose("attention prefill out " + what, Arrays.copyOf(got[0], prefill), Arrays.copyOf(want[0], prefill),
                threshold);
        assertClose("attention decode out " + what, Arrays.copyOfRange(got[0], prefill, got[0].length),
                Arrays.copyOfRange(want[0], prefill, want[0].length), threshold);
        assertEquals(0.0, CudaTestSupport.nmse(got[1], want[1]), "attention k cache " + what);
        assertEquals(0.0, CudaTestSupport.nmse(got[2], want[2]), "attention v cache " + what);
    }

    /** in: q, k, v (the prefill's batch·L tokens first, then each step's batch), k cache, v cache. */
    private static float[][] attention(Context ctx, DType dt, int batch, int seqlen, int steps, int qHeads, int kvHeads,
                                       int headDim, int capacity, int slotCount, float[][] in, int[] slots, int[] start) {
        long qs = (long) qHeads * headDim, kvs = (long) kvHeads * headDim, es = dt.bytes();
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer q = m.put(in[0], dt), k = m.put(in[1], dt), v = m.put(in[2], dt);
            DeviceBuffer kc = m.put(in[3], dt), vc = m.put(in[4], dt), sl = m.putInts(slots);
            DeviceBuffer out = m.output(in[0].length, dt);
            for (int s = -1; s < steps; s++) { // s = -1: the prefill
                long t0 = s < 0 ? 0 : (long) batch * (seqlen + s);
                int[] pos = new int[batch];
                for (int r = 0; r < batch; r++) pos[r] = start[r] + (s < 0 ? 0 : seqlen + s);
                new Attention(batch, s < 0 ? seqlen : 1, qHeads, kvHeads, headDim, capacity, slotCount, dt)
                        .run(ctx, q.address().asSlice(t0 * qs * es), k.address().asSlice(t0 * kvs * es),
                                v.address().asSlice(t0 * kvs * es), a(kc), a(vc), a(sl), a(m.putInts(pos)),
                                out.address().asSlice(t0 * qs * es));
            }
            return new float[][] {m.get(out, dt), m.get(kc, dt), m.get(vc, dt)};
        }
    }

    // ---------------------------------------------------------------- RoPE (CUDA route: ROPE_ON_CUDA)

    @ParameterizedTest(name = "{0} B=2 L={1} Hq={2} Hkv={3} d={4} rotary={5}")
    @CsvSource({"F32,9,8,2,64,64", "BF16,9,8,2,64,64", "BF16,1,4,4,128,64"})
    void rope(DType dt, int seqlen, int qHeads, int kvHeads, int headDim, int rotary) {
        int batch = 2;
        int[] start = {0, 30};
        Random rnd = new Random(seqlen * 31L + headDim + rotary);
        float[] q = roundTo(random(rnd, batch * seqlen * qHeads * headDim, 1f), dt);
        float[] k = roundTo(random(rnd, batch * seqlen * kvHeads * headDim, 1f), dt);
        Rope shape = new Rope(batch, seqlen, qHeads, kvHeads, headDim, rotary, dt, 10000f, null, Algo.AUTO);
        if (!ROPE_ON_CUDA) {
            assertNoCudaRoute("mamba4j_rope", "ROPE_ON_CUDA", () -> rope(gpu, shape, q, k, start));
            return;
        }
        float[][] want = rope(cpu, new Rope(batch, seqlen, qHeads, kvHeads, headDim, rotary, DType.F32, 10000f, null,
                Algo.AUTO), q, k, start);
        float[][] got = rope(gpu, shape, q, k, start);
        // an elementwise rotation: one rounding of each output in bf16; positions stay small (< 40) so
        // fp32 angles agree between backends
        assertClose("rope q " + shape, got[0], want[0], tol(dt, false));
        assertClose("rope k " + shape, got[1], want[1], tol(dt, false));
    }

    private static float[][] rope(Context ctx, Rope shape, float[] q, float[] k, int[] start) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer qs = m.put(q, shape.dtype()), ks = m.put(k, shape.dtype());
            shape.run(ctx, a(qs), a(ks), a(m.putInts(start)));
            return new float[][] {m.get(qs, shape.dtype()), m.get(ks, shape.dtype())};
        }
    }

    // ---------------------------------------------------------------- matmul (CUDA route: MATMUL_ON_CUDA)

    /** Prefill (m rows) and decode (m = 1) shapes; bias and the accumulating form (fused residual add). */
    @ParameterizedTest(name = "{0}/{1} m={2} n={3} k={4} accumulate={5}")
    @CsvSource({"BF16,BF16,37,300,512,false", "BF16,BF16,1,1000,768,true", "F32,F32,5,129,260,false",
                "F32,BF16,1,256,512,true"})
    void matmul(DType dt, DType wdt, int m, int n, int k, boolean accumulate) {
        Random rnd = new Random(m * 7L + n * 13L + k);
        // x exact in W's dtype too: the CUDA GEMM runs in W's dtype (bf16 W: x is rounded to bf16 first)
        float[] x = roundTo(roundTo(random(rnd, m * k, 1f), dt), wdt), w = roundTo(random(rnd, n * k, 0.05f), wdt);
        float[] bias = random(rnd, n, 0.1f), y0 = roundTo(random(rnd, m * n, 1f), dt);
        Matmul shape = new Matmul(m, n, k, dt, wdt).withAccumulate(accumulate);
        if (!MATMUL_ON_CUDA) {
            assertNoCudaRoute("mamba4j_matmul", "MATMUL_ON_CUDA", () -> matmul(gpu, shape, x, w, bias, y0));
            return;
        }
        float[] want = matmul(cpu, new Matmul(m, n, k, DType.F32, DType.F32).withAccumulate(accumulate), x, w, bias, y0);
        float[] got = matmul(gpu, shape, x, w, bias, y0);
        // fp32 accumulation of exact products on both backends; bf16: the output rounding and, on
        // tensor cores, nothing more (operands are exact in bf16). fp32 must stay fp32 (no TF32).
        assertClose("matmul " + shape, got, want, tol(dt, true));
    }

    private static float[] matmul(Context ctx, Matmul shape, float[] x, float[] w, float[] bias, float[] y0) {
        try (Memory m = new Memory(ctx)) {
            DeviceBuffer y = m.put(y0, shape.dtype());
            shape.run(ctx, a(m.put(x, shape.dtype())), a(m.put(w, shape.weightDtype())), a(m.put(bias, DType.F32)), a(y));
            return m.get(y, shape.dtype());
        }
    }

    /** While a kernel has no CUDA route, the call must fail with the route's clear UNSUPPORTED message. */
    private static void assertNoCudaRoute(String function, String flag, Runnable cudaCall) {
        Mamba4jException e;
        try {
            cudaCall.run();
            fail(function + " now runs on CUDA: set " + flag + " = true in CudaKernelsTest so its results are compared");
            return;
        } catch (Mamba4jException thrown) {
            e = thrown;
        }
        assertEquals(Status.UNSUPPORTED, e.status(), e.getMessage());
        assertEquals(function + ": " + function + " has no CUDA implementation in this build", e.getMessage());
        System.out.println("ok   " + function + " on CUDA: UNSUPPORTED, \"" + e.getMessage() + "\" (" + flag + " = false)");
    }
}
