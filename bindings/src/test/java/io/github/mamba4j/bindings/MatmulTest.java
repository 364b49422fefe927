package io.github.mamba4j.bindings;

import static io.github.mamba4j.bindings.DenseKernelsTestSupport.*;
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

/** Matmul / matvec through the bindings: the fast path against ALGO_REFERENCE (double accumulation). */
class MatmulTest {
    @ParameterizedTest(name = "m={0} n={1} k={2} w={3} accumulate={4} simd={5}")
    @CsvSource({"1,1536,768,BF16,false,AVX512", "1,37,61,F32,true,AVX512", "5,130,257,BF16,true,AVX512",
                "17,67,1000,F32,false,AVX512", "64,33,129,BF16,false,AVX512", "1,515,333,BF16,true,AVX2",
                "17,67,100,F32,true,AVX2", "2,67,100,BF16,false,SCALAR"})
    void fastMatchesReference(int m, int n, int k, DType wtype, boolean accumulate, SimdLevel simd) {
        Random rnd = new Random(m * 1000L + n * 7L + k);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            float[] w = random(rnd, n * k, 0.5f), y0 = random(rnd, m * n, 1f);
            MemorySegment x = f32(arena, random(rnd, m * k, 1f));
            MemorySegment ws = wtype == DType.BF16 ? bf16Segment(arena, w) : f32(arena, w);
            MemorySegment bias = f32(arena, random(rnd, n, 1f));
            MemorySegment want = f32(arena, y0), got = f32(arena, y0);
            Matmul op = new Matmul(m, n, k, DType.F32, wtype).withAccumulate(accumulate);
            op.withAlgo(Algo.REFERENCE).run(ctx, x, ws, bias, want);
            atSimd(simd, () -> op.run(ctx, x, ws, bias, got));
            double e = nmse(got, want);
            // prefill with bf16 W on AVX-512 rounds x to bf16 (mamba4j.h, mamba4j_matmul): NMSE ~3e-6
            double threshold = m > 1 && wtype == DType.BF16 && simd == SimdLevel.AVX512 ? 5e-5 : 1e-10;
            assertTrue(e < threshold, "matmul m=" + m + " n=" + n + " k=" + k + " " + wtype + ": NMSE " + e
                    + " (threshold " + threshold + ")");
        }
    }

    @Test
    void stridedRowsLeaveThePaddingAlone() {
        int m = 3, n = 10, k = 20, xs = 24, ys = 13;
        Random rnd = new Random(3);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment x = f32(arena, random(rnd, (m - 1) * xs + k, 1f));
            MemorySegment w = f32(arena, random(rnd, n * k, 1f));
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, (long) (m - 1) * ys + n);
            MemorySegment got = arena.allocate(ValueLayout.JAVA_FLOAT, (long) (m - 1) * ys + n);
            Matmul op = new Matmul(m, n, k, DType.F32, DType.F32).withStrides(xs, ys);
            op.withAlgo(Algo.REFERENCE).run(ctx, x, w, null, want);
            op.run(ctx, x, w, null, got);
            assertTrue(nmse(got, want) < 1e-12);
            assertEquals(0f, got.getAtIndex(ValueLayout.JAVA_FLOAT, n), "padding column untouched");
        }
    }

    @Test
    void f16WeightsAreRejectedWithTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 64);
            var e = assertThrows(Mamba4jException.class,
                    () -> new Matmul(2, 4, 8, DType.F32, DType.F16).run(ctx, s, s, null, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_matmul: weight_dtype must be F32 or BF16, got F16 (2)", e.getMessage());
        }
    }
}
