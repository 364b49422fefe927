package io.github.mamba4j.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.safetensors.SafetensorsWriter;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Matrices are used as stored (never copied at load): every weight a matmul reads is a view
 * of the checkpoint's file mapping, parts of a projection that lie back to back in the file
 * share one matmul, and any tensor order in the file gives the same logits.
 */
class ProjectionTest {
    /** Kernels that record the weight of every matmul call and run {@code inner}. */
    record Recording(Kernels inner, List<Tensor> weights) implements Kernels {
        Recording(Kernels inner) {
            this(inner, new ArrayList<>());
        }

        /** "name [rows]" of each recorded call's weight. */
        List<String> calls() {
            return weights.stream().map(w -> w.name() + " [" + w.dim(0) + "]").toList();
        }

        @Override
        public void matmul(int m, int n, int k, MemorySegment x, long xStride, Tensor w, Tensor bias, MemorySegment y,
                           long yStride, boolean accumulate) {
            weights.add(w);
            inner.matmul(m, n, k, x, xStride, w, bias, y, yStride, accumulate);
        }

        @Override
        public void rmsnorm(int rows, int dim, MemorySegment x, long xStride, Tensor w, MemorySegment y, long yStride, float eps) {
            inner.rmsnorm(rows, dim, x, xStride, w, y, yStride, eps);
        }

        @Override
        public void gatedRmsnorm(int rows, int dim, int groupSize, MemorySegment x, long xStride, MemorySegment z, long zStride,
                                 Tensor w, MemorySegment y, long yStride, float eps) {
            inner.gatedRmsnorm(rows, dim, groupSize, x, xStride, z, zStride, w, y, yStride, eps);
        }

        @Override
        public void conv1d(int batch, int seqlen, int channels, int width, MemorySegment x, long xStrideB, long xStrideT, Tensor w,
                           Tensor bias, MemorySegment convState, int[] slots, MemorySegment y, long yStrideB, long yStrideT,
                           boolean silu) {
            inner.conv1d(batch, seqlen, channels, width, x, xStrideB, xStrideT, w, bias, convState, slots, y, yStrideB, yStrideT, silu);
        }

        @Override
        public void selectiveScan(int batch, int seqlen, int inner, int state, Strided u, Strided dt, Tensor dtBias, Tensor aLog,
                                  Strided b, Strided c, Tensor d, Strided z, MemorySegment ssmState, int[] slots, Strided y) {
            this.inner.selectiveScan(batch, seqlen, inner, state, u, dt, dtBias, aLog, b, c, d, z, ssmState, slots, y);
        }

        @Override
        public void ssd(int batch, int seqlen, int heads, int headDim, int groups, int state, int chunkSize, Strided x, Strided dt,
                        Tensor dtBias, Tensor aLog, Strided b, Strided c, Tensor d, Strided z, float dtMin, float dtMax,
                        MemorySegment ssmState, int[] slots, Strided y) {
            inner.ssd(batch, seqlen, heads, headDim, groups, state, chunkSize, x, dt, dtBias, aLog, b, c, d, z, dtMin, dtMax,
                    ssmState, slots, y);
        }

        @Override
        public void rope(int batch, int seqlen, int qHeads, int kvHeads, int headDim, Mixer.Rope rope, Strided q, Strided k,
                         int[] startPos) {
            inner.rope(batch, seqlen, qHeads, kvHeads, headDim, rope, q, k, startPos);
        }

        @Override
        public void attention(int batch, int seqlen, int qHeads, int kvHeads, int headDim, int capacity, Strided q, Strided k,
                              Strided v, MemorySegment kCache, MemorySegment vCache, int[] slots, int[] startPos, Strided out,
                              float scale) {
            inner.attention(batch, seqlen, qHeads, kvHeads, headDim, capacity, q, k, v, kCache, vCache, slots, startPos, out, scale);
        }

        @Override
        public void activation(int rows, int dim, Mixer.Activation kind, MemorySegment gate, long gateStride, MemorySegment up,
                               long upStride, MemorySegment y, long yStride) {
            inner.activation(rows, dim, kind, gate, gateStride, up, upStride, y, yStride);
        }

