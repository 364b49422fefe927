package io.github.mamba4j.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a Hugging Face config.json into a {@link ModelConfig}. Accepts the spellings of
 * transformers 4 and 5: {@code torch_dtype}/{@code dtype}, {@code rope_theta} +
 * {@code rope_scaling} / {@code rope_parameters}, infinity as {@code {"__float__":
 * "Infinity"}} or Python's bare {@code Infinity}, Nemotron-H's {@code hybrid_override_pattern} / {@code layers_block_type},
 * Granite's {@code mamba}/{@code attention} / {@code linear_attention}/{@code full_attention}.
 */
public final class ConfigLoader {
    /** Python's json writes float('inf') as a bare Infinity (transformers 4 configs): accept it. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final JsonNode root;
    private final String source;
    private final Family family;

    private ConfigLoader(JsonNode root, String source) {
        this.root = root;
        this.source = source;
        String modelType = root.path("model_type").asText(null);
        Family f = modelType == null ? null : Family.ofModelType(modelType).orElse(null);
        if (f == null && root.path("architectures").isArray() && !root.path("architectures").isEmpty())
            f = Family.ofArchitecture(root.path("architectures").get(0).asText()).orElse(null);
        if (f == null)
            throw new ConfigException(source + ": unsupported model_type \"" + modelType + "\""
                    + (root.has("architectures") ? " (architectures " + root.get("architectures") + ")" : "")
                    + "; supported: " + Family.supported());
        this.family = f;
    }

    /** Reads {@code dir/config.json} (or the file itself). */
    public static ModelConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        try {
            return parse(Files.readString(file), file.toString());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file (a model folder holds config.json and its safetensors)", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static ModelConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new ConfigException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ConfigException(source + ": not a JSON object");
        return new ConfigLoader(root, source).build();
    }

    // ------------------------------------------------------------------ key access

    private ConfigException missing(String key) {
        return new ConfigException(source + ": missing key \"" + key + "\" (needed for " + family.modelType() + ")");
    }

    private JsonNode node(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw missing(key);
        return n;
    }

    private boolean has(String key) {
        return root.has(key) && !root.get(key).isNull();
    }

    private int integer(String key) {
        JsonNode n = node(key);
        if (!n.canConvertToInt() || !n.isIntegralNumber())
            throw new ConfigException(source + ": \"" + key + "\" is " + n + ", not an integer");
        return n.asInt();
    }

    private int integer(String key, int fallback) {
        return has(key) ? integer(key) : fallback;
    }

    private float number(String key, float fallback) {
        return has(key) ? number(root.get(key), key) : fallback;
    }

    private float number(String key) {
        return number(node(key), key);
    }

    /** A number, or infinity written as {"__float__": "Infinity"} (transformers 5) or "Infinity". */
    private float number(JsonNode n, String key) {
        if (n.isNumber()) return (float) n.asDouble();
        String text = n.isObject() && n.has("__float__") ? n.get("__float__").asText() : n.isTextual() ? n.asText() : null;
        if (text != null)
            switch (text) {
                case "Infinity", "inf", "+inf" -> { return Float.POSITIVE_INFINITY; }
                case "-Infinity", "-inf" -> { return Float.NEGATIVE_INFINITY; }
                default -> {
                    try {
                        return Float.parseFloat(text);
                    } catch (NumberFormatException ignored) {
                        // reported below
                    }
                }
            }
        throw new ConfigException(source + ": \"" + key + "\" is " + n + ", not a number");
    }

    private boolean bool(String key, boolean fallback) {
        if (!has(key)) return fallback;
        JsonNode n = root.get(key);
        if (!n.isBoolean()) throw new ConfigException(source + ": \"" + key + "\" is " + n + ", not true/false");
        return n.asBoolean();
    }

    private String text(String key, String fallback) {
        return has(key) ? root.get(key).asText() : fallback;
    }

    private float[] timeStepLimit() {
        if (!has("time_step_limit")) return new float[] {0f, Float.POSITIVE_INFINITY};
        JsonNode n = root.get("time_step_limit");
        if (!n.isArray() || n.size() != 2) throw new ConfigException(source + ": \"time_step_limit\" is not a pair");
        return new float[] {number(n.get(0), "time_step_limit"), number(n.get(1), "time_step_limit")};
    }

    private List<Integer> eos() {
        List<Integer> ids = new ArrayList<>();
        JsonNode n = root.get("eos_token_id");
        if (n != null && n.isArray()) n.forEach(x -> ids.add(x.asInt()));
        else if (n != null && n.isIntegralNumber()) ids.add(n.asInt());
        return ids;
    }

    // ------------------------------------------------------------------ families

