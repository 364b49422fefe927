package io.github.mamba4j.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Model parity (TESTING.md level 2) against the transformers 5.17 fixtures, fp32:
 * max |Δ| / max |ref| < 1e-4 for the logits of a full forward, of prefill + cached decode,
 * and of batched decode; greedy ids where the reference's top-2 margin is clear.
 */
class ParityTest {
    /** The kernels under test; subclasses run the same tables on other backends. */
    Kernels kernels() {
        return new JavaKernels();
    }

    Model load(java.nio.file.Path dir) {
        return Model.load(dir, kernels());
    }
    static final double TOLERANCE = 1e-4;
    /** A greedy step is compared when its top-2 margin exceeds this multiple of the logit tolerance. */
    static final double CLEAR_MARGIN = 20;

    static void assertClose(String what, float[][] got, float[][] want) {
        double err = Fixture.relError(got, want);
        assertTrue(err < TOLERANCE, what + ": max|Δ|/max|ref| = " + err + " (threshold " + TOLERANCE + ")");
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mamba", "mamba2", "nemotron_h", "llama", "bamba", "granitemoehybrid"})
    void fullForwardMatchesReference(String family) {
        Fixture f = Fixture.load(family);
        try (Model m = load(f.dir()); Session s = m.newSession(1, 64)) {
            for (int i = 0; i < f.prompts().size(); i++) {
                int seq = s.join();
                float[][] got = s.prefillAll(seq, f.sequence(i));
                System.out.printf("parity %s %s prompt %d: %.2e%n", kernels().getClass().getSimpleName(), family, i,
                        Fixture.relError(got, f.logits().get(i)));
                assertClose(family + " prompt " + i, got, f.logits().get(i));
                s.leave(seq);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mamba", "mamba2", "nemotron_h", "llama", "bamba", "granitemoehybrid"})
    void prefillThenDecodeMatchesAndGreedyIdsAgree(String family) {
        Fixture f = Fixture.load(family);
        try (Model m = load(f.dir()); Session s = m.newSession(1, 64)) {
            for (int i = 0; i < f.prompts().size(); i++) {
                int[] prompt = f.prompts().get(i), greedy = f.greedy().get(i);
                float[][] ref = f.logits().get(i);
                float tol = (float) (TOLERANCE * Fixture.maxAbs(ref));
                int seq = s.join();
                float[][] got = new float[greedy.length + 1][];
                got[0] = s.prefill(seq, prompt);
                boolean clear = true;
                int compared = 0;
                for (int t = 0; t < greedy.length; t++) {
                    // greedy ids: ours must agree with the reference's while its margins are clear
                    clear &= f.margins().get(i)[t] > CLEAR_MARGIN * tol;
                    if (clear) {
                        assertEquals(greedy[t], argmax(got[t]), family + " prompt " + i + " greedy step " + t);
                        compared++;
                    }
                    got[t + 1] = s.decode(new int[] {seq}, new int[] {greedy[t]})[0];
                }
                float[][] want = Arrays.copyOfRange(ref, prompt.length - 1, ref.length);
                assertClose(family + " prompt " + i + " prefill + decode", got, want);
                assertTrue(i > 0 || compared > 0, family + ": no greedy step had a clear margin");
                s.leave(seq);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mamba", "mamba2", "nemotron_h", "llama", "bamba", "granitemoehybrid"})
    void batchedDecodeEqualsOneAtATime(String family) {
        Fixture f = Fixture.load(family);
        try (Model m = load(f.dir()); Session s = m.newSession(3, 64)) {
            int filler = s.join(); // slot 0 busy: the sequences under test use slots 1 and 2
            s.prefill(filler, new int[] {5, 6, 7});
            int a = s.join(), b = s.join();
            float[] la = s.prefill(a, f.prompts().get(0)), lb = s.prefill(b, f.prompts().get(1));
            int[] ga = f.greedy().get(0), gb = f.greedy().get(1);
            float[][] refA = f.logits().get(0), refB = f.logits().get(1);
            int pa = f.prompts().get(0).length, pb = f.prompts().get(1).length;
            assertClose(family + " a prefill", new float[][] {la}, new float[][] {refA[pa - 1]});
            assertClose(family + " b prefill", new float[][] {lb}, new float[][] {refB[pb - 1]});
            for (int t = 0; t < Math.min(ga.length, gb.length); t++) {
                float[][] both = s.decode(new int[] {b, a}, new int[] {gb[t], ga[t]});
                assertClose(family + " batched step " + t + " (b)", new float[][] {both[0]}, new float[][] {refB[pb + t]});
                assertClose(family + " batched step " + t + " (a)", new float[][] {both[1]}, new float[][] {refA[pa + t]});
            }
            s.leave(a); // leaving and joining again starts from a zero state
            int c = s.join();
            assertEquals(a, c);
            assertClose(family + " rejoined", new float[][] {s.prefill(c, f.prompts().get(0))}, new float[][] {refA[pa - 1]});
        }
    }

    @Test
    void shardedCheckpointGivesTheSameLogits() {
        Fixture f = Fixture.load("nemotron_h");
        try (Model m = load(Fixture.ROOT.resolve("nemotron_h_sharded")); Session s = m.newSession(1, 64)) {
            assertClose("nemotron_h sharded", s.prefillAll(s.join(), f.sequence(0)), f.logits().get(0));
        }
    }

    @Test
    void badTokensAndOverlongPromptsAreClearErrors() {
        try (Model m = load(Fixture.ROOT.resolve("llama")); Session s = m.newSession(1, 8)) {
            int seq = s.join();
            var id = assertThrows(IllegalArgumentException.class, () -> s.prefill(seq, new int[] {3, 256}));
            assertTrue(id.getMessage().contains("token id 256"), id.getMessage());
            var longPrompt = assertThrows(IllegalArgumentException.class, () -> s.prefill(seq, new int[9]));
            assertTrue(longPrompt.getMessage().contains("context limit"), longPrompt.getMessage());
            assertEquals(0, s.length(seq), "a refused call leaves the sequence unchanged");
            assertThrows(IllegalStateException.class, s::join, "one slot only");
            assertThrows(IllegalArgumentException.class, () -> s.prefill(seq, new int[0]));
            s.prefill(seq, new int[] {3, 4});
            assertEquals(2, s.length(seq));
        }
    }

    @Test
    void memoryReportSeparatesConstantStatesFromKvPerToken() {
        try (Model m = load(Fixture.ROOT.resolve("nemotron_h")); Session s = m.newSession(2, 32)) {
            Session.MemoryReport r = s.memory();
            // 2 Mamba-2 layers × 2 slots × (conv (K-1)·(E+2GN) + ssm H·P·N) fp32
            assertEquals(2L * 2 * (3 * 192 + 8 * 16 * 16) * 4, r.ssmStateBytes());
            // 1 attention layer: K and V, Hkv·d fp32 per token
            assertEquals(2L * 2 * 16 * 4, r.kvBytesPerToken());
            assertEquals(r.kvBytesPerToken() * 2 * 32, r.kvBytesAllocated());
        }
    }

    /**
     * The same checkpoint stored in BF16 (matrices used as stored, vectors converted to fp32
     * at load) stays close to the fp32 reference: bf16 rounding of the weights alone moves
     * the logits by about 1e-2 of their range here.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mamba", "nemotron_h", "llama"})
    void bf16CheckpointRuns(String family, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        Fixture f = Fixture.load(family);
        java.nio.file.Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
        try (var ckpt = io.github.mamba4j.runtime.safetensors.Checkpoint.open(f.dir());
             var arena = java.lang.foreign.Arena.ofConfined()) {
            var bf16 = new java.util.LinkedHashMap<String, io.github.mamba4j.runtime.tensor.Tensor>();
            ckpt.tensors().forEach((name, t) -> bf16.put(name, t.as(io.github.mamba4j.runtime.tensor.DType.BF16, arena)));
            io.github.mamba4j.runtime.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), bf16, java.util.Map.of());
        }
        try (Model m = load(dir); Session s = m.newSession(1, 64)) {
            double err = Fixture.relError(s.prefillAll(s.join(), f.sequence(0)), f.logits().get(0));
            System.out.printf("parity %s %s bf16: %.2e%n", kernels().getClass().getSimpleName(), family, err);
            assertTrue(err < 5e-2, family + " bf16: max|Δ|/max|ref| = " + err + " (threshold 5e-2)");
        }
    }
}