        @Override
        public void embedding(int count, int[] ids, Tensor table, MemorySegment out, long outStride) {
            inner.embedding(count, ids, table, out, outStride);
        }
    }

    static final Path LLAMA = Fixture.ROOT.resolve("llama");

    /** The logits of a full forward over the llama fixture's first sequence, stored as in {@code dir}. */
    static float[][] logits(Path dir, Recording kernels) {
        try (Model m = Model.load(dir, kernels); Session s = m.newSession(1, 64)) {
            return s.prefillAll(s.join(), Fixture.load("llama").sequence(0));
        }
    }

    static void assertAllMapped(Recording k) {
        assertTrue(!k.weights().isEmpty());
        for (Tensor w : k.weights()) assertTrue(w.data().isMapped(), w + " is a copy, not a view of the checkpoint file");
    }

    @Test
    void llamaReadsEveryMatrixFromTheFileAndMergesAdjacentParts() {
        Recording k = new Recording(new JavaKernels());
        logits(LLAMA, k);
        assertAllMapped(k);
        // the fixture's file order per layer: mlp.down, gate, up, ..., self_attn.k, o, q, v (sorted by name):
        // gate+up and q+v are back to back, k stands alone
        String l0 = "model.layers.0.", l1 = "model.layers.1.";
        assertEquals(List.of(l0 + "self_attn.k_proj.weight [32]", l0 + "self_attn.qkv_proj [96]", l0 + "self_attn.o_proj.weight [64]",
                l0 + "mlp.gate_up_proj [256]", l0 + "mlp.down_proj.weight [64]",
                l1 + "self_attn.k_proj.weight [32]", l1 + "self_attn.qkv_proj [96]", l1 + "self_attn.o_proj.weight [64]",
                l1 + "mlp.gate_up_proj [256]", l1 + "mlp.down_proj.weight [64]", "lm_head.weight [256]"), k.calls());
    }

