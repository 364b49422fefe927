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

/** MLP activations through the bindings: the fast path against ALGO_REFERENCE. */
class ActivationTest {
    @ParameterizedTest(name = "{0} rows={1} dim={2} simd={3}")
    @CsvSource({"SILU_GATE,3,1000,AVX512", "RELU2,5,67,AVX512", "SILU,1,14336,AVX512", "SILU_GATE,2,333,AVX2",
                "RELU2,2,333,SCALAR", "SILU,17,129,SCALAR"})
    void fastMatchesReference(Activation.Kind kind, int rows, int dim, SimdLevel simd) {
        Random rnd = new Random(rows * 31L + dim);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment gate = f32(arena, random(rnd, rows * dim, 4f)), up = f32(arena, random(rnd, rows * dim, 1f));
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
            new Activation(rows, dim, DType.F32, kind, Algo.REFERENCE).run(ctx, gate, up, want);
            // in place: y is the gate segment
            atSimd(simd, () -> new Activation(rows, dim, DType.F32, kind).run(ctx, gate, up, gate));
            double e = nmse(gate, want);
            assertTrue(e < 1e-12, kind + " rows=" + rows + " dim=" + dim + ": NMSE " + e + " (threshold 1e-12)");
        }
    }

    @Test
    void siluGateWithoutUpIsRejected() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 8);
            var e = assertThrows(Mamba4jException.class,
                    () -> new Activation(1, 8, DType.F32, Activation.Kind.SILU_GATE).run(ctx, s, null, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_activation_apply: up is a null pointer", e.getMessage());
        }
    }
}
