package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of tokenizer.json: rewrites text before pre-tokenization. Only the
 * normalized text matters here (offsets are not tracked).
 */
sealed interface Normalizer {
    String normalize(String text);

    /** Unicode normalization form NFC, NFD, NFKC or NFKD. */
    record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements Normalizer {
        public String normalize(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    /** Prepends {@code prepend} to non-empty text (Llama 2 adds "▁"). */
    record Prepend(String prepend) implements Normalizer {
        public String normalize(String text) {
            return text.isEmpty() ? text : prepend + text;
        }
    }

    /** Replaces every match of a literal string or a regex by {@code content}. */
    record Replace(Pattern pattern, String content) implements Normalizer {
        public String normalize(String text) {
            return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** Strips Unicode white space on the left and/or right. */
    record Strip(boolean left, boolean right) implements Normalizer {
        public String normalize(String text) {
            int start = 0;
            int end = text.length();
            if (left) {
                while (start < end && Unicode.isWhiteSpace(text.codePointAt(start))) start += Character.charCount(text.codePointAt(start));
            }
            if (right) {
                while (end > start && Unicode.isWhiteSpace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
            }
            return text.substring(start, end);
        }
    }

    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        public String normalize(String text) {
            for (Normalizer n : normalizers) text = n.normalize(text);
            return text;
        }
    }

    /** Null when the node is absent or JSON null. */
    static Normalizer fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) return null;
        String type = Json.type(node, where);
        return switch (type) {
            case "NFC" -> new UnicodeForm(java.text.Normalizer.Form.NFC);
            case "NFD" -> new UnicodeForm(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new UnicodeForm(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new UnicodeForm(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            case "Prepend" -> new Prepend(Json.text(node, "prepend", where));
            case "Replace" -> new Replace(Json.replacePattern(node, where), Json.text(node, "content", where));
            case "Strip" -> new Strip(node.path("strip_left").asBoolean(false), node.path("strip_right").asBoolean(false));
            case "Sequence" -> {
                JsonNode list = node.get("normalizers");
                if (list == null || !list.isArray()) throw new TokenizerException(where + ".normalizers: missing or not an array");
                List<Normalizer> normalizers = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    Normalizer n = fromJson(list.get(i), where + ".normalizers[" + i + "]");
                    if (n != null) normalizers.add(n);
                }
                yield new Sequence(List.copyOf(normalizers));
            }
            default -> throw new TokenizerException(where + ": normalizer type \"" + type + "\" is not supported"
                    + " (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence)");
        };
    }
}
