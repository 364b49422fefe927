package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code decoder} of tokenizer.json: turns token strings back into text. Like the library,
 * each decoder maps a list of token strings to a new list ({@code decode_chain}); the results
 * are concatenated at the end.
 */
sealed interface Decoder {
    List<String> decodeChain(List<String> tokens);

    String REPLACEMENT_CHARACTER = "\uFFFD";

    /** Alphabet characters back to bytes, all tokens joined, invalid UTF-8 replaced by U+FFFD. */
    record ByteLevel() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String token : tokens) {
                byte[] mapped = new byte[token.length()];
                int n = 0;
                boolean inAlphabet = true;
                for (int i = 0; i < token.length(); ) {
                    int cp = token.codePointAt(i);
                    int b = ByteLevelAlphabet.byteOf(cp);
                    if (b < 0) {
                        inAlphabet = false;
                        break;
                    }
                    mapped[n++] = (byte) b;
                    i += Character.charCount(cp);
                }
                // A token with a character outside the alphabet (an added token such as " snake")
                // contributes its own UTF-8 bytes.
                if (inAlphabet) bytes.write(mapped, 0, n);
                else bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
            }
            return List.of(Utf8.decodeLossy(bytes.toByteArray()));
        }
    }

    /** The replacement ("▁") back to spaces; on the first token it is dropped unless prepend_scheme is never. */
    record Metaspace(int replacement, PreTokenizer.PrependScheme prependScheme) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String token = tokens.get(i);
                StringBuilder sb = new StringBuilder(token.length());
                for (int j = 0; j < token.length(); ) {
                    int cp = token.codePointAt(j);
                    j += Character.charCount(cp);
                    if (cp == replacement) {
                        if (!(i == 0 && prependScheme != PreTokenizer.PrependScheme.NEVER)) sb.append(' ');
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
                out.add(sb.toString());
            }
            return out;
        }
    }

    record Replace(Pattern pattern, String content) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) out.add(pattern.matcher(t).replaceAll(Matcher.quoteReplacement(content)));
            return out;
        }
    }

    /** Runs of {@code <0xNN>} tokens become their UTF-8 text, or one U+FFFD per byte when invalid. */
    record ByteFallback() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream pending = new ByteArrayOutputStream();
            for (String token : tokens) {
                int b = byteToken(token);
                if (b >= 0) {
                    pending.write(b);
                    continue;
                }
                flush(pending, out);
                out.add(token);
            }
            flush(pending, out);
            return out;
        }

        private static void flush(ByteArrayOutputStream pending, List<String> out) {
            if (pending.size() == 0) return;
            byte[] bytes = pending.toByteArray();
            String s = Utf8.decodeStrict(bytes);
            if (s != null) out.add(s);
            else for (int i = 0; i < bytes.length; i++) out.add(REPLACEMENT_CHARACTER);
            pending.reset();
        }

        /** The byte of a "<0xNN>" token, or -1. */
        static int byteToken(String token) {
            if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') return -1;
            int hi = Character.digit(token.charAt(3), 16);
            int lo = Character.digit(token.charAt(4), 16);
            return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
        }
    }

    record Fuse() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters of each token. */
    record Strip(int content, int start, int stop) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String token : tokens) {
                int[] cps = token.codePoints().toArray();
                int startCut = 0;
                for (int i = 0; i < Math.min(start, cps.length); i++) {
                    if (cps[i] == content) startCut = i + 1;
                    else break;
                }
                int stopCut = cps.length;
                for (int i = 0; i < Math.min(stop, cps.length); i++) {
                    int index = cps.length - i - 1;
                    if (cps[index] == content) stopCut = index;
                    else break;
                }
                out.add(startCut >= stopCut ? "" : new String(cps, startCut, stopCut - startCut));
            }
            return out;
        }
    }

    record Sequence(List<Decoder> decoders) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) tokens = d.decodeChain(tokens);
            return tokens;
        }
    }

    /** Null when the node is absent or JSON null. */
    static Decoder fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) return null;
        String type = Json.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new ByteLevel();
            case "Metaspace" -> new Metaspace(Json.codePoint(node, "replacement", where), PreTokenizer.prependScheme(node, where));
            case "Replace" -> new Replace(Json.replacePattern(node, where), Json.text(node, "content", where));
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> new Strip(Json.codePoint(node, "content", where), node.path("start").asInt(0), node.path("stop").asInt(0));
            case "Sequence" -> {
                JsonNode list = node.get("decoders");
                if (list == null || !list.isArray()) throw new TokenizerException(where + ".decoders: missing or not an array");
                List<Decoder> all = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    Decoder d = fromJson(list.get(i), where + ".decoders[" + i + "]");
                    if (d != null) all.add(d);
                }
                yield new Sequence(List.copyOf(all));
            }
            default -> throw new TokenizerException(where + ": decoder type \"" + type + "\" is not supported"
                    + " (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
        };
    }
}