    /** The llama fixture's tensors written in another order: reversed, or sorted by reversed name (no two parts of a layer adjacent). */
    static Path reordered(Path dir, Comparator<String> order) throws IOException {
        Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(LLAMA)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            c.tensors().keySet().stream().sorted(order).forEach(n -> tensors.put(n, c.tensors().get(n)));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of());
        }
        return dir;
    }

    @Test
    void reversedOrderMergesTheOtherWayAndGivesIdenticalLogits(@TempDir Path dir) throws IOException {
        Recording stored = new Recording(new JavaKernels()), reversed = new Recording(new JavaKernels());
        float[][] want = logits(LLAMA, stored);
        float[][] got = logits(reordered(dir, Comparator.<String>naturalOrder().reversed()), reversed);
        for (int r = 0; r < want.length; r++) assertArrayEquals(want[r], got[r], "row " + r);
        assertAllMapped(reversed);
        assertTrue(reversed.calls().contains("model.layers.0.self_attn.qkv_proj [96]"), "v+q merged: " + reversed.calls());
        assertTrue(reversed.calls().contains("model.layers.0.mlp.gate_up_proj [256]"), "up+gate merged: " + reversed.calls());
        assertEquals(stored.weights().size(), reversed.weights().size());
    }

    @Test
    void scatteredPartsRunOneMatmulEachAndGiveIdenticalLogits(@TempDir Path dir) throws IOException {
        Recording stored = new Recording(new JavaKernels()), scattered = new Recording(new JavaKernels());
        float[][] want = logits(LLAMA, stored);
        Comparator<String> byReversedName = Comparator.comparing(n -> new StringBuilder(n).reverse().toString());
        float[][] got = logits(reordered(dir, byReversedName), scattered);
        for (int r = 0; r < want.length; r++) assertArrayEquals(want[r], got[r], "row " + r);
        assertAllMapped(scattered);
        // per layer q, k, v, o, gate, up, down: 7 calls; 2 layers and the head
        assertEquals(2 * 7 + 1, scattered.weights().size(), scattered.calls().toString());
        assertEquals(2 * 5 + 1, stored.weights().size());
    }

    @Test
    void scatteredPartsMatchTheReferenceOnNativeKernels(@TempDir Path dir) throws IOException {
        Comparator<String> byReversedName = Comparator.comparing(n -> new StringBuilder(n).reverse().toString());
        try (NativeKernels nk = new NativeKernels()) {
            Recording k = new Recording(nk);
            ParityTest.assertClose("llama scattered, native", logits(reordered(dir, byReversedName), k),
                    Fixture.load("llama").logits().get(0));
            assertEquals(2 * 7 + 1, k.weights().size());
        }
    }

    @Test
    void granitesStoredGateUpMatrixIsOneCall() {
        Recording k = new Recording(new JavaKernels());
        try (Model m = Model.load(Fixture.ROOT.resolve("granitemoehybrid"), k); Session s = m.newSession(1, 8)) {
            s.prefill(s.join(), new int[] {3, 4});
        }
        List<Tensor> gateUp = k.weights().stream().filter(w -> w.name().endsWith("shared_mlp.input_linear.weight")).toList();
        assertEquals(3, gateUp.size(), "one call per layer: " + k.calls());
        for (Tensor w : gateUp) {
            assertEquals(128, w.dim(0), "gate and up in one call");
            assertTrue(w.data().isMapped());
        }
    }

    /**
     * llama with attention and MLP biases (random, fp32) written after all weights, so that
     * q+v and gate+up still merge and carry one fused bias vector each, or scattered so that
     * every part runs alone with its own bias: the logits are identical, and differ from
     * the fixture's (the biases count).
     */
    @Test
    void mergedPartsCarryTheirBiases(@TempDir Path dir) throws IOException {
        Path after = Files.createDirectory(dir.resolve("after")), scattered = Files.createDirectory(dir.resolve("scattered"));
        String config = Files.readString(LLAMA.resolve("config.json")).replace("\"attention_bias\": false", "\"attention_bias\": true")
                .replace("\"mlp_bias\": false", "\"mlp_bias\": true");
        try (Checkpoint c = Checkpoint.open(LLAMA); Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> weights = new TreeMap<>(c.tensors()), biases = new TreeMap<>();
            var random = new Random(7);
            for (var e : c.tensors().entrySet())
                if (e.getKey().contains("_proj.weight")) {
                    String name = e.getKey().replace(".weight", ".bias");
                    Tensor b = Tensor.allocate(arena, name, DType.F32, e.getValue().dim(0));
                    for (int i = 0; i < b.numel(); i++) b.setFloat(i, (float) random.nextGaussian() * 0.5f);
                    biases.put(name, b);
                }
            Map<String, Tensor> all = new LinkedHashMap<>(weights);
            all.putAll(biases);
            Files.writeString(after.resolve("config.json"), config);
            SafetensorsWriter.write(after.resolve("model.safetensors"), all, Map.of());
            Map<String, Tensor> byReversedName = new TreeMap<>(Comparator.comparing(n -> new StringBuilder(n).reverse().toString()));
            byReversedName.putAll(all);
            Files.writeString(scattered.resolve("config.json"), config);
            SafetensorsWriter.write(scattered.resolve("model.safetensors"), byReversedName, Map.of());
        }
        Recording merged = new Recording(new JavaKernels()), alone = new Recording(new JavaKernels());
        float[][] want = logits(scattered, alone), got = logits(after, merged);
        for (int r = 0; r < want.length; r++) assertArrayEquals(want[r], got[r], "row " + r);
        assertEquals(2 * 5 + 1, merged.weights().size(), merged.calls().toString());
        assertEquals(2 * 7 + 1, alone.weights().size(), alone.calls().toString());
        float[][] unbiased = logits(LLAMA, new Recording(new JavaKernels()));
        assertTrue(Fixture.relError(got, unbiased) > 1e-2, "the biases change the logits");
    }
}
