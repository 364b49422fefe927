package io.github.mamba4j.examples;

import io.github.mamba4j.bindings.Context;
import io.github.mamba4j.bindings.DType;
import io.github.mamba4j.bindings.Mamba4j;
import io.github.mamba4j.bindings.RmsNorm;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Calls a native kernel (RMSNorm) directly on off-heap memory and prints its result next
 * to a plain Java computation of the same formula.
 */
public final class KernelDemo {
    public static void main(String[] args) {
        if (run(System.out) > 1e-5) {
            System.err.println("native and Java results differ");
            System.exit(1);
        }
    }

    /** Prints the comparison and returns the largest difference. */
    static double run(PrintStream out) {
        int rows = 2, dim = 8;
        float eps = 1e-5f;
        float[] x = new float[rows * dim], w = new float[dim];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i + 1) * (1 + i % 3);
        for (int i = 0; i < dim; i++) w[i] = 0.5f + 0.125f * i;

        out.printf("libmamba4j %s, CPU SIMD %s (supported %s), %d threads, %d CUDA device(s)%n",
                Mamba4j.version(), Mamba4j.simdInUse(), Mamba4j.simdSupported(), Mamba4j.threads(),
                Mamba4j.cudaDeviceCount());
        try (Arena arena = Arena.ofConfined(); Context cpu = Context.cpu()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, x.length);
            new RmsNorm(rows, dim, DType.F32, DType.F32, eps).run(cpu, xs, ws, ys);

            out.println("RMSNorm y = x / sqrt(mean(x^2) + eps) * w, rows " + rows + " x dim " + dim);
            out.printf("%4s %4s %12s %12s %12s%n", "row", "i", "native", "java", "|diff|");
            double maxDiff = 0;
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
                double inv = 1 / Math.sqrt(ss / dim + eps);
                for (int i = 0; i < dim; i++) {
                    float nat = ys.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * dim + i);
                    double ref = x[r * dim + i] * inv * w[i];
                    maxDiff = Math.max(maxDiff, Math.abs(nat - ref));
                    out.printf("%4d %4d %12.7f %12.7f %12.2e%n", r, i, nat, ref, Math.abs(nat - ref));
                }
            }
            out.printf("max |native - java| = %.3g%n", maxDiff);
            return maxDiff;
        }
    }
}
