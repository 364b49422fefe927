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

/** Attention through the bindings: FLASH (and AUTO) against the native two-pass REFERENCE. */
class AttentionTest {
    static float[] random(Random rnd, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    static double nmse(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            if (!Float.isFinite(got[i]) || !Float.isFinite(want[i])) return Double.POSITIVE_INFINITY;
            num += Math.pow((double) got[i] - want[i], 2);
            den += (double) want[i] * want[i];
        }
        return num / den;
    }

    /** Runs one algorithm on a fresh copy of the cache; returns out followed by the new k cache. */
    static float[][] run(Attention shape, float[] q, float[] k, float[] v, float[] cache, int[] slots, int[] start) {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment kc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, cache);
            MemorySegment vc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, cache);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, q.length);
            shape.run(ctx, arena.allocateFrom(ValueLayout.JAVA_FLOAT, q), arena.allocateFrom(ValueLayout.JAVA_FLOAT, k),
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, v), kc, vc,
                    slots == null ? null : arena.allocateFrom(ValueLayout.JAVA_INT, slots),
                    arena.allocateFrom(ValueLayout.JAVA_INT, start), out);
            return new float[][] {out.toArray(ValueLayout.JAVA_FLOAT), kc.toArray(ValueLayout.JAVA_FLOAT)};
        }
    }

    @ParameterizedTest(name = "B={0} L={1} Hq={2} Hkv={3} d={4} algo={5}")
    @CsvSource({"2,37,6,2,64,FLASH", "3,70,12,4,64,AUTO", "2,1,9,3,64,FLASH", "1,1,8,2,128,AUTO", "2,19,8,1,80,FLASH"})
    void matchesNativeReference(int batch, int seqlen, int qHeads, int kvHeads, int headDim, Algo algo) {
        Random rnd = new Random(batch * 1000L + seqlen * 10L + qHeads);
        int[] start = new int[batch];
        for (int b = 0; b < batch; b++) start[b] = b * 500 + 3;  // different lengths; row 2 splits its keys
        int[] slots = new int[batch];
        for (int b = 0; b < batch; b++) slots[b] = batch - 1 - b;
        long capacity = start[batch - 1] + seqlen + 1;
        float[] q = random(rnd, (long) batch * seqlen * qHeads * headDim);
        float[] k = random(rnd, (long) batch * seqlen * kvHeads * headDim);
        float[] v = random(rnd, (long) batch * seqlen * kvHeads * headDim);
        float[] cache = random(rnd, batch * capacity * kvHeads * headDim);
        var reference = new Attention(batch, seqlen, qHeads, kvHeads, headDim, capacity, batch, DType.F32, 0f,
                Algo.REFERENCE);
        float[][] want = run(reference, q, k, v, cache, slots, start);
        float[][] got = run(new Attention(batch, seqlen, qHeads, kvHeads, headDim, capacity, batch, DType.F32, 0f, algo),
                q, k, v, cache, slots, start);
        double e = nmse(got[0], want[0]);
        assertTrue(e < 1e-10, "attention " + algo + ": NMSE " + e + " (threshold 1e-10)");
        assertEquals(0.0, nmse(got[1], want[1]), "the k cache holds the new keys at the same places");
    }

    @Test
    void rowPastTheCapacityIsNamed() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            var shape = new Attention(2, 4, 4, 2, 16, 10, 2, DType.F32);
            MemorySegment q = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * 4 * 4 * 16);
            MemorySegment kv = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * 4 * 2 * 16);
            MemorySegment cache = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * 10 * 2 * 16);
            MemorySegment start = arena.allocateFrom(ValueLayout.JAVA_INT, 0, 7);
            var e = assertThrows(Mamba4jException.class,
                    () -> shape.run(ctx, q, kv, kv, cache, cache, null, start, q));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_attention: row 1: start_pos[1] + seqlen = 7 + 4 exceeds the cache capacity 10",
                    e.getMessage());
            var small = assertThrows(IllegalArgumentException.class,
                    () -> shape.run(ctx, q, kv, kv, cache, q.asSlice(0, 64), null, start, q));
            assertEquals("vCache holds 64 bytes but the shape needs 2560", small.getMessage());
        }
    }
}
