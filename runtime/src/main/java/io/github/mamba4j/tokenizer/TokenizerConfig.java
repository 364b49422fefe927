package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/**
 * What mamba4j reads from {@code tokenizer_config.json}: the bos/eos/unk/pad token strings,
 * {@code add_bos_token}/{@code add_eos_token} when given, the chat template and
 * {@code model_max_length}. Token fields may be strings or added-token objects ({"content": ...}).
 */
public record TokenizerConfig(Optional<String> bosToken, Optional<String> eosToken, Optional<String> unkToken,
                              Optional<String> padToken, Optional<Boolean> addBosToken, Optional<Boolean> addEosToken,
                              Optional<String> chatTemplate, Optional<Long> modelMaxLength) {

    public static TokenizerConfig empty() {
        return new TokenizerConfig(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** This config with another chat template (from chat_template.jinja, say). */
    public TokenizerConfig withChatTemplate(String template) {
        return new TokenizerConfig(bosToken, eosToken, unkToken, padToken, addBosToken, addEosToken,
                Optional.ofNullable(template), modelMaxLength);
    }

    static TokenizerConfig fromJson(JsonNode root, String where) {
        if (root == null || !root.isObject()) throw new TokenizerException(where + ": expected a JSON object at the top");
        return new TokenizerConfig(token(root, "bos_token", where), token(root, "eos_token", where),
                token(root, "unk_token", where), token(root, "pad_token", where),
                bool(root, "add_bos_token", where), bool(root, "add_eos_token", where),
                chatTemplate(root.get("chat_template"), where), maxLength(root.get("model_max_length")));
    }

    private static Optional<String> token(JsonNode root, String field, String where) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return Optional.empty();
        if (v.isTextual()) return Optional.of(v.asText());
        if (v.isObject() && v.path("content").isTextual()) return Optional.of(v.get("content").asText());
        throw new TokenizerException(where + ": " + field + " is neither a string nor {\"content\": ...}");
    }

    private static Optional<Boolean> bool(JsonNode root, String field, String where) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return Optional.empty();
        if (!v.isBoolean()) throw new TokenizerException(where + ": " + field + " is not true or false");
        return Optional.of(v.asBoolean());
    }

    /** A string, or a list of {name, template} of which "default" (else the first) is taken. */
    private static Optional<String> chatTemplate(JsonNode v, String where) {
        if (v == null || v.isNull()) return Optional.empty();
        if (v.isTextual()) return Optional.of(v.asText());
        if (v.isArray()) {
            for (JsonNode t : v) if ("default".equals(t.path("name").asText())) return Optional.of(t.path("template").asText());
            if (!v.isEmpty() && v.get(0).path("template").isTextual()) return Optional.of(v.get(0).get("template").asText());
        }
        throw new TokenizerException(where + ": chat_template is neither a string nor a list of {name, template}");
    }

    private static Optional<Long> maxLength(JsonNode v) {
        if (v == null || !v.isNumber()) return Optional.empty();
        double d = v.asDouble();
        return Optional.of(d >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) d);
    }
}
