package io.github.mamba4j.bindings;

import static io.github.mamba4j.bindings.DenseKernelsTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Embedding gather through the bindings: exact rows, and the out-of-range id message. */
class EmbeddingTest {
    @Test
    void gathersBf16RowsAsF32() {
        int vocab = 1000, dim = 96;
        int[] ids = {0, 999, 5, 5, 123};
        Random rnd = new Random(11);
        float[] table = random(rnd, vocab * dim, 1f);
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment t = bf16Segment(arena, table);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) ids.length * dim);
            new Embedding(ids.length, vocab, dim, DType.BF16, DType.F32)
                    .run(ctx, arena.allocateFrom(ValueLayout.JAVA_INT, ids), t, out);
            for (int i = 0; i < ids.length; i++)
                for (int j = 0; j < dim; j++) {
                    float want = Float.intBitsToFloat((bf16(table[ids[i] * dim + j]) & 0xffff) << 16);
                    assertEquals(want, out.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * dim + j), "row " + i);
                }
        }
    }

    @Test
    void idOutOfRangeNamesPositionAndId() {
        try (Arena arena = Arena.ofConfined(); Context ctx = Context.cpu()) {
            MemorySegment table = arena.allocate(ValueLayout.JAVA_FLOAT, 40), out = arena.allocate(ValueLayout.JAVA_FLOAT, 12);
            MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, 1, 10, 2);
            var e = assertThrows(Mamba4jException.class,
                    () -> new Embedding(3, 10, 4, DType.F32, DType.F32).run(ctx, ids, table, out));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertEquals("mamba4j_embedding: ids[1] = 10 is outside the vocabulary [0, 10)", e.getMessage());
        }
    }
}
