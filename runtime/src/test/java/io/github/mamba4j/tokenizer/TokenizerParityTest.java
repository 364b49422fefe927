package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exact parity with the Hugging Face {@code tokenizers} library (and transformers' chat
 * templates) on the fixtures of ci/fixtures/make_tokenizer_fixtures.py: every string, every
 * variant, encode with and without special tokens, decode with and without skipping them,
 * decodes of every id prefix, random id lists, DecodeStream chunks.
 */
class TokenizerParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path dir(String variant) throws Exception {
        return Path.of(Objects.requireNonNull(TokenizerParityTest.class.getResource("/tokenizer/" + variant),
                "fixture " + variant).toURI());
    }

    static JsonNode cases(String variant) throws Exception {
        return JSON.readTree(dir(variant).resolve("cases.json").toFile());
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** Collects mismatches so one run reports all of them, then fails with the list. */
    static final class Mismatches {
        private final String what;
        private final List<String> lines = new ArrayList<>();
        private int checked;

        Mismatches(String what) {
            this.what = what;
        }

        void check(String text, Object expected, Object actual) {
            checked++;
            boolean equal = expected instanceof int[] e && actual instanceof int[] a ? Arrays.equals(e, a) : Objects.equals(expected, actual);
            if (!equal) {
                lines.add("  " + escape(text) + "\n    expected " + show(expected) + "\n    actual   " + show(actual));
            }
        }

        void assertNone() {
            if (!lines.isEmpty()) {
                fail(what + ": " + lines.size() + " of " + checked + " differ from the tokenizers library:\n"
                        + String.join("\n", lines.subList(0, Math.min(lines.size(), 15))));
            }
            assertFalse(checked == 0, what + ": nothing checked");
        }

        private static String show(Object o) {
            return o instanceof int[] a ? Arrays.toString(a) : o instanceof String s ? escape(s) : String.valueOf(o);
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        String shown = s.length() > 120 ? s.substring(0, 120) + "…" : s;
        shown.codePoints().forEach(cp -> {
            if (cp == '\n') sb.append("\\n");
            else if (cp == '\t') sb.append("\\t");
            else if (cp == '\r') sb.append("\\r");
            else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x200B || cp == 0xFEFF || cp == 0xAD) sb.append(String.format("\\u%04x", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.append('"').toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_bos", "bytelevel_split", "spm", "spm_metaspace", "spm_nofallback"})
    void encodeMatchesLibrary(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(dir(variant));
        Mismatches withSpecial = new Mismatches(variant + " encode(add_special_tokens=True)");
        Mismatches withoutSpecial = new Mismatches(variant + " encode(add_special_tokens=False)");
        Mismatches tokens = new Mismatches(variant + " Encoding.tokens");
        Mismatches transformers = new Mismatches(variant + " transformers tokenizer(text).input_ids");
        for (JsonNode c : cases(variant).get("cases")) {
            String text = c.get("text").asText();
            withSpecial.check(text, ints(c.get("ids")), tok.encode(text, true));
            withoutSpecial.check(text, ints(c.get("ids_no_special")), tok.encode(text, false));
            List<String> expected = new ArrayList<>();
            c.get("tokens").forEach(t -> expected.add(t.asText()));
            tokens.check(text, expected, tok.tokens(text, true));
            // transformers reads tokenizer_config.json too: its ids must be ours with special tokens.
            if (c.has("transformers_ids")) transformers.check(text, ints(c.get("transformers_ids")), tok.encode(text));
        }
        withSpecial.assertNone();
        withoutSpecial.assertNone();
        tokens.assertNone();
        transformers.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_bos", "bytelevel_split", "spm", "spm_metaspace", "spm_nofallback"})
    void decodeMatchesLibrary(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(dir(variant));
        JsonNode fixture = cases(variant);
        Mismatches decode = new Mismatches(variant + " decode(skip_special_tokens=False)");
        Mismatches skip = new Mismatches(variant + " decode(skip_special_tokens=True)");
        Mismatches prefixes = new Mismatches(variant + " decode of id prefixes");
        for (JsonNode c : fixture.get("cases")) {
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            decode.check(text, c.get("decode").asText(), tok.decode(ids, false));
            skip.check(text, c.get("decode_skip_special").asText(), tok.decode(ids, true));
            if (c.has("prefix_decodes")) {
                for (int k = 0; k <= ids.length; k++) {
                    prefixes.check(text + " [:" + k + "]", c.get("prefix_decodes").get(k).asText(),
                            tok.decode(Arrays.copyOf(ids, k), false));
                }
            }
        }
        for (JsonNode r : fixture.get("random_decodes")) {
            int[] ids = ints(r.get("ids"));
            decode.check(Arrays.toString(ids), r.get("decode").asText(), tok.decode(ids, false));
            skip.check(Arrays.toString(ids), r.get("decode_skip_special").asText(), tok.decode(ids, true));
        }
        decode.assertNone();
        skip.assertNone();
        prefixes.assertNone();
    }

    /** Our StreamDecoder against the library's DecodeStream, chunk by chunk (None is ""). */
    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_bos", "bytelevel_split", "spm", "spm_metaspace", "spm_nofallback"})
    void streamMatchesLibraryDecodeStream(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(dir(variant));
        Mismatches chunks = new Mismatches(variant + " DecodeStream chunks");
        for (JsonNode c : cases(variant).get("cases")) {
            if (!c.get("stream").isArray()) continue;
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            StreamDecoder stream = tok.streamDecoder(false);
            List<String> expected = new ArrayList<>();
            List<String> actual = new ArrayList<>();
            for (int i = 0; i < ids.length; i++) {
                JsonNode e = c.get("stream").get(i);
                expected.add(e.isNull() ? "" : e.asText());
                actual.add(stream.step(ids[i]));
            }
            chunks.check(text, expected, actual);
        }
        chunks.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "bytelevel_bos", "bytelevel_split", "spm", "spm_metaspace", "spm_nofallback"})
    void chatTemplateMatchesTransformers(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(dir(variant));
        JsonNode chat = cases(variant).get("chat");
        Mismatches rendered = new Mismatches(variant + " apply_chat_template");
        for (JsonNode r : chat) {
            List<ChatMessage> messages = new ArrayList<>();
            r.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
            boolean generationPrompt = r.get("add_generation_prompt").asBoolean();
            String label = messages + " add_generation_prompt=" + generationPrompt;
            String actual;
            try {
                actual = tok.applyChatTemplate(messages, generationPrompt);
            } catch (TokenizerException e) {
                actual = "error: " + e.getMessage();
            }
            String expected = r.has("error") ? "error: chat template failed: " + r.get("error").asText() : r.get("rendered").asText();
            if (r.has("error") && actual.startsWith(expected)) actual = expected; // ours adds the line number
            rendered.check(label, expected, actual);
        }
        rendered.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytelevel", "spm"})
    void configIsRead(String variant) throws Exception {
        Tokenizer tok = Tokenizer.load(dir(variant));
        JsonNode config = JSON.readTree(dir(variant).resolve("tokenizer_config.json").toFile());
        assertEquals(config.get("bos_token").asText(), tok.config().bosToken().orElseThrow());
        assertEquals(config.get("eos_token").asText(), tok.config().eosToken().orElseThrow());
        assertEquals(config.get("add_bos_token").asBoolean(), tok.config().addBosToken().orElseThrow());
        assertEquals(tok.tokenToId(config.get("bos_token").asText()), tok.bosId());
        assertEquals(cases(variant).get("vocab_size").asInt(), tok.vocabSize());
    }
}
