package io.github.mamba4j.bindings;

import static io.github.mamba4j.bindings.DenseKernelsTestSupport.bf16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sampling through the bindings against the runtime Sampler's steps written out in plain Java. */
class SampleTest {
    /** Sort, top-k, softmax over the kept, top-p, min-p (as Sampler.choose); then the id-order draw of mamba4j.h. */
    static int expected(float[] x, int from, int vocab, float temperature, int topK, float topP, float minP, float u) {
        if (temperature <= 0) {
            int best = 0;
            for (int i = 1; i < vocab; i++) if (x[from + i] > x[from + best]) best = i;
            return best;
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(x[from + b], x[from + a])); // stable: ties by id
        int keep = topK > 0 ? Math.min(topK, vocab) : vocab;
        double[] p = new double[keep];
        double max = x[from + order[0]] / (double) temperature, sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.exp(x[from + order[i]] / (double) temperature - max);
        for (int i = 0; i < keep; i++) p[i] /= sum;
        if (topP < 1f) {
            double mass = 0;
            int n = 0;
            while (n < keep && mass < topP) mass += p[n++];
            keep = Math.max(n, 1);
        }
        if (minP > 0f) {
            int n = 1;
            while (n < keep && p[n] >= minP * p[0]) n++;
            keep = n;
        }
        double[] kept = new double[vocab];
        Arrays.fill(kept, -1);
        double total = 0;
        for (int i = 0; i < keep; i++) total += kept[order[i]] = p[i];
        double cum = 0, target = u * total;
        int last = -1;
        for (int i = 0; i < vocab; i++)
            if (kept[i] >= 0) {
                cum += kept[i];
                last = i;
                if (cum > target) return i;
            }
        return last;
    }

    static int[] run(Sample s, float[] logits, float[] u) {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment x = s.dtype() == DType.BF16 ? DenseKernelsTestSupport.bf16Segment(arena, logits)
                    : arena.allocateFrom(ValueLayout.JAVA_FLOAT, logits);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, s.batch());
            s.run(ctx, x, u == null ? null : arena.allocateFrom(ValueLayout.JAVA_FLOAT, u), ids);
            return ids.toArray(ValueLayout.JAVA_INT);
        }
    }

    @ParameterizedTest(name = "{0} V={1} T={2} top_k={3} top_p={4} min_p={5}")
    @CsvSource({"F32,7,0,0,1,0", "F32,1000,1,0,1,0", "BF16,1000,0.8,40,1,0", "F32,5000,1,0,0.9,0",
            "BF16,5000,1,0,1,0.05", "F32,32000,0.7,40,0.9,0.05", "BF16,32000,1.2,1000,0.95,0", "F32,9,0.5,3,0.6,0.3"})
    void matchesPlainJava(DType dtype, int vocab, float temperature, int topK, float topP, float minP) {
        int batch = 6;
        long stride = vocab + 3L;
        Random rnd = new Random(vocab * 31L + topK);
        float[] x = new float[(int) (batch * stride)];
        for (int i = 0; i < x.length; i++) {
            float v = (float) Math.round(rnd.nextGaussian() * 3 * 4) / 4; // ties
            x[i] = dtype == DType.BF16 ? Float.intBitsToFloat((bf16(v) & 0xffff) << 16) : v;
        }
        x[5] = Float.NEGATIVE_INFINITY; // a masked token
        float[] u = new float[batch];
        for (int b = 1; b < batch; b++) u[b] = rnd.nextFloat();
        int[] got = run(new Sample(batch, vocab, dtype, stride, temperature, topK, topP, minP, Algo.AUTO), x, u);
        int[] want = new int[batch];
        for (int b = 0; b < batch; b++) want[b] = expected(x, (int) (b * stride), vocab, temperature, topK, topP, minP, u[b]);
        assertArrayEquals(want, got);
    }

    @Test
    void uniformPicksByInverseCdfInIdOrder() {
        // weights relative to the max (id 1): 1/3, 1, 1/3, 2/3; S = 7/3: CDF 1/7, 4/7, 5/7, 1
        float[] x = {0f, (float) Math.log(3), 0f, (float) Math.log(2)};
        float[] x4 = new float[16];
        for (int r = 0; r < 4; r++) System.arraycopy(x, 0, x4, 4 * r, 4);
        int[] got = run(new Sample(4, 4, DType.F32, 1f, 0, 1f, 0f), x4, new float[] {0.1f, 0.2f, 0.6f, 0.9f});
        assertArrayEquals(new int[] {0, 1, 2, 3}, got);
        assertArrayEquals(new int[] {1}, run(new Sample(1, 4, DType.F32, 0f, 0, 1f, 0f), x, null), "greedy, no uniforms");
    }

    @Test
    void nanLogitNamesTheRow() {
        float[] x = {1f, 2f, 3f, 1f, Float.NaN, 0f};
        var e = assertThrows(Mamba4jException.class,
                () -> run(new Sample(2, 3, DType.F32, 1f, 0, 1f, 0f), x, new float[] {0.5f, 0.5f}));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertEquals("mamba4j_sample: row 1: logits[1] is NaN", e.getMessage());
    }
}
