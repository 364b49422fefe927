package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RMSNorm end to end: Java → FFM → libmamba4j, against a Java reference. */
class RmsNormTest {
    /** y = x / sqrt(mean(x²) + eps) · w in double, the reference for the native kernel. */
    static float[] reference(float[] x, float[] w, int rows, int dim, float eps) {
        float[] y = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double inv = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = (float) (x[r * dim + i] * inv * w[i]);
        }
        return y;
    }

    static float[] random(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian() * scale;
        return v;
    }

    static double nmse(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            if (!Float.isFinite(got[i])) return Double.POSITIVE_INFINITY;
            num += Math.pow(got[i] - want[i], 2);
            den += (double) want[i] * want[i];
        }
        return num / den;
    }

    @ParameterizedTest(name = "rows={0} dim={1} simd={2}")
    @CsvSource({"1,1,AVX512", "3,7,AVX512", "16,768,AVX512", "5,4096,AVX512", "16,768,AVX2", "16,768,SCALAR",
                "2,1000,SCALAR"})
    void matchesJavaReference(int rows, int dim, SimdLevel simd) {
        SimdLevel level = simd.compareTo(Mamba4j.simdSupported()) <= 0 ? simd : Mamba4j.simdSupported();
        Random rnd = new Random(rows * 31L + dim);
        float[] x = random(rnd, rows * dim, 3f), w = random(rnd, dim, 1f);
        float[] want = reference(x, w, rows, dim, 1e-5f);
        SimdLevel before = Mamba4j.simdInUse();
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            Mamba4j.setSimd(level);
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
            new RmsNorm(rows, dim, DType.F32, DType.F32, 1e-5f).run(ctx, xs, ws, ys);
            double e = nmse(ys.toArray(ValueLayout.JAVA_FLOAT), want);
            assertTrue(e < 1e-12, "rmsnorm rows=" + rows + " dim=" + dim + " simd=" + level + ": NMSE " + e
                    + " (threshold 1e-12)");
        } finally {
            Mamba4j.setSimd(before);
        }
    }

    @Test
    void residualIsAddedThenNormalised() {
        int rows = 4, dim = 96;
        Random rnd = new Random(7);
        float[] x = random(rnd, rows * dim, 1f), res = random(rnd, rows * dim, 1f), w = random(rnd, dim, 1f);
        float[] sum = new float[rows * dim];
        for (int i = 0; i < sum.length; i++) sum[i] = x[i] + res[i];
        float[] want = reference(sum, w, rows, dim, 1e-6f);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment rs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, res);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
            new RmsNorm(rows, dim, DType.F32, DType.F32, 1e-6f)
                    .run(ctx, arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), rs,
                            arena.allocateFrom(ValueLayout.JAVA_FLOAT, w), ys);
            assertTrue(nmse(rs.toArray(ValueLayout.JAVA_FLOAT), sum) < 1e-14, "residual holds x + residual");
            assertTrue(nmse(ys.toArray(ValueLayout.JAVA_FLOAT), want) < 1e-12, "y is the norm of the sum");
        }
    }

    @Test
    void nullPointerGivesTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, 8), y = arena.allocate(ValueLayout.JAVA_FLOAT, 8);
            var e = assertThrows(Mamba4jException.class,
                    () -> new RmsNorm(1, 8, DType.F32, DType.F32, 1e-5f).run(ctx, MemorySegment.NULL, w, y));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_rmsnorm: x is a null pointer", e.getMessage());
        }
    }

    @Test
    void negativeSizeGivesTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 8);
            var e = assertThrows(Mamba4jException.class,
                    () -> new RmsNorm(-3, 8, DType.F32, DType.F32, 1e-5f).run(ctx, s, s, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_rmsnorm: rows must be > 0, got -3", e.getMessage());
        }
    }

    @Test
    void tooSmallOrHeapSegmentsAreRejectedBeforeTheCall() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment small = arena.allocate(ValueLayout.JAVA_FLOAT, 4), ok = arena.allocate(ValueLayout.JAVA_FLOAT, 8);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new RmsNorm(1, 8, DType.F32, DType.F32, 1e-5f).run(ctx, small, ok, ok));
            assertEquals("x holds 16 bytes but the shape needs 32", e.getMessage());
            var heap = MemorySegment.ofArray(new float[8]);
            var h = assertThrows(IllegalArgumentException.class,
                    () -> new RmsNorm(1, 8, DType.F32, DType.F32, 1e-5f).run(ctx, heap, ok, ok));
            assertTrue(h.getMessage().contains("off-heap"), h.getMessage());
        }
    }

    @Test
    void closedContextIsRejected() {
        Context ctx = Context.cpu();
        ctx.close();
        ctx.close(); // idempotent
        assertThrows(IllegalStateException.class, ctx::synchronize);
    }
}
