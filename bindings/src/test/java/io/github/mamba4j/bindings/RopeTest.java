package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** RoPE through the bindings: the fast path against the native REFERENCE, and the formula by hand. */
class RopeTest {
    static float[][] run(Rope rope, float[] q, float[] k, int[] start) {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment qs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, q);
            MemorySegment ks = arena.allocateFrom(ValueLayout.JAVA_FLOAT, k);
            rope.run(ctx, qs, ks, arena.allocateFrom(ValueLayout.JAVA_INT, start));
            return new float[][] {qs.toArray(ValueLayout.JAVA_FLOAT), ks.toArray(ValueLayout.JAVA_FLOAT)};
        }
    }

    @ParameterizedTest(name = "B={0} L={1} Hq={2} Hkv={3} d={4} rotary={5} llama3={6}")
    @CsvSource({"1,7,4,2,64,64,false", "2,33,9,3,64,32,false", "3,5,8,8,128,128,true", "2,17,12,4,80,80,true"})
    void matchesNativeReference(int batch, int seqlen, int qHeads, int kvHeads, int headDim, int rotary,
                                boolean llama3) {
        Random rnd = new Random(seqlen * 31L + headDim);
        float[] q = AttentionTest.random(rnd, (long) batch * seqlen * qHeads * headDim);
        float[] k = AttentionTest.random(rnd, (long) batch * seqlen * kvHeads * headDim);
        int[] start = new int[batch];
        for (int b = 0; b < batch; b++) start[b] = b * 4000 + 1;
        var scaling = llama3 ? new Rope.Llama3Scaling(8f, 1f, 4f, 8192) : null;
        float[][] want = run(new Rope(batch, seqlen, qHeads, kvHeads, headDim, rotary, DType.F32, 500000f, scaling,
                Algo.REFERENCE), q, k, start);
        float[][] got = run(new Rope(batch, seqlen, qHeads, kvHeads, headDim, rotary, DType.F32, 500000f, scaling,
                Algo.AUTO), q, k, start);
        assertTrue(AttentionTest.nmse(got[0], want[0]) < 1e-12, "q");
        assertTrue(AttentionTest.nmse(got[1], want[1]) < 1e-12, "k");
    }

    @Test
    void rotatesPairsByPositionTimesFrequency() {
        // d 4, theta 10000: inv_freq (1, 0.01), pairs (0, 2) and (1, 3), position 2
        float[][] got = run(new Rope(1, 1, 1, 1, 4, DType.F32, 10000f), new float[] {1, 2, 3, 4},
                new float[] {1, 0, 0, 0}, new int[] {2});
        double c0 = Math.cos(2), s0 = Math.sin(2), c1 = Math.cos(0.02), s1 = Math.sin(0.02);
        float[] wantQ = {(float) (c0 - 3 * s0), (float) (2 * c1 - 4 * s1), (float) (3 * c0 + s0), (float) (4 * c1 + 2 * s1)};
        assertArrayEquals(wantQ, got[0], 1e-5f);
        assertArrayEquals(new float[] {(float) c0, 0, (float) s0, 0}, got[1], 1e-6f);
    }

    @Test
    void oddRotaryDimIsRejected() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment q = arena.allocate(ValueLayout.JAVA_FLOAT, 64);
            var rope = new Rope(1, 1, 1, 1, 64, 63, DType.F32, 10000f, null, Algo.AUTO);
            var e = assertThrows(Mamba4jException.class, () -> rope.run(ctx, q, null, null));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_rope: rotary_dim must be even and <= head_dim 64, got 63", e.getMessage());
        }
    }
}
