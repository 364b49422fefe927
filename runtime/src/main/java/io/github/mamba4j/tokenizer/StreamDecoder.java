package io.github.mamba4j.tokenizer;

import java.util.Arrays;

/**
 * Incremental decoding for generation: feed ids one at a time, get the new text each brings.
 * Text is held back while the decoded string ends in U+FFFD, i.e. while the last bytes are an
 * incomplete UTF-8 character (a byte-level token or {@code <0xNN>} byte tokens split it), and
 * while a token's text depends on its neighbours (Metaspace and Strip drop the first space), so
 * the chunks concatenate to exactly {@code decode(allIds)}. The algorithm is the library's
 * {@code DecodeStream}: keep a short window of ids, decode it whole, emit what goes beyond the
 * previously decoded prefix.
 *
 * <p>Not thread-safe: one per generation stream.
 */
public final class StreamDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[16];
    private int size;
    /** The text of ids[0, prefixIndex), already emitted. */
    private String prefix = "";
    private int prefixIndex;

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /**
     * Adds one generated id; returns the text it completes, or "" when it completes nothing yet
     * (part of a multi-byte character, or a skipped special token).
     */
    public String step(int id) {
        if (prefix.isEmpty() && size > 0) {
            String newPrefix = decode(0, size);
            if (!endsWithReplacement(newPrefix)) {
                prefix = newPrefix;
                prefixIndex = size;
            }
        }
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
        String string = decode(0, size);
        if (string.length() <= prefix.length() || endsWithReplacement(string)) return "";
        if (!string.startsWith(prefix)) {
            throw new TokenizerException("stream decoding: decoding id " + id + " changed text already emitted (\""
                    + prefix + "\" became \"" + string + "\")");
        }
        String newText = string.substring(prefix.length());
        // Keep the ids from prefixIndex on: they decode to the context the next step needs.
        int newPrefixIndex = size - prefixIndex;
        System.arraycopy(ids, prefixIndex, ids, 0, size - prefixIndex);
        size -= prefixIndex;
        prefix = decode(0, size);
        prefixIndex = newPrefixIndex;
        return newText;
    }

    /**
     * Ends the stream: returns text still held back (an incomplete character at the very end
     * decodes to U+FFFD here, as in a full decode) and resets the decoder.
     */
    public String flush() {
        String string = decode(0, size);
        String rest = string.length() > prefix.length() && string.startsWith(prefix) ? string.substring(prefix.length()) : "";
        size = 0;
        prefix = "";
        prefixIndex = 0;
        return rest;
    }

    private String decode(int from, int to) {
        return tokenizer.decode(ids, from, to, skipSpecialTokens);
    }

    private static boolean endsWithReplacement(String s) {
        return !s.isEmpty() && s.charAt(s.length() - 1) == REPLACEMENT;
    }
}