    private ModelConfig build() {
        return switch (family) {
            case MAMBA -> mamba();
            case MAMBA2 -> mamba2();
            case NEMOTRON_H -> nemotronH();
            case LLAMA -> llama();
            case BAMBA, GRANITE_MOE_HYBRID -> ibmHybrid();
        };
    }

    private ModelConfig model(int vocab, int hidden, List<Block> blocks, float eps, List<String> embedding, String finalNorm,
                              boolean tieDefault, float embeddingScale, float logitsScale) {
        return new ModelConfig(family, vocab, hidden, blocks, eps, embedding, finalNorm, "lm_head.weight",
                bool("tie_word_embeddings", tieDefault), embeddingScale, logitsScale, integer("max_position_embeddings", 0),
                eos(), has("bos_token_id") ? root.get("bos_token_id").asInt() : null,
                text("dtype", text("torch_dtype", "float32")));
    }

    private ModelConfig mamba() {
        int d = integer("hidden_size"), layers = integer("num_hidden_layers"), n = integer("state_size");
        int e = has("intermediate_size") ? integer("intermediate_size") : integer("expand") * d;
        JsonNode rank = node("time_step_rank");
        int dtRank = rank.isTextual() && rank.asText().equals("auto") ? (d + 15) / 16 : integer("time_step_rank");
        int k = integer("conv_kernel");
        float eps = number("layer_norm_epsilon");
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String p = "backbone.layers." + i + ".";
            blocks.add(new Block(i, p + "norm.weight", new Mixer.Mamba1(p + "mixer.", e, n, dtRank, k,
                    bool("use_conv_bias", true), bool("use_bias", false)), 1f));
        }
        return model(integer("vocab_size"), d, blocks, eps, List.of("backbone.embeddings.weight", "backbone.embedding.weight"),
                "backbone.norm_f.weight", true, 1f, 1f);
    }

    private Mixer.Mamba2 mamba2Mixer(String prefix, int d, String headsKey, String headDimKey, String groupsKey, String stateKey,
                                     String convKey, String expandKey, String chunkKey, String convBiasKey, String projBiasKey,
                                     boolean groupedNorm, float eps) {
        int heads = integer(headsKey);
        int e = integer(expandKey) * d;
        int headDim = has(headDimKey) && !root.get(headDimKey).isTextual() ? integer(headDimKey) : e / heads;
        int groups = integer(groupsKey);
        if (heads % groups != 0)
            throw new ConfigException(source + ": " + headsKey + " " + heads + " is not a multiple of " + groupsKey + " " + groups);
        float[] limit = timeStepLimit();
        int inner = heads * headDim;
        return new Mixer.Mamba2(prefix, heads, headDim, groups, integer(stateKey), integer(convKey), integer(chunkKey), limit[0],
                limit[1], groupedNorm ? inner / groups : inner, eps, bool(convBiasKey, true), bool(projBiasKey, false));
    }

    private ModelConfig mamba2() {
        int d = integer("hidden_size"), layers = integer("num_hidden_layers");
        float eps = number("layer_norm_epsilon");
        if (!bool("rms_norm", true)) throw new ConfigException(source + ": rms_norm false (Mamba-2 without its gated norm) is not supported");
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String p = "backbone.layers." + i + ".";
            // HF Mamba2ForCausalLM normalises over all of E (MambaRMSNormGated, transformers 5.17)
            Mixer.Mamba2 m = mamba2Mixer(p + "mixer.", d, "num_heads", "head_dim", "n_groups", "state_size", "conv_kernel",
                    "expand", "chunk_size", "use_conv_bias", "use_bias", false, eps);
            if (m.inner() != integer("expand") * d)
                throw new ConfigException(source + ": num_heads × head_dim = " + m.inner() + " but expand × hidden_size = "
                        + integer("expand") * d);
            blocks.add(new Block(i, p + "norm.weight", m, 1f));
        }
        return model(integer("vocab_size"), d, blocks, eps, List.of("backbone.embeddings.weight", "backbone.embedding.weight"),
                "backbone.norm_f.weight", true, 1f, 1f);
    }

    /** Nemotron-H letters: M Mamba-2, * attention, - MLP, E MoE. */
    private String nemotronPattern() {
        if (has("hybrid_override_pattern")) return root.get("hybrid_override_pattern").asText();
        String key = has("layers_block_type") ? "layers_block_type" : has("layer_types") ? "layer_types" : null;
        if (key == null) throw missing("hybrid_override_pattern\" or \"layers_block_type");
        StringBuilder s = new StringBuilder();
        for (JsonNode t : root.get(key))
            s.append(switch (t.asText()) {
                case "mamba", "linear_attention", "M" -> 'M';
                case "attention", "full_attention", "*" -> '*';
                case "mlp", "-" -> '-';
                case "moe", "E" -> 'E';
                default -> throw new ConfigException(source + ": unknown layer type \"" + t.asText() + "\" in " + key);
            });
        return s.toString();
    }

    private ModelConfig nemotronH() {
        int d = integer("hidden_size");
        float eps = number("layer_norm_epsilon");
        String pattern = nemotronPattern();
        int heads = integer("num_attention_heads");
        int kvHeads = integer("num_key_value_heads", heads);
        int headDim = integer("head_dim", d / heads);
        String act = text("mlp_hidden_act", "relu2");
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < pattern.length(); i++) {
            String p = "backbone.layers." + i + ".";
            Mixer m = switch (pattern.charAt(i)) {
                case 'M' -> {
                    int h = integer("mamba_num_heads"), pd = integer("mamba_head_dim"), g = integer("n_groups");
                    // transformers' NemotronHMamba2Mixer clamps dt to (time_step_min, inf), not to
                    // time_step_limit (its chunked path; its single-token path does not clamp)
                    float dtMin = number("time_step_min", 0.001f);
                    yield new Mixer.Mamba2(p + "mixer.", h, pd, g, integer("ssm_state_size"), integer("conv_kernel"),
                            integer("chunk_size"), dtMin, Float.POSITIVE_INFINITY, h * pd / g, eps, bool("use_conv_bias", true),
                            bool("mamba_proj_bias", bool("use_bias", false)));
                }
                case '*' -> new Mixer.Attention(p + "mixer.", heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)), null,
                        bool("attention_bias", false));
                case '-' -> {
                    if (!act.equals("relu2"))
                        throw new ConfigException(source + ": mlp_hidden_act \"" + act + "\" is not supported (relu2 is)");
                    yield new Mixer.Mlp(p + "mixer.", Mixer.Activation.RELU2, integer("intermediate_size"), null,
                            p + "mixer.up_proj.weight", null, p + "mixer.down_proj.weight", bool("mlp_bias", false));
                }
                case 'E' -> throw new ConfigException(source + ": layer " + i + " is a mixture of experts (E); MoE layers are "
                        + "not supported yet");
                default -> throw new ConfigException(source + ": unknown letter '" + pattern.charAt(i)
                        + "' in hybrid_override_pattern (M, *, -, E)");
            };
            blocks.add(new Block(i, p + "norm.weight", m, 1f));
        }
        return model(integer("vocab_size"), d, blocks, eps, List.of("backbone.embeddings.weight"), "backbone.norm_f.weight",
                false, 1f, 1f);
    }

    /** rope_parameters (transformers 5) or rope_theta + rope_scaling + partial_rotary_factor (4). */
    private Mixer.Rope rope(int headDim, float defaultPartial) {
        JsonNode params = has("rope_parameters") ? root.get("rope_parameters") : null;
        JsonNode scaling = has("rope_scaling") ? root.get("rope_scaling") : params;
        float theta;
        if (params != null && params.has("rope_theta")) theta = number(params.get("rope_theta"), "rope_parameters.rope_theta");
        else if (has("rope_theta")) theta = number("rope_theta");
        else throw missing("rope_theta");
        float partial = defaultPartial;
        if (params != null && params.has("partial_rotary_factor"))
            partial = number(params.get("partial_rotary_factor"), "rope_parameters.partial_rotary_factor");
        else if (has("partial_rotary_factor")) partial = number("partial_rotary_factor");
        Mixer.Llama3 llama3 = null;
        if (scaling != null) {
            String type = scaling.has("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
            switch (type) {
                case "default" -> { }
                case "llama3" -> llama3 = new Mixer.Llama3(number(scaling.get("factor"), "factor"),
                        number(scaling.get("low_freq_factor"), "low_freq_factor"),
                        number(scaling.get("high_freq_factor"), "high_freq_factor"),
                        scaling.get("original_max_position_embeddings").asInt());
                default -> throw new ConfigException(source + ": rope type \"" + type + "\" is not supported (default, llama3 are)");
            }
        }
        return new Mixer.Rope(theta, (int) (headDim * partial), llama3);
    }

    private ModelConfig llama() {
        int d = integer("hidden_size"), layers = integer("num_hidden_layers");
        int heads = integer("num_attention_heads");
        int kvHeads = integer("num_key_value_heads", heads);
        int headDim = integer("head_dim", d / heads);
        float eps = number("rms_norm_eps");
        String act = text("hidden_act", "silu");
        if (!act.equals("silu")) throw new ConfigException(source + ": hidden_act \"" + act + "\" is not supported (silu is)");
        Mixer.Rope rope = rope(headDim, 1f);
        boolean mlpBias = bool("mlp_bias", false);
        int inter = integer("intermediate_size");
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            blocks.add(new Block(i, p + "input_layernorm.weight", new Mixer.Attention(p + "self_attn.", heads, kvHeads, headDim,
                    (float) (1 / Math.sqrt(headDim)), rope, bool("attention_bias", false)), 1f));
            blocks.add(new Block(i, p + "post_attention_layernorm.weight", new Mixer.Mlp(p + "mlp.", Mixer.Activation.SILU_GATE,
                    inter, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", null, p + "mlp.down_proj.weight", mlpBias), 1f));
        }
        return model(integer("vocab_size"), d, blocks, eps, List.of("model.embed_tokens.weight"), "model.norm.weight", false, 1f, 1f);
    }

    /** Bamba and Granite-4.0-H: Mamba-2 or attention, each followed by a SwiGLU feed-forward. */
    private ModelConfig ibmHybrid() {
        boolean granite = family == Family.GRANITE_MOE_HYBRID;
        int d = integer("hidden_size"), layers = integer("num_hidden_layers");
        float eps = number("rms_norm_eps");
        int heads = integer("num_attention_heads");
        int kvHeads = integer("num_key_value_heads", heads);
        int headDim = integer("head_dim", d / heads);
        String act = text("hidden_act", "silu");
        if (!act.equals("silu")) throw new ConfigException(source + ": hidden_act \"" + act + "\" is not supported (silu is)");
        if (granite && integer("num_local_experts", 0) > 0)
            throw new ConfigException(source + ": num_local_experts " + integer("num_local_experts")
                    + ": mixture-of-experts Granite models are not supported yet (dense shared_mlp only, num_local_experts 0)");
        boolean[] attention = new boolean[layers];
        if (has("layer_types") || has("layers_block_type")) {
            JsonNode types = has("layer_types") ? root.get("layer_types") : root.get("layers_block_type");
            if (types.size() != layers)
                throw new ConfigException(source + ": layer_types has " + types.size() + " entries for " + layers + " layers");
            for (int i = 0; i < layers; i++)
                attention[i] = switch (types.get(i).asText()) {
                    case "attention", "full_attention" -> true;
                    case "mamba", "linear_attention" -> false;
                    default -> throw new ConfigException(source + ": unknown layer type \"" + types.get(i).asText() + "\"");
                };
        } else if (has("attn_layer_indices")) {
            for (JsonNode i : root.get("attn_layer_indices")) {
                if (i.asInt() < 0 || i.asInt() >= layers)
                    throw new ConfigException(source + ": attn_layer_indices names layer " + i.asInt() + " of " + layers);
                attention[i.asInt()] = true;
            }
        } else if (!granite) throw missing("attn_layer_indices");
        Mixer.Rope rope = null;
        if (!granite) rope = rope(headDim, 0.5f);
        else if ("rope".equals(text("position_embedding_type", null))) rope = rope(headDim, 1f);
        float scale = granite ? number("attention_multiplier") : (float) (1 / Math.sqrt(headDim));
        float residualScale = granite ? number("residual_multiplier") : 1f;
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            Mixer m = attention[i]
                    ? new Mixer.Attention(p + "self_attn.", heads, kvHeads, headDim, scale, rope, bool("attention_bias", false))
                    : mamba2Mixer(p + "mamba.", d, "mamba_n_heads", "mamba_d_head", "mamba_n_groups", "mamba_d_state",
                            "mamba_d_conv", "mamba_expand", "mamba_chunk_size", "mamba_conv_bias", "mamba_proj_bias", false, eps);
            blocks.add(new Block(i, p + "input_layernorm.weight", m, residualScale));
            Mixer ffn = granite
                    ? new Mixer.Mlp(p + "shared_mlp.", Mixer.Activation.SILU_GATE, integer("shared_intermediate_size"), null, null,
                            p + "shared_mlp.input_linear.weight", p + "shared_mlp.output_linear.weight", false)
                    : new Mixer.Mlp(p + "feed_forward.", Mixer.Activation.SILU_GATE, integer("intermediate_size"),
                            p + "feed_forward.gate_proj.weight", p + "feed_forward.up_proj.weight", null,
                            p + "feed_forward.down_proj.weight", bool("mlp_bias", false));
            blocks.add(new Block(i, p + (granite ? "post_attention_layernorm.weight" : "pre_ff_layernorm.weight"), ffn, residualScale));
        }
        return model(integer("vocab_size"), d, blocks, eps, List.of("model.embed_tokens.weight"),
                granite ? "model.norm.weight" : "model.final_layernorm.weight", false,
                granite ? number("embedding_multiplier", 1f) : 1f, granite ? number("logits_scaling", 1f) : 1f);
    }
}
