package io.github.mamba4j.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Random data, bf16 rounding and NMSE for the dense kernel tests. */
final class DenseKernelsTestSupport {
    private DenseKernelsTestSupport() {}

    static float[] random(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian() * scale;
        return v;
    }

    /** Round to nearest even bf16 bits. */
    static short bf16(float f) {
        int u = Float.floatToRawIntBits(f);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    static MemorySegment bf16Segment(Arena arena, float[] v) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_SHORT, v.length);
        for (int i = 0; i < v.length; i++) s.setAtIndex(ValueLayout.JAVA_SHORT, i, bf16(v[i]));
        return s;
    }

    static MemorySegment f32(Arena arena, float[] v) {
        return arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
    }

    /** Σ(got−want)² / Σwant²; a non-finite value anywhere fails. */
    static double nmse(MemorySegment got, MemorySegment want) {
        float[] g = got.toArray(ValueLayout.JAVA_FLOAT), w = want.toArray(ValueLayout.JAVA_FLOAT);
        double num = 0, den = 0;
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(g[i]) || !Float.isFinite(w[i])) return Double.POSITIVE_INFINITY;
            num += Math.pow((double) g[i] - w[i], 2);
            den += (double) w[i] * w[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : num / den;
    }

    /** Runs body at the SIMD level (or the highest below it this CPU has), then restores it. */
    static void atSimd(SimdLevel simd, Runnable body) {
        SimdLevel level = simd.compareTo(Mamba4j.simdSupported()) <= 0 ? simd : Mamba4j.simdSupported();
        SimdLevel before = Mamba4j.simdInUse();
        try {
            Mamba4j.setSimd(level);
            body.run();
        } finally {
            Mamba4j.setSimd(before);
        }
    }
}
