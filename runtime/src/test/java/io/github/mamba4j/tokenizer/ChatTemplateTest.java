package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Chat templates in the idioms of real model templates (Python string methods, namespace,
 * loop variables, whitespace control, raise_exception), rendered by Jinjava and compared with
 * jinja2 configured as transformers configures it (chat_templates.json, written by
 * ci/fixtures/make_tokenizer_fixtures.py --chat-templates-only).
 */
class ChatTemplateTest {
    @Test
    void jinjavaRendersLikeJinja2() throws Exception {
        JsonNode fixture;
        try (var in = Objects.requireNonNull(ChatTemplateTest.class.getResourceAsStream("/tokenizer/chat_templates.json"))) {
            fixture = new ObjectMapper().readTree(in);
        }
        TokenizerParityTest.Mismatches mismatches = new TokenizerParityTest.Mismatches("chat templates vs jinja2");
        for (JsonNode c : fixture.get("cases")) {
            List<ChatMessage> messages = new ArrayList<>();
            c.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
            TokenizerConfig config = new TokenizerConfig(Optional.of(c.get("bos_token").asText()), Optional.of(c.get("eos_token").asText()),
                    Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
            boolean generationPrompt = c.get("add_generation_prompt").asBoolean();
            String label = c.get("name").asText() + " " + messages.size() + " messages, add_generation_prompt=" + generationPrompt;
            String actual;
            try {
                actual = ChatTemplate.render(c.get("template").asText(), messages, generationPrompt, config);
            } catch (TokenizerException e) {
                actual = "error: " + e.getMessage();
            }
            String expected = c.has("error") ? "error: chat template failed: " + c.get("error").asText() : c.get("rendered").asText();
            if (c.has("error") && actual.startsWith(expected)) actual = expected;
            mismatches.check(label, expected, actual);
        }
        mismatches.assertNone();
    }
}
