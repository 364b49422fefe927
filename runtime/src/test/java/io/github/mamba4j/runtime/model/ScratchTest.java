package io.github.mamba4j.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class ScratchTest {

    private static boolean overlap(MemorySegment a, MemorySegment b) {
        long a0 = a.address(), b0 = b.address();
        return a0 < b0 + b.byteSize() && b0 < a0 + a.byteSize();
    }

    @Test
    void piecesOfOneScopeNeverOverlapAndAreAligned() {
        Scratch s = new Scratch();
        MemorySegment[] p = new MemorySegment[40];
        for (int i = 0; i < p.length; i++) {
            p[i] = s.floats(1 + (i * 7919L) % 300_000); // some larger than a chunk
            assertEquals(0, p[i].address() % 64, "aligned");
            assertEquals((1 + (i * 7919L) % 300_000) * Float.BYTES, p[i].byteSize());
            for (int j = 0; j < i; j++) assertTrue(!overlap(p[i], p[j]), "pieces " + j + " and " + i + " overlap");
        }
    }

    @Test
    void releaseHandsTheSameMemoryToTheNextLayer() {
        Scratch s = new Scratch();
        MemorySegment kept = s.floats(1000);
        Scratch.Mark mark = s.mark();
        MemorySegment a = s.floats(2_000_000), b = s.floats(500);
        s.release(mark);
        MemorySegment a2 = s.floats(2_000_000), b2 = s.floats(500);
        assertEquals(a.address(), a2.address());
        assertEquals(b.address(), b2.address());
        assertTrue(!overlap(kept, a2) && !overlap(kept, b2), "a piece taken before the mark stays untouched");
    }

    @Test
    void aForwardOfManyLayersHoldsOneLayersWorthAndRepeatsWithoutAllocating() {
        Scratch s = new Scratch();
        long perLayer = 3 * 4_000_000L * Float.BYTES;
        for (int call = 0; call < 3; call++) {
            s.reset();
            s.floats(100_000); // residual, xn: for the whole call
            for (int layer = 0; layer < 24; layer++) {
                Scratch.Mark mark = s.mark();
                for (int t = 0; t < 3; t++) s.floats(4_000_000);
                s.release(mark);
            }
            long capacity = s.capacity();
            assertTrue(capacity < 2 * perLayer, "24 layers held " + capacity + " bytes, one layer needs " + perLayer);
        }
        long after = s.capacity();
        s.reset();
        s.floats(100_000);
        for (int t = 0; t < 3; t++) s.floats(4_000_000);
        assertEquals(after, s.capacity(), "the same shapes again allocate nothing");
    }
}
