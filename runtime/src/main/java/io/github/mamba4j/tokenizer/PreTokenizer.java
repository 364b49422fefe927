package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of tokenizer.json: splits normalized text into words, each of which
 * the BPE model encodes on its own, and may rewrite them (ByteLevel maps bytes to its alphabet,
 * Metaspace spaces to "▁").
 */
sealed interface PreTokenizer {
    /**
     * A stretch of text; {@code atOrigin} when it begins at offset 0 of the original input
     * (Metaspace's prepend_scheme "first" prepends only there).
     */
    record Piece(String text, boolean atOrigin) {}

    List<Piece> apply(List<Piece> pieces);

    /** GPT-2's pre-tokenizer: optional prefix space, the regex split, then bytes to the alphabet. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        static final Pattern GPT2_SPLIT = Pattern.compile(
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                Pattern.UNICODE_CHARACTER_CLASS);

        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>(pieces.size() * 4);
            for (Piece p : pieces) {
                String text = addPrefixSpace && !p.text().startsWith(" ") ? " " + p.text() : p.text();
                List<Piece> words = useRegex
                        ? Splits.split(new Piece(text, p.atOrigin()), Splits.regexMatches(GPT2_SPLIT, text), Splits.Behavior.ISOLATED)
                        : List.of(new Piece(text, p.atOrigin()));
                for (Piece w : words) out.add(new Piece(ByteLevelAlphabet.encode(w.text()), w.atOrigin()));
            }
            return out;
        }
    }

    enum PrependScheme { ALWAYS, FIRST, NEVER }

    /** SentencePiece's view: spaces become the replacement ("▁"), optionally prepended, optionally split before each. */
    record Metaspace(int replacement, PrependScheme prependScheme, boolean split) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            String rep = Character.toString(replacement);
            List<Piece> out = new ArrayList<>();
            for (Piece p : pieces) {
                String text = p.text().replace(" ", rep);
                boolean prepend = switch (prependScheme) {
                    case ALWAYS -> !text.startsWith(rep);
                    case FIRST -> !text.startsWith(rep) && p.atOrigin();
                    case NEVER -> false;
                };
                if (prepend) text = rep + text;
                Piece piece = new Piece(text, p.atOrigin());
                if (split) {
                    out.addAll(Splits.split(piece, Splits.charMatches(text, cp -> cp == replacement), Splits.Behavior.MERGED_WITH_NEXT));
                } else {
                    out.add(piece);
                }
            }
            return Splits.dropEmpty(out);
        }
    }

    /** A regex or literal split with one of the library's delimiter behaviours (Llama 3, Qwen). */
    record Split(Pattern pattern, Splits.Behavior behavior, boolean invert) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>();
            for (Piece p : pieces) {
                List<Splits.Match> matches = Splits.regexMatches(pattern, p.text());
                if (invert) matches = Splits.invert(matches);
                out.addAll(Splits.split(p, matches, behavior));
            }
            return out;
        }
    }

    /** Splits digits from the rest: each digit alone, or runs of digits. */
    record Digits(boolean individualDigits) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>();
            IntPredicate numeric = cp -> {
                int t = Character.getType(cp);
                return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
            };
            for (Piece p : pieces) {
                out.addAll(Splits.split(p, Splits.charMatches(p.text(), numeric),
                        individualDigits ? Splits.Behavior.ISOLATED : Splits.Behavior.CONTIGUOUS));
            }
            return out;
        }
    }

    record Sequence(List<PreTokenizer> preTokenizers) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            for (PreTokenizer p : preTokenizers) pieces = p.apply(pieces);
            return pieces;
        }
    }

    /** Null when the node is absent or JSON null. */
    static PreTokenizer fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) return null;
        String type = Json.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new ByteLevel(node.path("add_prefix_space").asBoolean(true), node.path("use_regex").asBoolean(true));
            case "Metaspace" -> new Metaspace(Json.codePoint(node, "replacement", where), prependScheme(node, where),
                    node.path("split").asBoolean(true));
            case "Split" -> {
                Splits.Behavior behavior = Splits.Behavior.fromJson(Json.text(node, "behavior", where), where + ".behavior");
                yield new Split(Json.replacePattern(node, where), behavior, node.path("invert").asBoolean(false));
            }
            case "Digits" -> new Digits(node.path("individual_digits").asBoolean(false));
            case "Sequence" -> {
                JsonNode list = node.get("pretokenizers");
                if (list == null || !list.isArray()) throw new TokenizerException(where + ".pretokenizers: missing or not an array");
                List<PreTokenizer> all = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    PreTokenizer p = fromJson(list.get(i), where + ".pretokenizers[" + i + "]");
                    if (p != null) all.add(p);
                }
                yield new Sequence(List.copyOf(all));
            }
            default -> throw new TokenizerException(where + ": pre-tokenizer type \"" + type + "\" is not supported"
                    + " (supported: ByteLevel, Metaspace, Split, Digits, Sequence)");
        };
    }

    /** prepend_scheme, or the older add_prefix_space (false means never); default always. */
    static PrependScheme prependScheme(JsonNode node, String where) {
        JsonNode scheme = node.get("prepend_scheme");
        PrependScheme s = PrependScheme.ALWAYS;
        if (scheme != null && !scheme.isNull()) {
            s = switch (scheme.asText()) {
                case "always" -> PrependScheme.ALWAYS;
                case "first" -> PrependScheme.FIRST;
                case "never" -> PrependScheme.NEVER;
                default -> throw new TokenizerException(where + ".prepend_scheme: \"" + scheme.asText() + "\" is not always, first or never");
            };
        }
        JsonNode addPrefixSpace = node.get("add_prefix_space");
        if (addPrefixSpace != null && addPrefixSpace.isBoolean() && !addPrefixSpace.asBoolean()) {
            if (scheme != null && !scheme.isNull() && s != PrependScheme.NEVER) {
                throw new TokenizerException(where + ": add_prefix_space does not match declared prepend_scheme");
            }
            s = PrependScheme.NEVER;
        }
        return s;
    }

    /** The library's NormalizedString.split over match lists. */
    final class Splits {
        private Splits() {}

        enum Behavior {
            REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

            static Behavior fromJson(String s, String where) {
                return switch (s) {
                    case "Removed" -> REMOVED;
                    case "Isolated" -> ISOLATED;
                    case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                    case "MergedWithNext" -> MERGED_WITH_NEXT;
                    case "Contiguous" -> CONTIGUOUS;
                    default -> throw new TokenizerException(where + ": \"" + s + "\" is not a split behavior");
                };
            }
        }

        /** [start, end) in chars of the piece, and whether it is a delimiter match. */
        record Match(int start, int end, boolean isMatch) {}

        static List<Match> regexMatches(Pattern pattern, String text) {
            List<Match> out = new ArrayList<>();
            if (text.isEmpty()) {
                out.add(new Match(0, 0, false));
                return out;
            }
            Matcher m = pattern.matcher(text);
            int prev = 0;
            while (m.find()) {
                if (prev != m.start()) out.add(new Match(prev, m.start(), false));
                out.add(new Match(m.start(), m.end(), true));
                prev = m.end();
            }
            if (prev != text.length()) out.add(new Match(prev, text.length(), false));
            return out;
        }

        static List<Match> charMatches(String text, IntPredicate isDelimiter) {
            List<Match> out = new ArrayList<>();
            int prev = 0;
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                int end = i + Character.charCount(cp);
                if (isDelimiter.test(cp)) {
                    if (prev != i) out.add(new Match(prev, i, false));
                    out.add(new Match(i, end, true));
                    prev = end;
                }
                i = end;
            }
            if (prev != text.length() || text.isEmpty()) out.add(new Match(prev, text.length(), false));
            return out;
        }

        static List<Match> invert(List<Match> matches) {
            List<Match> out = new ArrayList<>(matches.size());
            for (Match m : matches) out.add(new Match(m.start(), m.end(), !m.isMatch()));
            return out;
        }

        static List<Piece> split(Piece piece, List<Match> matches, Behavior behavior) {
            List<int[]> spans = new ArrayList<>(); // {start, end, keep}
            switch (behavior) {
                case ISOLATED -> matches.forEach(m -> spans.add(new int[] {m.start(), m.end(), 1}));
                case REMOVED -> matches.forEach(m -> spans.add(new int[] {m.start(), m.end(), m.isMatch() ? 0 : 1}));
                case CONTIGUOUS -> {
                    boolean previousMatch = false;
                    for (Match m : matches) {
                        if (m.isMatch() == previousMatch && !spans.isEmpty()) spans.getLast()[1] = m.end();
                        else spans.add(new int[] {m.start(), m.end(), 1});
                        previousMatch = m.isMatch();
                    }
                }
                case MERGED_WITH_PREVIOUS -> {
                    boolean previousMatch = false;
                    for (Match m : matches) {
                        if (m.isMatch() && !previousMatch && !spans.isEmpty()) spans.getLast()[1] = m.end();
                        else spans.add(new int[] {m.start(), m.end(), 1});
                        previousMatch = m.isMatch();
                    }
                }
                case MERGED_WITH_NEXT -> {
                    boolean previousMatch = false;
                    for (int i = matches.size() - 1; i >= 0; i--) {
                        Match m = matches.get(i);
                        if (m.isMatch() && !previousMatch && !spans.isEmpty()) spans.getLast()[0] = m.start();
                        else spans.add(new int[] {m.start(), m.end(), 1});
                        previousMatch = m.isMatch();
                    }
                    java.util.Collections.reverse(spans);
                }
            }
            List<Piece> out = new ArrayList<>(spans.size());
            for (int[] s : spans) {
                if (s[2] == 0 || s[0] == s[1]) continue;
                out.add(new Piece(piece.text().substring(s[0], s[1]), piece.atOrigin() && s[0] == 0));
            }
            return out;
        }

        static List<Piece> dropEmpty(List<Piece> pieces) {
            pieces.removeIf(p -> p.text().isEmpty());
            return pieces;
        }
    }
}
