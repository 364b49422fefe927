package io.github.mamba4j.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decode steps replayed from recorded plans give the logits of kernel-by-kernel decode bit
 * for bit, through everything a session does between steps: batches of changing size and
 * membership, sequences joining and leaving, prefills that grow the scratch memory.
 */
class DecodePlanTest {
    private static final NativeKernels NATIVE = new NativeKernels();

    @AfterAll
    static void closeContext() {
        NATIVE.close();
    }

    /** A script of session calls; every logits row it sees is collected. */
    static List<float[]> script(Session s) {
        List<float[]> out = new ArrayList<>();
        BiFunction<int[], int[], Void> decode = (seqs, tokens) -> {
            for (float[] row : s.decode(seqs, tokens)) out.add(row);
            return null;
        };
        int a = s.join();
        out.add(s.prefill(a, new int[] {3, 14, 15, 92, 65}));
        for (int t = 0; t < 4; t++) decode.apply(new int[] {a}, new int[] {10 + t});
        int b = s.join();
        out.add(s.prefill(b, new int[] {2, 71}));
        for (int t = 0; t < 3; t++) decode.apply(new int[] {b, a}, new int[] {20 + t, 30 + t}); // batch of 2, b first
        int c = s.join();
        int[] longPrompt = new int[40]; // a longer prefill: more scratch than any decode step so far
        for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = (i * 37 + 11) % 200;
        out.add(s.prefill(c, longPrompt));
        for (int t = 0; t < 3; t++) decode.apply(new int[] {a, b, c}, new int[] {40 + t, 50 + t, 60 + t});
        s.leave(a);
        for (int t = 0; t < 2; t++) decode.apply(new int[] {c, b}, new int[] {70 + t, 80 + t}); // batch of 2 again, other slots
        int d = s.join(); // a's slot again, from a zero state
        out.add(s.prefill(d, new int[] {1, 2}));
        for (int t = 0; t < 2; t++) decode.apply(new int[] {d}, new int[] {90 + t});
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mamba", "mamba2", "nemotron_h", "llama", "bamba", "granitemoehybrid"})
    void replayedStepsEqualKernelByKernelSteps(String family) {
        try (Model m = Model.load(Fixture.load(family).dir(), NATIVE); Session planned = m.newSession(3, 64);
             Session direct = m.newSession(3, 64)) {
            direct.recordDecodeSteps(false);
            List<float[]> want = script(direct), got = script(planned);
            assertEquals(0, direct.recordedPlans());
            assertEquals(3, planned.recordedPlans(), "one plan per batch size (1, 2, 3)");
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), got.get(i), family + " logits row " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "nemotron_h"})
    void stepsPastTheContextOrVocabularyAreRefusedBeforeAnyStateChanges(String family) {
        try (Model m = Model.load(Fixture.load(family).dir(), NATIVE); Session s = m.newSession(1, 4)) {
            int seq = s.join();
            s.prefill(seq, new int[] {5, 6});
            s.decode(new int[] {seq}, new int[] {7});
            var id = assertThrows(IllegalArgumentException.class, () -> s.decode(new int[] {seq}, new int[] {256}));
            assertTrue(id.getMessage().contains("token id 256"), id.getMessage());
            assertEquals(3, s.length(seq));
            s.decode(new int[] {seq}, new int[] {8}); // the 4th token fills the context
            var full = assertThrows(IllegalArgumentException.class, () -> s.decode(new int[] {seq}, new int[] {9}));
            assertTrue(full.getMessage().contains("context limit"), full.getMessage());
            assertEquals(4, s.length(seq));
        }
    }
}
