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

/** Mamba-2 SSD through the bindings: recurrent, chunked and auto against ALGO_REFERENCE. */
class SsdTest {
    @ParameterizedTest(name = "B={0} L={1} H={2} P={3} G={4} N={5} Q={6} {7}")
    @CsvSource({"1,1,4,16,1,32,64,AUTO", "2,100,4,16,2,32,32,CHUNKED", "2,100,4,16,2,32,32,RECURRENT",
                "1,300,8,64,1,128,256,CHUNKED", "3,77,6,8,3,16,16,AUTO", "1,513,2,8,2,16,0,CHUNKED"})
    void matchesReference(int batch, int seqlen, int heads, int headDim, int groups, int state, int chunk, Algo algo) {
        Random rnd = new Random(seqlen * 131L + heads * 7L + groups + chunk);
        int nx = batch * seqlen * heads * headDim, ndt = batch * seqlen * heads, nbc = batch * seqlen * groups * state;
        float[] aLog = new float[heads], dtBias = new float[heads];
        for (int h = 0; h < heads; h++) {
            aLog[h] = (float) Math.log(1 + 15 * rnd.nextDouble());
            dtBias[h] = (float) Math.log(Math.expm1(0.001 + 0.1 * rnd.nextDouble()));
        }
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nx, 1f));
            MemorySegment z = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nx, 1f));
            MemorySegment dt = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, ndt, 0.5f));
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nbc, 1f));
            MemorySegment c = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, nbc, 1f));
            MemorySegment d = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, heads, 1f));
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, aLog);
            MemorySegment bias = arena.allocateFrom(ValueLayout.JAVA_FLOAT, dtBias);
            float[] state0 = RmsNormTest.random(rnd, batch * heads * headDim * state, 0.5f);
            MemorySegment wantState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state0);
            MemorySegment gotState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state0);
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, nx), got = arena.allocate(ValueLayout.JAVA_FLOAT, nx);
            Ssd ssd = new Ssd(batch, seqlen, heads, headDim, groups, state, chunk, DType.F32).withDtLimits(0f, 0.2f);
            ssd.withAlgo(Algo.REFERENCE).run(ctx, x, dt, bias, a, b, c, d, z, wantState, null, want);
            ssd.withAlgo(algo).run(ctx, x, dt, bias, a, b, c, d, z, gotState, null, got);
            double e = RmsNormTest.nmse(got.toArray(ValueLayout.JAVA_FLOAT), want.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(e < 1e-10, "ssd y " + ssd + " " + algo + ": NMSE " + e + " (threshold 1e-10)");
            double es = RmsNormTest.nmse(gotState.toArray(ValueLayout.JAVA_FLOAT),
                    wantState.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(es < 1e-10, "ssd state " + algo + ": NMSE " + es + " (threshold 1e-10)");
        }
    }

    @Test
    void badArgumentsGiveTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 1024);
            var e = assertThrows(Mamba4jException.class, () -> new Ssd(1, 4, 3, 4, 2, 8, 0, DType.F32)
                    .run(ctx, s, s, null, s, s, s, null, null, null, null, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_ssd: heads (3) must be a multiple of groups (2)", e.getMessage());
            var f = assertThrows(Mamba4jException.class, () -> new Ssd(1, 4, 2, 4, 1, 8, -5, DType.F32)
                    .run(ctx, s, s, null, s, s, s, null, null, null, null, s));
            assertEquals("mamba4j_ssd: chunk_size must be >= 0, got -5", f.getMessage());
        }
    }
}
