package io.github.mamba4j.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * A decode step of {@code batch} sequences, recorded once ({@link Kernels#record}) and
 * replayed for every later step of that many sequences: the step's inputs (slot, position
 * and token of each sequence) are written into the native int arrays the recorded calls
 * read, and one call runs the whole step, so the Java side does the same small amount of
 * work per token however many kernels a model has. Valid while its session lives: the
 * calls name the session's caches and scratch memory (a step of one shape gets the same
 * scratch pieces every time, see {@link Scratch}) and the model's weights.
 */
final class DecodePlan implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots, startPos, ids; // int32 [batch], read by the recorded calls
    private final MemorySegment logits;                // [batch, V] in the session's scratch
    private final Kernels.Replay replay;

    private DecodePlan(Model model, Session session, int[] firstSlots, int[] firstStartPos, int[] firstIds) {
        int batch = firstSlots.length;
        slots = arena.allocateFrom(ValueLayout.JAVA_INT, firstSlots);
        startPos = arena.allocateFrom(ValueLayout.JAVA_INT, firstStartPos);
        ids = arena.allocateFrom(ValueLayout.JAVA_INT, firstIds);
        // the arrays the recorded forward call sees; the kernels map them to the native ones
        int[] slotsKey = new int[batch], startPosKey = new int[batch], idsKey = new int[batch];
        MemorySegment[] out = new MemorySegment[1];
        try {
            replay = model.kernels().record(Map.of(slotsKey, slots, startPosKey, startPos, idsKey, ids),
                    () -> out[0] = model.logits(session, batch, 1, slotsKey, startPosKey, idsKey, false));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        logits = out[0];
    }

    /**
     * Records the step of {@code slots.length} sequences, whose first inputs the recording's
     * checks read (nothing runs yet); null when the model's kernels cannot record.
     */
    static DecodePlan record(Model model, Session session, int[] slots, int[] startPos, int[] ids) {
        DecodePlan plan = new DecodePlan(model, session, slots, startPos, ids);
        if (plan.replay == null) {
            plan.arena.close();
            return null;
        }
        return plan;
    }

    /** Runs the step on these inputs; the logits [B][V] flattened, as {@link Model#forward}. */
    float[] run(int[] slots, int[] startPos, int[] ids) {
        MemorySegment.copy(slots, 0, this.slots, ValueLayout.JAVA_INT, 0, slots.length);
        MemorySegment.copy(startPos, 0, this.startPos, ValueLayout.JAVA_INT, 0, startPos.length);
        MemorySegment.copy(ids, 0, this.ids, ValueLayout.JAVA_INT, 0, ids.length);
        replay.run();
        return logits.toArray(ValueLayout.JAVA_FLOAT);
    }

    @Override
    public void close() {
        replay.close();
        arena.close();
    }
}
