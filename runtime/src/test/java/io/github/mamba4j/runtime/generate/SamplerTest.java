package io.github.mamba4j.runtime.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.bindings.Context;
import io.github.mamba4j.bindings.DType;
import io.github.mamba4j.bindings.Sample;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Java sampler picks the token the native mamba4j_sample picks for the same uniform number. */
class SamplerTest {

    /** Rows with ties, -inf, a peak, and a flat tail: where orderings and cut-offs can go wrong. */
    private static float[] row(SplittableRandom r, int v) {
        float[] x = new float[v];
        for (int i = 0; i < v; i++) x[i] = (float) (r.nextGaussian() * 2);
        for (int i = 0; i < v / 10; i++) x[r.nextInt(v)] = x[r.nextInt(v)]; // ties
        x[r.nextInt(v)] = Float.NEGATIVE_INFINITY;
        x[r.nextInt(v)] += 6;                                           // a clear favourite
        return x;
    }

    private static int nativeSample(Context cpu, float[] x, SamplingParams p, float u) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment logits = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment us = arena.allocateFrom(ValueLayout.JAVA_FLOAT, u);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            new Sample(1, x.length, DType.F32, p.temperature(), p.topK(), p.topP(), p.minP()).run(cpu, logits, us, out);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Test
    void sameTokenAsTheNativeSampler() {
        SplittableRandom r = new SplittableRandom(3);
        SamplingParams[] settings = {
            SamplingParams.temperature(1f, 0), SamplingParams.temperature(0.7f, 0).withTopK(40),
            SamplingParams.temperature(1f, 0).withTopP(0.9f), SamplingParams.temperature(1.3f, 0).withMinP(0.05f),
            SamplingParams.temperature(0.8f, 0).withTopK(50).withTopP(0.95f).withMinP(0.02f),
            SamplingParams.temperature(2f, 0).withTopP(0.5f).withMinP(0.1f), SamplingParams.temperature(1f, 0).withTopK(1),
        };
        int checked = 0;
        try (Context cpu = Context.cpu()) {
            for (int v : new int[] {7, 1000, 50280})
                for (SamplingParams p : settings)
                    for (int trial = 0; trial < (v > 1000 ? 3 : 10); trial++) {
                        float[] x = row(r, v);
                        float u = r.nextInt(1 << 24) / (float) (1 << 24);
                        int want = nativeSample(cpu, x, p, u);
                        assertEquals(want, new Sampler(p).choose(x, u), () -> "V " + v + " " + p + " u " + u);
                        checked++;
                    }
        }
        assertTrue(checked > 100);
    }

    @Test
    void nanLogitIsAnError() {
        float[] x = {1f, Float.NaN, 0f};
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.GREEDY).next(x));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.temperature(1f, 1)).next(x));
    }

    @Test
    void drawsFollowTheKeptDistribution() {
        // top-k 2 over logits (ln 3, 0, -5): tokens 0 and 1 with probabilities 3/4 and 1/4
        float[] x = {(float) Math.log(3), 0f, -5f};
        Sampler s = new Sampler(SamplingParams.temperature(1f, 11).withTopK(2));
        int[] count = new int[3];
        for (int i = 0; i < 20000; i++) count[s.next(x)]++;
        assertEquals(0, count[2]);
        assertEquals(0.75, count[0] / 20000.0, 0.015);
    }
}
