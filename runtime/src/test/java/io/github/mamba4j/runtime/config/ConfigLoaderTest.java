package io.github.mamba4j.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "mamba, MAMBA, mmm",
        "mamba2, MAMBA2, MMM",
        "nemotron_h, NEMOTRON_H, M*-M-",
        "nemotron_h_sharded, NEMOTRON_H, M*-M-",
        "llama, LLAMA, *-*-",
        "bamba, BAMBA, M-*-M-",
        "granitemoehybrid, GRANITE_MOE_HYBRID, M-*-M-"})
    void fixtureConfigs(String dir, Family family, String pattern) {
        ModelConfig c = ConfigLoader.load(FIXTURES.resolve(dir));
        assertEquals(family, c.family());
        assertEquals(pattern, c.pattern());
        assertEquals(256, c.vocabSize());
        assertEquals(64, c.hidden());
    }

    @Test
    void mambaDetails() {
        ModelConfig c = ConfigLoader.load(FIXTURES.resolve("mamba"));
        Mixer.Mamba1 m = assertInstanceOf(Mixer.Mamba1.class, c.blocks().getFirst().mixer());
        assertEquals(128, m.inner());
        assertEquals(8, m.state());
        assertEquals(4, m.dtRank());
        assertTrue(c.tieEmbeddings());
    }

    @Test
    void mamba2NormsOverAllOfE_NemotronPerGroup() {
        Mixer.Mamba2 hf = (Mixer.Mamba2) ConfigLoader.load(FIXTURES.resolve("mamba2")).blocks().getFirst().mixer();
        assertEquals(128, hf.normGroupSize());
        assertEquals(2, hf.groups());
        assertEquals(8, hf.chunkSize());
        assertEquals(Float.POSITIVE_INFINITY, hf.dtMax()); // {"__float__": "Infinity"}
        Mixer.Mamba2 nh = (Mixer.Mamba2) ConfigLoader.load(FIXTURES.resolve("nemotron_h")).blocks().getFirst().mixer();
        assertEquals(64, nh.normGroupSize());
        assertEquals(328, nh.inProjRows());
    }

    @Test
    void granite() {
        ModelConfig c = ConfigLoader.load(FIXTURES.resolve("granitemoehybrid"));
        assertEquals(2f, c.embeddingScale());
        assertEquals(1.5f, c.logitsScale());
        Mixer.Attention a = (Mixer.Attention) c.blocks().get(2).mixer();
        assertEquals(0.3f, a.scale());
        assertNull(a.rope());
        assertEquals(0.5f, c.blocks().get(2).residualScale());
        Mixer.Mlp mlp = (Mixer.Mlp) c.blocks().get(1).mixer();
        assertEquals("model.layers.0.shared_mlp.input_linear.weight", mlp.gateUp());
    }

    @Test
    void bambaPartialRotary() {
        Mixer.Attention a = (Mixer.Attention) ConfigLoader.load(FIXTURES.resolve("bamba")).blocks().get(2).mixer();
        assertEquals(8, a.rope().rotaryDim());
        assertEquals(10000f, a.rope().theta());
    }

    static final String LLAMA4 = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
         "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "rms_norm_eps": 1e-5,
         "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}, "torch_dtype": "bfloat16",
         "tie_word_embeddings": true, "vocab_size": 49152, "eos_token_id": [0, 2], "bos_token_id": 1}""";

    @Test
    void transformers4Spellings() {
        ModelConfig c = ConfigLoader.parse(LLAMA4, "test");
        assertEquals("bfloat16", c.dtype());
        assertEquals(List.of(0, 2), c.eosTokenIds());
        assertTrue(c.tieEmbeddings());
        Mixer.Attention a = (Mixer.Attention) c.blocks().getFirst().mixer();
        assertEquals(64, a.headDim());
        assertEquals(3, a.kvHeads());
        assertEquals(500000f, a.rope().theta());
        assertEquals(32f, a.rope().llama3().factor());
        assertEquals(8192, a.rope().llama3().originalMaxPosition());
        assertEquals(60, c.blocks().size());
    }

    @Test
    void transformers5Spellings() {
        ModelConfig c = ConfigLoader.load(FIXTURES.resolve("llama"));
        assertEquals("float32", c.dtype());
        Mixer.Attention a = (Mixer.Attention) c.blocks().getFirst().mixer();
        assertEquals(8f, a.rope().llama3().factor());
        assertEquals(16, a.rope().rotaryDim());
    }

    static final String NEMOTRON = """
        {"model_type": "nemotron_h", "hidden_size": 64, "vocab_size": 100, "num_attention_heads": 4,
         "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128, "ssm_state_size": 16, "mamba_num_heads": 8,
         "mamba_head_dim": 16, "n_groups": 2, "conv_kernel": 4, "chunk_size": 8, "layer_norm_epsilon": 1e-5,
         "time_step_limit": [0.0, "Infinity"], %s}""";

    @Test
    void nemotronPatternStringAndListAgree() {
        ModelConfig s = ConfigLoader.parse(NEMOTRON.formatted("\"hybrid_override_pattern\": \"M-M*-\""), "s");
        ModelConfig l = ConfigLoader.parse(NEMOTRON.formatted("\"layers_block_type\": [\"linear_attention\", \"mlp\", "
                + "\"linear_attention\", \"full_attention\", \"mlp\"]"), "l");
        assertEquals("M-M*-", s.pattern());
        assertEquals(s.blocks(), l.blocks());
    }

    @Test
    void moeIsRefusedClearly() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(NEMOTRON.formatted("\"hybrid_override_pattern\": \"ME\""), "t"));
        assertTrue(e.getMessage().contains("mixture of experts"), e.getMessage());
        String granite = """
            {"model_type": "granitemoehybrid", "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
             "rms_norm_eps": 1e-6, "num_local_experts": 8, "vocab_size": 10}""";
        ConfigException g = assertThrows(ConfigException.class, () -> ConfigLoader.parse(granite, "g"));
        assertTrue(g.getMessage().contains("mixture-of-experts"), g.getMessage());
    }

    @Test
    void missingKeyIsNamed() {
        String noHidden = LLAMA4.replace("\"hidden_size\": 576,", "");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(noHidden, "cfg.json"));
        assertTrue(e.getMessage().contains("missing key \"hidden_size\""), e.getMessage());
        assertTrue(e.getMessage().startsWith("cfg.json"), e.getMessage());
    }

    @Test
    void unknownModelTypeListsTheSupportedOnes() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"]}", "c"));
        assertTrue(e.getMessage().contains("unsupported model_type \"gpt2\""), e.getMessage());
        for (Family f : Family.values()) assertTrue(e.getMessage().contains(f.modelType()), e.getMessage());
    }

    @Test
    void unsupportedRopeTypeIsRefused() {
        String yarn = LLAMA4.replace("\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\"");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yarn, "c"));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
    }

    @Test
    void pythonsBareInfinity() {
        String m2 = """
            {"model_type": "mamba2", "hidden_size": 768, "num_hidden_layers": 24, "state_size": 128, "expand": 2,
             "head_dim": 64, "num_heads": 24, "n_groups": 1, "conv_kernel": 4, "chunk_size": 256,
             "layer_norm_epsilon": 1e-5, "vocab_size": 50288, "time_step_limit": [0.0, Infinity], "torch_dtype": "float32"}""";
        Mixer.Mamba2 m = (Mixer.Mamba2) ConfigLoader.parse(m2, "t").blocks().getFirst().mixer();
        assertEquals(Float.POSITIVE_INFINITY, m.dtMax());
        assertEquals(1536, m.normGroupSize());
    }

    @Test
    void invalidJson() {
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("{\"model_type\": ", "c"));
    }
}
