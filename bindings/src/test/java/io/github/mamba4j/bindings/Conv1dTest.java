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

/** Causal conv1d through the bindings: the fast path against ALGO_REFERENCE, state carried. */
class Conv1dTest {
    @ParameterizedTest(name = "B={0} L={1} C={2} K={3}")
    @CsvSource({"1,1,8,4", "2,37,100,4", "3,5,1792,4", "2,64,33,2"})
    void fastMatchesReference(int batch, int seqlen, int channels, int width) {
        Random rnd = new Random(batch * 1000L + seqlen * 10L + channels);
        int n = batch * seqlen * channels, ns = batch * (width - 1) * channels;
        float[] x = RmsNormTest.random(rnd, n, 1f), w = RmsNormTest.random(rnd, channels * width, 0.5f);
        float[] bias = RmsNormTest.random(rnd, channels, 0.2f), state = RmsNormTest.random(rnd, ns, 1f);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment bs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, bias);
            MemorySegment wantState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state);
            MemorySegment gotState = arena.allocateFrom(ValueLayout.JAVA_FLOAT, state);
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, n), got = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            Conv1d conv = new Conv1d(batch, seqlen, channels, width, DType.F32, DType.F32, true);
            conv.withAlgo(Algo.REFERENCE).run(ctx, xs, ws, bs, wantState, null, want);
            conv.run(ctx, xs, ws, bs, gotState, null, got);
            double e = RmsNormTest.nmse(got.toArray(ValueLayout.JAVA_FLOAT), want.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(e < 1e-11, "conv1d y " + conv + ": NMSE " + e + " (threshold 1e-11)");
            assertEquals(0.0, RmsNormTest.nmse(gotState.toArray(ValueLayout.JAVA_FLOAT),
                    wantState.toArray(ValueLayout.JAVA_FLOAT)), "conv state is a copy of inputs");
        }
    }

    @Test
    void decodeStepsContinueThePrefill() {
        int channels = 24, width = 4, seqlen = 10;
        Random rnd = new Random(3);
        float[] x = RmsNormTest.random(rnd, seqlen * channels, 1f), w = RmsNormTest.random(rnd, channels * width, 0.5f);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment want = arena.allocate(ValueLayout.JAVA_FLOAT, (long) seqlen * channels);
            MemorySegment got = arena.allocate(ValueLayout.JAVA_FLOAT, (long) seqlen * channels);
            new Conv1d(1, seqlen, channels, width, DType.F32, DType.F32, true).withAlgo(Algo.REFERENCE)
                    .run(ctx, xs, ws, null, null, null, want);
            MemorySegment state = arena.allocate(ValueLayout.JAVA_FLOAT, (long) (width - 1) * channels);
            int prefill = 6;
            new Conv1d(1, prefill, channels, width, DType.F32, DType.F32, true).run(ctx, xs, ws, null, state, null, got);
            Conv1d step = new Conv1d(1, 1, channels, width, DType.F32, DType.F32, true);
            for (int t = prefill; t < seqlen; t++) {
                long off = (long) t * channels * 4;
                step.run(ctx, xs.asSlice(off), ws, null, state, null, got.asSlice(off));
            }
            double e = RmsNormTest.nmse(got.toArray(ValueLayout.JAVA_FLOAT), want.toArray(ValueLayout.JAVA_FLOAT));
            assertTrue(e < 1e-11, "prefill + steps vs one prefill: NMSE " + e);
        }
    }

    @Test
    void badArgumentsGiveTheNativeMessage() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 64);
            var e = assertThrows(Mamba4jException.class, () -> new Conv1d(1, 4, 8, 4, DType.F32, DType.F32, true)
                    .run(ctx, s, null, null, null, null, s));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_conv1d: w is a null pointer", e.getMessage());
            var f = assertThrows(Mamba4jException.class, () -> new Conv1d(1, 4, 8, 0, DType.F32, DType.F32, true)
                    .run(ctx, s, s, null, null, null, s));
            assertEquals("mamba4j_conv1d: width must be > 0, got 0", f.getMessage());
        }
    }
}
