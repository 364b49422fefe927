package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Small checked readers for tokenizer.json; {@code where} is the JSON path named in errors. */
final class Json {
    private Json() {}

    static String type(JsonNode node, String where) {
        if (!node.isObject()) throw new TokenizerException(where + ": expected an object");
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) throw new TokenizerException(where + ".type: missing or not a string");
        return type.asText();
    }

    static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) throw new TokenizerException(where + "." + field + ": missing or not a string");
        return v.asText();
    }

    /** A single code point, as Rust's {@code char} fields (Metaspace's replacement). */
    static int codePoint(JsonNode node, String field, String where) {
        String s = text(node, field, where);
        if (s.codePointCount(0, s.length()) != 1) throw new TokenizerException(where + "." + field + ": \"" + s + "\" is not one character");
        return s.codePointAt(0);
    }

    /** {"String": "..."} (literal) or {"Regex": "..."} of Replace and Split. */
    static Pattern replacePattern(JsonNode node, String where) {
        JsonNode p = node.get("pattern");
        if (p == null || !p.isObject()) throw new TokenizerException(where + ".pattern: missing or not an object");
        if (p.has("String")) return Pattern.compile(Pattern.quote(p.get("String").asText()));
        if (p.has("Regex")) return regex(p.get("Regex").asText(), where + ".pattern.Regex");
        throw new TokenizerException(where + ".pattern: expected {\"String\": ...} or {\"Regex\": ...}");
    }

    /**
     * A tokenizer.json regex (Oniguruma syntax in the library) as a Java pattern. With
     * UNICODE_CHARACTER_CLASS, \s is Unicode White_Space and \w, \d are Unicode-aware, as there.
     */
    static Pattern regex(String source, String where) {
        try {
            return Pattern.compile(source, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException(where + ": regex not understood by Java: " + e.getDescription() + ": " + source, e);
        }
    }
}
