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

/**
 * DeviceBuffer and Event on a CPU context (natively allocated host memory, wall-clock
 * events); {@link CudaMemoryTest} runs the same contract on a CUDA device.
 */
class DeviceBufferTest {
    /** Copies in, across and out of buffers at offsets; the bytes come back unchanged. */
    static void roundTrip(Context ctx) {
        Random rnd = new Random(5);
        byte[] data = new byte[10_000];
        rnd.nextBytes(data);
        try (Arena arena = Arena.ofConfined(); DeviceBuffer a = DeviceBuffer.allocate(ctx, 12_000);
             DeviceBuffer b = DeviceBuffer.allocate(ctx, 12_000)) {
            assertEquals(12_000, a.byteSize());
            assertEquals(12_000, a.address().byteSize());
            MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_BYTE, data);
            a.copyFrom(host, 2000);
            b.copyFrom(a);
            MemorySegment back = arena.allocate(10_000);
            b.copyTo(back, 2000);
            assertArrayEquals(data, back.toArray(ValueLayout.JAVA_BYTE));
            MemorySegment part = arena.allocate(100);
            b.copyTo(part, 2500);
            assertEquals(MemorySegment.mismatch(part, 0, 100, host, 500, 600), -1L, "bytes 500..600 of the data");
        }
    }

    /** Sizes and segments are checked in Java, before the native call; a closed buffer is unusable. */
    static void checksArgumentsAndClose(Context ctx) {
        assertEquals("bytes must be > 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(ctx, -1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(ctx, 0));
        try (Arena arena = Arena.ofConfined()) {
            DeviceBuffer b = DeviceBuffer.allocate(ctx, 64);
            var big = assertThrows(IllegalArgumentException.class, () -> b.copyFrom(arena.allocate(65)));
            assertEquals("host source of 65 bytes at offset 0 does not fit a device buffer of 64 bytes", big.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.copyTo(arena.allocate(8), 60));
            assertThrows(IllegalArgumentException.class, () -> b.copyTo(arena.allocate(8), -1));
            var heap = assertThrows(IllegalArgumentException.class, () -> b.copyFrom(MemorySegment.ofArray(new byte[8])));
            assertTrue(heap.getMessage().contains("off-heap"), heap.getMessage());
            try (Context other = Context.cpu(); DeviceBuffer o = DeviceBuffer.allocate(other, 8)) {
                var foreign = assertThrows(IllegalArgumentException.class, () -> b.copyFrom(o));
                assertEquals("the source buffer belongs to another context", foreign.getMessage());
            }
            MemorySegment view = b.address();
            b.close();
            b.close(); // idempotent
            assertTrue(b.isClosed());
            assertThrows(IllegalStateException.class, b::address);
            assertThrows(IllegalStateException.class, () -> b.copyFrom(arena.allocate(8)));
            assertThrows(IllegalStateException.class, () -> b.copyTo(arena.allocate(8)));
            // a view taken before close is dead too: a kernel refuses it rather than touch freed memory
            assertTrue(!view.scope().isAlive());
            MemorySegment ok = arena.allocate(64);
            var freed = assertThrows(IllegalStateException.class,
                    () -> new RmsNorm(1, 16, DType.F32, DType.F32, 1e-5f).run(ctx, view, ok, ok));
            assertEquals("x is freed memory (its arena or device buffer is closed)", freed.getMessage());
        }
    }

    /** An allocation the backend cannot make is a Mamba4jException carrying the library's message. */
    static Mamba4jException absurdAllocation(Context ctx) {
        var e = assertThrows(Mamba4jException.class, () -> DeviceBuffer.allocate(ctx, 1L << 60));
        assertTrue(e.status() == Status.OUT_OF_MEMORY || e.status() == Status.CUDA, e.status() + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith("mamba4j_malloc: "), e.getMessage());
        return e;
    }

    /** Events: elapsed time needs both recorded, is >= 0 forwards; closed events refuse. */
    static float timeCopy(Context ctx, long bytes) {
        try (DeviceBuffer a = DeviceBuffer.allocate(ctx, bytes); DeviceBuffer b = DeviceBuffer.allocate(ctx, bytes);
             Event start = Event.create(ctx); Event end = Event.create(ctx)) {
            assertThrows(IllegalStateException.class, () -> start.elapsedMs(end));
            start.record();
            for (int i = 0; i < 4; i++) b.copyFrom(a);
            end.record();
            float ms = start.elapsedMs(end);
            assertTrue(ms >= 0 && Float.isFinite(ms), "elapsed " + ms + " ms");
            return ms;
        }
    }

    @Test
    void roundTripOnCpu() {
        try (Context ctx = Context.cpu()) {
            roundTrip(ctx);
        }
    }

    @Test
    void cpuBufferIsHostMemory() {
        try (Context ctx = Context.cpu(); DeviceBuffer b = DeviceBuffer.allocate(ctx, 100)) {
            b.address().fill((byte) 7);
            assertEquals(0, b.address().address() % 64, "64-byte aligned");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment back = arena.allocate(100);
                b.copyTo(back);
                assertEquals(7, back.get(ValueLayout.JAVA_BYTE, 99));
            }
        }
    }

    @Test
    void checksArgumentsAndCloseOnCpu() {
        try (Context ctx = Context.cpu()) {
            checksArgumentsAndClose(ctx);
        }
    }

    @Test
    void absurdAllocationOnCpu() {
        try (Context ctx = Context.cpu()) {
            var e = absurdAllocation(ctx);
            assertEquals(Status.OUT_OF_MEMORY, e.status());
            assertEquals("mamba4j_malloc: could not allocate 1152921504606846976 bytes of host memory", e.getMessage());
        }
    }

    @Test
    void eventsOnCpu() {
        try (Context ctx = Context.cpu()) {
            timeCopy(ctx, 1 << 20);
            Event e = Event.create(ctx);
            e.close();
            e.close();
            assertThrows(IllegalStateException.class, e::record);
        }
    }

    @Test
    void bufferOfAClosedContextSaysSo() {
        Context ctx = Context.cpu();
        DeviceBuffer b = DeviceBuffer.allocate(ctx, 64);
        b.close();
        ctx.close();
        assertThrows(IllegalStateException.class, () -> DeviceBuffer.allocate(ctx, 64));
    }
}
