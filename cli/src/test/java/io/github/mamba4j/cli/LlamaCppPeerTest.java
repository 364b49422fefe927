package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GGUF files the llama.cpp peer benchmarks, made from the transformers-written fixtures:
 * the tensor names, dims and metadata llama.cpp's loaders read, matrices bit for bit, and the
 * values that are transformed on the way (A = -exp(A_log), RoPE row order).
 */
class LlamaCppPeerTest {
    static final Path FIXTURES = CliTest.ROOT.resolve("runtime/src/test/resources/fixtures");

    static GgufWriterTest.Gguf gguf(Path model, Path dir) throws IOException {
        Path out = dir.resolve("model.gguf");
        LlamaCppPeer.writeGguf(model, out);
        return GgufWriterTest.Gguf.read(out);
    }

    static Set<String> layerTensors(int layer, String... names) {
        Set<String> s = new TreeSet<>();
        for (String n : names) s.add("blk." + layer + "." + n);
        return s;
    }

    static void assertSameBytes(Tensor expected, GgufWriterTest.Gguf g, String name) {
        assertArrayEquals(expected.data().asSlice(0, expected.byteSize()).toArray(ValueLayout.JAVA_BYTE),
                g.tensors().get(name).data(), name);
    }

    @Test
    void mambaTensorsAndKeys(@TempDir Path dir) throws IOException {
        Path model = FIXTURES.resolve("mamba");
        GgufWriterTest.Gguf g = gguf(model, dir);
        Set<String> expected = new TreeSet<>(List.of("token_embd.weight", "output_norm.weight")); // tied: no output.weight
        for (int l = 0; l < 3; l++)
            expected.addAll(layerTensors(l, "attn_norm.weight", "ssm_in.weight", "ssm_conv1d.weight", "ssm_conv1d.bias",
                    "ssm_x.weight", "ssm_dt.weight", "ssm_dt.bias", "ssm_a", "ssm_d", "ssm_out.weight"));
        assertEquals(expected, g.tensors().keySet());
        assertEquals("mamba", g.metadata().get("general.architecture"));
        assertEquals(3, g.metadata().get("mamba.block_count"));
        assertEquals(64, g.metadata().get("mamba.embedding_length"));
        assertEquals(256, g.metadata().get("mamba.vocab_size"));
        assertEquals(128, g.metadata().get("mamba.ssm.inner_size"));
        assertEquals(8, g.metadata().get("mamba.ssm.state_size"));
        assertEquals(4, g.metadata().get("mamba.ssm.time_step_rank"));
        assertEquals(4, g.metadata().get("mamba.ssm.conv_kernel"));
        assertEquals("none", g.metadata().get("tokenizer.ggml.model"));
        assertArrayEquals(new long[] {64, 256}, g.tensors().get("blk.1.ssm_in.weight").ne());
        assertArrayEquals(new long[] {4, 128}, g.tensors().get("blk.0.ssm_conv1d.weight").ne());
        assertArrayEquals(new long[] {8, 128}, g.tensors().get("blk.2.ssm_a").ne());
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            assertSameBytes(ckpt.find("backbone.layers.1.mixer.x_proj.weight").orElseThrow(), g, "blk.1.ssm_x.weight");
            assertSameBytes(ckpt.find("backbone.embeddings.weight").orElseThrow(), g, "token_embd.weight");
            Tensor aLog = ckpt.find("backbone.layers.2.mixer.A_log").orElseThrow();
            for (int i : new int[] {0, 17, 1023}) assertEquals(-Math.exp(aLog.getFloat(i)), g.f32("blk.2.ssm_a", i), 1e-6);
            Tensor conv = ckpt.find("backbone.layers.0.mixer.conv1d.weight").orElseThrow(); // [E, 1, K] = {K, E} innermost first
            assertEquals(conv.getFloat(5 * 4 + 3), g.f32("blk.0.ssm_conv1d.weight", 5 * 4 + 3));
        }
    }

    @Test
    void nemotronHLayerKindsFollowThePattern(@TempDir Path dir) throws IOException {
        GgufWriterTest.Gguf g = gguf(FIXTURES.resolve("nemotron_h"), dir);
        // pattern M * - M -: llama.cpp reads kv heads 0 and ff 0 as a Mamba-2 layer
        assertArrayEquals(new int[] {0, 2, 0, 0, 0}, (int[]) g.metadata().get("nemotron_h.attention.head_count_kv"));
        assertArrayEquals(new int[] {0, 0, 128, 0, 128}, (int[]) g.metadata().get("nemotron_h.feed_forward_length"));
        assertEquals(4, g.metadata().get("nemotron_h.attention.head_count"));
        assertEquals(16, g.metadata().get("nemotron_h.attention.key_length"));
        assertEquals(2, g.metadata().get("nemotron_h.ssm.group_count"));
        assertEquals(8, g.metadata().get("nemotron_h.ssm.time_step_rank"));
        Set<String> expected = new TreeSet<>(List.of("token_embd.weight", "output_norm.weight", "output.weight"));
        for (int l : new int[] {0, 3})
            expected.addAll(layerTensors(l, "attn_norm.weight", "ssm_in.weight", "ssm_conv1d.weight", "ssm_conv1d.bias",
                    "ssm_dt.bias", "ssm_a", "ssm_d", "ssm_norm.weight", "ssm_out.weight"));
        expected.addAll(layerTensors(1, "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"));
        for (int l : new int[] {2, 4}) expected.addAll(layerTensors(l, "attn_norm.weight", "ffn_up.weight", "ffn_down.weight"));
        assertEquals(expected, g.tensors().keySet());
        assertArrayEquals(new long[] {64, 2}, g.tensors().get("blk.0.ssm_norm.weight").ne(), "per group of E/G");
        assertArrayEquals(new long[] {1, 8}, g.tensors().get("blk.3.ssm_a").ne());
        assertArrayEquals(new long[] {64, 32}, g.tensors().get("blk.1.attn_k.weight").ne());
    }

    @Test
    void llamaRopeRowsArePairedAdjacently(@TempDir Path dir) throws IOException {
        // the fixture's llama3 RoPE scaling is not mapped: the same weights with plain RoPE
        Path model = dir.resolve("llama");
        Files.createDirectories(model);
        Path fixture = FIXTURES.resolve("llama");
        Files.copy(fixture.resolve("model.safetensors"), model.resolve("model.safetensors"));
        String config = Files.readString(fixture.resolve("config.json"));
        assertThrows(IllegalArgumentException.class, () -> LlamaCppPeer.writeGguf(fixture, dir.resolve("scaled.gguf")));
        Files.writeString(model.resolve("config.json"), config.replaceAll("\"rope_type\": \"llama3\"", "\"rope_type\": \"default\""));
        GgufWriterTest.Gguf g = gguf(model, dir);
        assertEquals(16, g.metadata().get("llama.rope.dimension_count"));
        assertEquals(10000f, g.metadata().get("llama.rope.freq_base"));
        assertArrayEquals(new int[] {128, 128}, (int[]) g.metadata().get("llama.feed_forward_length"));
        assertTrue(g.tensors().containsKey("blk.1.ffn_norm.weight") && g.tensors().containsKey("blk.1.ffn_gate.weight"));
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            Tensor k = ckpt.find("model.layers.0.self_attn.k_proj.weight").orElseThrow(); // [2 heads · 16, 64]
            int d = 16, cols = 64;
            for (int head = 0; head < 2; head++)
                for (int i = 0; i < d / 2; i++)
                    for (int s = 0; s < 2; s++)
                        for (int c : new int[] {0, 63})
                            assertEquals(k.getFloat((long) (head * d + s * d / 2 + i) * cols + c),
                                    g.f32("blk.0.attn_k.weight", (head * d + 2 * i + s) * cols + c));
            assertSameBytes(ckpt.find("model.layers.0.self_attn.v_proj.weight").orElseThrow(), g, "blk.0.attn_v.weight");
        }
    }

    @Test
    void refusesWhatLlamaCppWouldComputeDifferently(@TempDir Path dir) {
        // HF Mamba2ForCausalLM normalises the gate over all of E; llama.cpp per group (this fixture has 2)
        var e = assertThrows(IllegalArgumentException.class, () -> gguf(FIXTURES.resolve("mamba2"), dir));
        assertEquals("llama.cpp normalises per group of E/G = 64, this checkpoint over 128", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> gguf(FIXTURES.resolve("bamba"), dir));
        assertTrue(f.getMessage().startsWith("no llama.cpp GGUF mapping for family bamba"), f.getMessage());
    }

    @Test
    void parsesLlamaBenchCsv() {
        assertEquals(List.of("build_commit", "n_prompt", "avg_ts"), LlamaCppPeer.csv("build_commit,n_prompt,avg_ts"));
        assertEquals(List.of("81ff7ab", "AMD EPYC, 2 \"cores\"", "512", "1234.5"),
                LlamaCppPeer.csv("\"81ff7ab\",\"AMD EPYC, 2 \"\"cores\"\"\",\"512\",\"1234.5\""));
    }
}
