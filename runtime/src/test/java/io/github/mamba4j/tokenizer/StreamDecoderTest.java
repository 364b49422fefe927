package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streaming decode: the chunks concatenate to the full decode, and no chunk carries a
 * replacement character for a multi-byte character split across tokens.
 */
class StreamDecoderTest {
    private static final char REPLACEMENT = '\uFFFD';

    /** Streams ids one at a time; checks every chunk and returns their concatenation. */
    static String streamAll(Tokenizer tok, int[] ids, boolean skipSpecial, String label) {
        StreamDecoder stream = tok.streamDecoder(skipSpecial);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String chunk = stream.step(id);
            assertFalse(chunk.indexOf(REPLACEMENT) >= 0 && tok.decode(ids, skipSpecial).indexOf(REPLACEMENT) < 0,
                    label + ": chunk " + TokenizerParityTest.escape(chunk) + " has U+FFFD though the full decode has none");
            out.append(chunk);
        }
        out.append(stream.flush());
        return out.toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_bos", "bytelevel_split", "spm", "spm_metaspace", "spm_nofallback"})
    void chunksConcatenateToFullDecode(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(TokenizerParityTest.dir(variant));
        int checked = 0;
        for (JsonNode c : TokenizerParityTest.cases(variant).get("cases")) {
            int[] ids = TokenizerParityTest.ints(c.get("ids"));
            String label = variant + " " + TokenizerParityTest.escape(c.get("text").asText());
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(tok.decode(ids, skip), streamAll(tok, ids, skip, label), label + " skip_special=" + skip);
                checked++;
            }
        }
        assertTrue(checked > 100);
    }

    /** Random text from scripts with 1- to 4-byte UTF-8 characters, emoji sequences included. */
    static String randomText(Random rng, int length) {
        int[][] ranges = {{0x20, 0x7E}, {0xC0, 0x17F}, {0x391, 0x3C9}, {0x410, 0x44F}, {0x3041, 0x3096},
                {0x4E00, 0x4FFF}, {0xAC00, 0xAC40}, {0x1F600, 0x1F64F}, {0x1F300, 0x1F3FF}};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int r = rng.nextInt(12);
            if (r >= ranges.length) {
                sb.append(r == 9 ? " " : r == 10 ? "\n" : "\u200D");
                continue;
            }
            int[] range = ranges[r];
            sb.appendCodePoint(range[0] + rng.nextInt(range[1] - range[0] + 1));
        }
        return sb.toString();
    }

    /**
     * Text the tokenizers never saw: most CJK, emoji and Hangul become byte-level pieces or
     * {@code <0xNN>} byte tokens, so multi-byte characters are split across ids all the time.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_split", "spm", "spm_metaspace"})
    void randomUnicodeRoundTripsAndStreamsWholeCharacters(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(TokenizerParityTest.dir(variant));
        Random rng = new Random(7);
        int splitCharacters = 0;
        for (int trial = 0; trial < 200; trial++) {
            String text = randomText(rng, 1 + rng.nextInt(60));
            int[] ids = tok.encode(text, false);
            String decoded = tok.decode(ids, false);
            // Byte-level is lossless; Llama-style decoding strips exactly the space the encoder
            // prepended. (Metaspace's decoder also drops a space the text itself began with.)
            if (!variant.equals("spm_metaspace")) {
                assertEquals(text, decoded, variant + " round trip of " + TokenizerParityTest.escape(text));
            }
            assertEquals(decoded, streamAll(tok, ids, false, variant + " " + TokenizerParityTest.escape(text)));
            for (int id : ids) if (tok.decode(new int[] {id}).indexOf(REPLACEMENT) >= 0) splitCharacters++;
        }
        assertTrue(splitCharacters > 50, "the random text should split characters over ids; it did " + splitCharacters + " times");
    }

    /** A long mixed text (well over 8K tokens) in one call: round trip, and streaming equals decoding. */
    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_split", "spm"})
    void longTextRoundTrips(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(TokenizerParityTest.dir(variant));
        StringBuilder sb = new StringBuilder();
        Random rng = new Random(11);
        // The fixture strings without added tokens (those strip neighbouring spaces by design) or a literal ▁ (decoded as a space).
        for (JsonNode c : TokenizerParityTest.cases(variant).get("cases")) {
            String t = c.get("text").asText();
            if (!t.matches("(?s).*(<|\\[\\[|mamba|MAMBA|snake|▁).*")) sb.append(t).append(' ');
        }
        while (sb.length() < 60_000) sb.append(randomText(rng, 200)).append("\n\tdef f(x):  return x  # ok\n");
        String text = sb.toString();
        int[] ids = tok.encode(text, false);
        assertTrue(ids.length > 8192, "only " + ids.length + " tokens");
        String decoded = tok.decode(ids, false);
        int at = java.util.Arrays.mismatch(text.toCharArray(), decoded.toCharArray());
        assertEquals(-1, at, variant + " long round trip differs at char " + at + ": expected "
                + TokenizerParityTest.escape(text.substring(Math.max(0, at - 20), Math.min(text.length(), at + 20))) + " got "
                + TokenizerParityTest.escape(decoded.substring(Math.max(0, at - 20), Math.min(decoded.length(), at + 20))));
        assertEquals(decoded, streamAll(tok, ids, false, variant + " long text"));
    }

    @Test
    void emojiSplitOverByteTokensIsHeldBackUntilComplete() throws Exception {
        Tokenizer tok = Tokenizer.load(TokenizerParityTest.dir("spm"));
        int[] ids = tok.encode("🦀", false); // ▁ then <0xF0> <0x9F> <0x98> <0x80>
        assertTrue(ids.length >= 5, "expected byte fallback for 🦀, got " + java.util.Arrays.toString(ids));
        StreamDecoder stream = tok.streamDecoder(false);
        StringBuilder chunks = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String chunk = stream.step(ids[i]);
            if (i < ids.length - 1) assertEquals("", chunk, "byte " + i + " of 🦀 must not produce text");
            chunks.append(chunk);
        }
        assertEquals("🦀", chunks.toString());
        assertEquals("", stream.flush());
    }

    @Test
    void flushReturnsAnIncompleteCharacterAsTheFullDecodeDoes() throws Exception {
        Tokenizer tok = Tokenizer.load(TokenizerParityTest.dir("spm"));
        int[] ids = tok.encode("a🦀", false);
        int[] truncated = java.util.Arrays.copyOf(ids, ids.length - 1); // last byte of 🦀 missing
        StreamDecoder stream = tok.streamDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int id : truncated) out.append(stream.step(id));
        assertEquals("a", out.toString());
        out.append(stream.flush());
        assertEquals(tok.decode(truncated), out.toString());
        assertTrue(out.toString().endsWith("\uFFFD"));
    }
}
