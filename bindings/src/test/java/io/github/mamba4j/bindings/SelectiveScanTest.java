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

/** Mamba-1 selective scan through the bindings: the fast path against ALGO_REFERENCE. */
class SelectiveScanTest {
    @ParameterizedTest(name = "B={0} L={1} E={2} N={3}")
    @CsvSource({"1,1,16,16", "2,33,70,16", "1,200,48,8", "3,7,1536,16"})
    void fastMatchesReference(int batch, int seqlen, int inner, int state) {
        Random rnd = new Random(batch * 7L + seqlen * 31L + inner);
        int n = batch * seqlen * inner, nbc = batch * seqlen * state;
        float[] aLog = new float[inner * state];
        for (int e = 0; e < inner; e++)
            for (int s = 0; s < state; s++) aLog[e * state + s] = (float) Math.log(s + 1);
        float[] dtBias = new float[inner];
        for (int e = 0; e < inner; e++) dtBias[e] = (float) Math.log(Math.expm1(0.001 + 0.1 * rnd.nextDouble()));
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment u = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, n, 1f));
            MemorySegment dt = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, n, 0.5f));
            MemorySegment z = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, n, 1f));
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nbc, 1f));
            MemorySegment c = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nbc, 1f));
            MemorySegment d = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, inner, 1f));
            MemorySegment bias = arena.allocateFrom(ValueLayout.JAVA_FLOAT, dtBias);
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, aLog);
            float[] state0 = RmsNormTest.random(rnd, batch * inner * state, 0.5f);
            MemorySegment wantState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state0);
            MemorySegment gotState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state0);
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, n), got = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            SelectiveScan scan = new SelectiveScan(batch, seqlen, inner, state, DType.F32, true);
            scan.withAlgo(Algo.REFERENCE).run(ctx, u, dt, bias, a, b, c, d, z, wantState, null, want);
            scan.run(ctx, u, dt, bias, a, b, c, d, z, gotState, null, got);
            double e = RmsNormTest.nmse(got.toArray(ValueLayout.JAVA_FLOAT), want.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(e < 1e-10, "selective scan y " + scan + ": NMSE " + e + " (threshold 1e-10)");
            double es = RmsNormTest.nmse(gotState.toArray(ValueLayout.JAVA_FLOAT),
                    wantState.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(es < 1e-10, "selective scan state: NMSE " + es + " (threshold 1e-10)");
        }
    }

    @Test
    void badArgumentsGiveTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 256);
            var e = assertThrows(Mamba4jException.class, () -> new SelectiveScan(1, 4, 8, 4, DType.F32, true)
                    .run(ctx, s, s, null, null, s, s, null, null, null, null, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_selective_scan: A_log is a null pointer", e.getMessage());
            var u = assertThrows(Mamba4jException.class, () -> new SelectiveScan(1, 4, 8, 4, DType.BF16, true)
                    .run(ctx, s, s, null, s, s, s, null, null, null, null, s));
            assertEquals(Status.UNSUPPORTED, u.status());
        }
    }
}
