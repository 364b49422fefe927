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

/** Gated RMSNorm through the bindings: the fast path against ALGO_REFERENCE. */
class GatedRmsNormTest {
    @ParameterizedTest(name = "rows={0} dim={1} group={2} normBeforeGate={3} gate={4} simd={5}")
    @CsvSource({"1,1536,192,false,true,AVX512", "5,1536,1536,true,true,AVX512", "3,999,333,false,false,AVX512",
                "2,4096,512,false,true,AVX2", "4,64,16,true,true,SCALAR"})
    void fastMatchesReference(int rows, int dim, int group, boolean nbg, boolean gate, SimdLevel simd) {
        Random rnd = new Random(rows * 17L + dim + group);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment x = f32(arena, random(rnd, rows * dim, 2f));
            MemorySegment z = gate ? f32(arena, random(rnd, rows * dim, 2f)) : null;
            MemorySegment w = f32(arena, random(rnd, dim, 1f));
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
            MemorySegment got = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
            new GatedRmsNorm(rows, dim, group, DType.F32, DType.F32, 1e-5f, nbg, Algo.REFERENCE).run(ctx, x, z, w, want);
            atSimd(simd, () -> new GatedRmsNorm(rows, dim, group, DType.F32, DType.F32, 1e-5f, nbg).run(ctx, x, z, w, got));
            double e = nmse(got, want);
            assertTrue(e < 1e-10, "gated rmsnorm rows=" + rows + " dim=" + dim + " group=" + group + ": NMSE " + e
                    + " (threshold 1e-10)");
        }
    }

    @Test
    void groupMustDivideDim() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 10);
            var e = assertThrows(Mamba4jException.class,
                    () -> new GatedRmsNorm(1, 10, 4, DType.F32, DType.F32, 1e-5f, false).run(ctx, s, s, s, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_gated_rmsnorm: dim 10 is not a multiple of group_size 4", e.getMessage());
        }
    }
}
