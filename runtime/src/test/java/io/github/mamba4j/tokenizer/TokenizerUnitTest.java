package io.github.mamba4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small hand-computed cases of the BPE rules, and the errors a user can meet. */
class TokenizerUnitTest {

    /**
     * vocab a b c ab bc abc ac &lt;unk&gt; &lt;0x64&gt;; merges by rank: (b,c) (a,b) (a,bc).
     * No normalizer or pre-tokenizer: the whole text is one word.
     */
    static String tinyBpe(String extraModelFields) {
        return """
                {"version": "1.0", "added_tokens": [],
                 "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
                 "model": {"type": "BPE", "unk_token": "<unk>" %s,
                   "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "ac": 6, "<unk>": 7, "<0x64>": 8},
                   "merges": [["b", "c"], ["a", "b"], ["a", "bc"]]}}
                """.formatted(extraModelFields);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            // lowest rank first: b+c (0) before a+b (1), then a+bc (2)
            "abc   | 5",
            // ties in rank: leftmost first, both merge
            "abab  | 3 3",
            "abcab | 5 3",
            // "cab": (c,a) has no merge, a+b does
            "cab   | 2 3",
            // ac is in the vocabulary but no merge makes it
            "ac    | 0 2",
            // unknown characters: one <unk> per character unless fused
            "axxb  | 0 7 7 1",
    })
    void mergesApplyByRankThenLeftmost(String text, String expected) {
        Tokenizer tok = Tokenizer.fromJson(tinyBpe(""));
        assertArrayEquals(ids(expected), tok.encode(text), "encode " + text);
    }

    @Test
    void fuseUnkByteFallbackAndIgnoreMerges() {
        assertArrayEquals(new int[] {0, 7, 1}, Tokenizer.fromJson(tinyBpe(", \"fuse_unk\": true")).encode("axxb"));
        // 'd' has a byte token; 'x' has none and falls back to <unk>
        Tokenizer fallback = Tokenizer.fromJson(tinyBpe(", \"byte_fallback\": true"));
        assertArrayEquals(new int[] {0, 8, 7, 1}, fallback.encode("adxb"));
        // With ignore_merges a word that is in the vocabulary is taken whole.
        assertArrayEquals(new int[] {6}, Tokenizer.fromJson(tinyBpe(", \"ignore_merges\": true")).encode("ac"));
        assertArrayEquals(new int[] {0, 2}, Tokenizer.fromJson(tinyBpe(", \"ignore_merges\": false")).encode("ac"));
    }

    @Test
    void legacyMergeStringsAreRead() {
        String json = tinyBpe("").replace("[[\"b\", \"c\"], [\"a\", \"b\"], [\"a\", \"bc\"]]", "[\"b c\", \"a b\", \"a bc\"]");
        assertArrayEquals(new int[] {5, 3}, Tokenizer.fromJson(json).encode("abcab"));
    }

    @Test
    void byteLevelAlphabetAndDecoder() {
        // GPT-2's map: printable bytes are themselves, space is Ġ (U+0120), newline Ċ (U+010A).
        assertEquals("Ġhello", ByteLevelAlphabet.encode(" hello"));
        assertEquals("Ċ", ByteLevelAlphabet.encode("\n"));
        assertEquals("Ã©", ByteLevelAlphabet.encode("é"));
        assertEquals(List.of("é ok"), new Decoder.ByteLevel().decodeChain(List.of("Ã", "©", "Ġok")));
        // An incomplete character decodes to U+FFFD, as from_utf8_lossy does.
        assertEquals(List.of("\uFFFD"), new Decoder.ByteLevel().decodeChain(List.of("æ", "Ĺ")));
    }

    @Test
    void lossyUtf8ReplacesMaximalSubparts() {
        assertEquals("\uFFFD", Utf8.decodeLossy(new byte[] {(byte) 0xE6, (byte) 0x97}));
        assertEquals("\uFFFD\uFFFD", Utf8.decodeLossy(new byte[] {(byte) 0x80, (byte) 0x80}));
        assertEquals("\uFFFDA", Utf8.decodeLossy(new byte[] {(byte) 0xF0, (byte) 0x9F, 0x41}));
        assertEquals("\uFFFD\uFFFD", Utf8.decodeLossy(new byte[] {(byte) 0xED, (byte) 0xA0})); // surrogate range
        assertEquals("日", Utf8.decodeLossy("日".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void gpt2SplitPattern() {
        List<PreTokenizer.Piece> words = new PreTokenizer.ByteLevel(false, true)
                .apply(List.of(new PreTokenizer.Piece("I'll  go 42x\t\n", true)));
        // "  go" keeps one space before the word; trailing whitespace runs split before the last
        assertEquals(List.of("I", "'ll", "Ġ", "Ġgo", "Ġ42", "x", "ĉĊ"), words.stream().map(PreTokenizer.Piece::text).toList());
    }

    // ----------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------

    @Test
    void missingFolderAndFiles(@TempDir Path dir) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("no tokenizer.json"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromFile(dir.resolve("tokenizer.json")));
        assertTrue(e.getMessage().contains("file not found"), e.getMessage());
    }

    @Test
    void malformedJson(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson("[1, 2]"));
        assertTrue(e.getMessage().contains("expected a JSON object"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson("{\"added_tokens\": []}"));
        assertTrue(e.getMessage().contains("no \"model\""), e.getMessage());
    }

    @Test
    void malformedConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), tinyBpe(""));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("add_bos_token"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"WordPiece", "Unigram", "WordLevel"})
    void unsupportedModelTypesSaySo(String type) {
        String json = "{\"model\": {\"type\": \"" + type + "\", \"vocab\": {}}}";
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(json));
        assertTrue(e.getMessage().contains("\"" + type + "\" is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("WordPiece and Unigram are not"), e.getMessage());
    }

    @Test
    void unsupportedComponentsSaySo() {
        String bert = tinyBpe("").replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"BertNormalizer\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(bert));
        assertTrue(e.getMessage().contains("normalizer type \"BertNormalizer\" is not supported"), e.getMessage());
        String ws = tinyBpe("").replace("\"pre_tokenizer\": null", "\"pre_tokenizer\": {\"type\": \"Whitespace\"}");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(ws));
        assertTrue(e.getMessage().contains("pre-tokenizer type \"Whitespace\" is not supported"), e.getMessage());
        String dropout = tinyBpe(", \"dropout\": 0.1");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(dropout));
        assertTrue(e.getMessage().contains("dropout"), e.getMessage());
    }

    @Test
    void mergeOutsideVocabulary() {
        String json = tinyBpe("").replace("[\"a\", \"bc\"]", "[\"a\", \"zz\"]");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(json));
        assertTrue(e.getMessage().contains("merges[2]"), e.getMessage());
    }

    @Test
    void chatTemplateMissingOrRaising(@TempDir Path dir) throws Exception {
        Tokenizer tok = Tokenizer.fromJson(tinyBpe(""));
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> tok.applyChatTemplate(List.of(ChatMessage.user("hi")), true));
        assertTrue(e.getMessage().contains("no chat_template"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), tinyBpe(""));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<s>\"}}");
        Files.writeString(dir.resolve("chat_template.jinja"),
                "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tools here') }}{% endif %}"
                        + "{{ bos_token }}{{ m.role }}: {{ m.content }}\n{% endfor %}");
        Tokenizer withTemplate = Tokenizer.load(dir);
        assertEquals("<s>user: hi\n", withTemplate.applyChatTemplate(List.of(ChatMessage.user("hi")), false));
        e = assertThrows(TokenizerException.class,
                () -> withTemplate.applyChatTemplate(List.of(new ChatMessage("tool", "x")), false));
        assertTrue(e.getMessage().contains("no tools here"), e.getMessage());
    }

    private static int[] ids(String s) {
        return Arrays.stream(s.trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }
}
