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

/** Plans through the wrappers: recorded calls do not run, a run equals the direct calls, misuse is an exception. */
class PlanTest {
    static final int D = 64;

    /** xn = rmsnorm(h) · w; h += xn · Wᵀ: each run changes its own input. */
    static void step(Context ctx, MemorySegment h, MemorySegment w, MemorySegment W, MemorySegment xn) {
        new RmsNorm(1, D, DType.F32, DType.F32, 1e-5f).run(ctx, h, w, xn);
        new Matmul(1, D, D, DType.F32, DType.F32).withAccumulate(true).run(ctx, xn, W, null, h);
    }

    @Test
    void runsTheRecordedCallsOnTheMemoryAsItIsThen() {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment w = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, D, 1f));
            MemorySegment W = arena.allocateFrom(ValueLayout.JAVA_FLOAT, RmsNormTest.random(rnd, D * D, 0.1f));
            float[] h0 = RmsNormTest.random(rnd, D, 1f);
            MemorySegment planned = arena.allocateFrom(ValueLayout.JAVA_FLOAT, h0), direct = arena.allocateFrom(ValueLayout.JAVA_FLOAT, h0);
            MemorySegment xn = arena.allocate(ValueLayout.JAVA_FLOAT, D), xn2 = arena.allocate(ValueLayout.JAVA_FLOAT, D);
            try (Plan plan = Plan.record(ctx, () -> step(ctx, planned, w, W, xn))) {
                assertEquals(2, plan.calls());
                assertArrayEquals(h0, planned.toArray(ValueLayout.JAVA_FLOAT), "recording ran nothing");
                for (int i = 0; i < 3; i++) {
                    plan.run(ctx);
                    step(ctx, direct, w, W, xn2);
                    assertArrayEquals(direct.toArray(ValueLayout.JAVA_FLOAT), planned.toArray(ValueLayout.JAVA_FLOAT), "run " + i);
                }
            }
        }
    }

    @Test
    void aFailedRecordingLeavesTheContextUsable() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, D), y = arena.allocate(ValueLayout.JAVA_FLOAT, D);
            float[] ones = new float[D];
            java.util.Arrays.fill(ones, 1f);
            MemorySegment w = arena.allocateFrom(ValueLayout.JAVA_FLOAT, ones);
            var e = assertThrows(IllegalArgumentException.class, () -> Plan.record(ctx,
                    () -> new RmsNorm(1, D, DType.F32, DType.F32, 1e-5f).run(ctx, x, w, arena.allocate(4))));
            assertTrue(e.getMessage().startsWith("y holds 4 bytes"), e.getMessage());
            x.fill((byte) 0x3f); // equal floats: y = x / rms(x) = 1 once the kernel runs (it is not recording any more)
            new RmsNorm(1, D, DType.F32, DType.F32, 1e-5f).run(ctx, x, w, y);
            assertEquals(1f, y.getAtIndex(ValueLayout.JAVA_FLOAT, 0), 1e-4f);
            Plan plan = Plan.record(ctx, () -> {});
            plan.close();
            assertThrows(IllegalStateException.class, () -> plan.run(ctx));
        }
    }
}
