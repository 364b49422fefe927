package io.github.mamba4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Added tokens ({@code added_tokens} of tokenizer.json): matched in the text before BPE and never
 * split. Tokens with {@code normalized=false} are matched in the raw text, the others in the
 * normalized text (their own content normalized). Matching is leftmost-longest, as the library's
 * Aho-Corasick automaton; a match is then dropped if {@code single_word} and it touches a word
 * character, and widened over white space on the left ({@code lstrip}) or right ({@code rstrip}).
 */
final class AddedVocabulary {
    record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
                      boolean normalized, boolean special) {}

    /** A stretch of text: either a matched added token ({@code id >= 0}) or text still to encode. */
    record Split(String text, int id, boolean atOrigin) {}

    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Map<String, Integer> byContent = new HashMap<>();
    /** What decoding returns for an added token: its content, normalized when it is matched normalized. */
    private final Map<Integer, String> decodedForm = new HashMap<>();
    private final Set<String> specialContents = new HashSet<>();
    private final Matcher rawMatcher;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        List<Pattern> raw = new ArrayList<>();
        List<Pattern> normalized = new ArrayList<>();
        for (AddedToken t : tokens) {
            if (t.content().isEmpty()) continue;
            byId.put(t.id(), t);
            byContent.put(t.content(), t.id());
            if (t.special()) specialContents.add(t.content());
            String form = t.content();
            if (t.normalized() && normalizer != null) form = normalizer.normalize(t.content());
            decodedForm.put(t.id(), form);
            if (t.normalized()) normalized.add(new Pattern(form, t));
            else raw.add(new Pattern(form, t));
        }
        rawMatcher = new Matcher(raw);
        normalizedMatcher = new Matcher(normalized);
    }

    Integer tokenToId(String content) {
        return byContent.get(content);
    }

    /** The string decoding starts from, or null when {@code id} is not an added token. */
    String decodedForm(int id) {
        return decodedForm.get(id);
    }

    boolean isSpecial(String token) {
        return specialContents.contains(token);
    }

    boolean isEmpty() {
        return byId.isEmpty();
    }

    int maxId() {
        return byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    /**
     * The library's extract_and_normalize: split off raw-matched tokens, normalize what is left,
     * split off normalized-matched tokens. Empty stretches are dropped.
     */
    List<Split> extractAndNormalize(String text, Normalizer normalizer) {
        List<Split> out = new ArrayList<>();
        for (Split s : rawMatcher.split(text, true)) {
            if (s.id() >= 0) {
                out.add(s);
                continue;
            }
            String n = normalizer == null ? s.text() : normalizer.normalize(s.text());
            for (Split t : normalizedMatcher.split(n, s.atOrigin())) out.add(t);
        }
        out.removeIf(s -> s.id() < 0 && s.text().isEmpty());
        return out;
    }

    private record Pattern(String text, AddedToken token) {}

    private static final class Matcher {
        /** Patterns by first char, longest first, for a leftmost-longest scan. */
        private final Map<Character, List<Pattern>> byFirstChar = new HashMap<>();

        Matcher(List<Pattern> patterns) {
            for (Pattern p : patterns) {
                if (p.text().isEmpty()) continue;
                byFirstChar.computeIfAbsent(p.text().charAt(0), k -> new ArrayList<>()).add(p);
            }
            byFirstChar.values().forEach(l -> l.sort(Comparator.comparingInt((Pattern p) -> p.text().length()).reversed()));
        }

        List<Split> split(String sentence, boolean atOrigin) {
            List<Split> splits = new ArrayList<>();
            if (byFirstChar.isEmpty()) {
                splits.add(new Split(sentence, -1, atOrigin));
                return splits;
            }
            int startOffset = 0;
            int i = 0;
            while (i < sentence.length()) {
                Pattern match = longestAt(sentence, i);
                if (match == null) {
                    i++;
                    continue;
                }
                int start = i;
                int stop = i + match.text().length();
                i = stop; // the automaton moves past every match, kept or not
                AddedToken token = match.token();
                if (token.singleWord()) {
                    boolean startSpace = start == 0 || !Unicode.isWordChar(sentence.codePointBefore(start));
                    boolean stopSpace = stop == sentence.length() || !Unicode.isWordChar(sentence.codePointAt(stop));
                    if (!startSpace || !stopSpace) continue;
                }
                if (token.lstrip()) {
                    int newStart = start;
                    while (newStart > 0 && Unicode.isWhiteSpace(sentence.codePointBefore(newStart))) {
                        newStart -= Character.charCount(sentence.codePointBefore(newStart));
                    }
                    start = Math.max(newStart, startOffset);
                }
                if (token.rstrip()) {
                    while (stop < sentence.length() && Unicode.isWhiteSpace(sentence.codePointAt(stop))) {
                        stop += Character.charCount(sentence.codePointAt(stop));
                    }
                }
                if (startOffset < start) splits.add(new Split(sentence.substring(startOffset, start), -1, atOrigin && startOffset == 0));
                splits.add(new Split(sentence.substring(start, stop), token.id(), atOrigin && start == 0));
                startOffset = stop;
            }
            if (startOffset != sentence.length() || sentence.isEmpty()) {
                splits.add(new Split(sentence.substring(Math.min(startOffset, sentence.length())), -1, atOrigin && startOffset == 0));
            }
            return splits;
        }

        private Pattern longestAt(String s, int i) {
            List<Pattern> candidates = byFirstChar.get(s.charAt(i));
            if (candidates == null) return null;
            for (Pattern p : candidates) if (s.startsWith(p.text(), i)) return p;
            return null;
        }
    }
}
