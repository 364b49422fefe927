package io.github.mamba4j.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a Hugging Face chat template with Jinjava, configured as transformers configures
 * Jinja2: {@code trim_blocks} and {@code lstrip_blocks} on, {@code raise_exception(msg)} and
 * {@code strftime_now(fmt)} available, Python's string methods ({@link PythonMethods}), {@code messages}, {@code add_generation_prompt} and the
 * special token strings ({@code bos_token}, {@code eos_token}, ...) in scope.
 */
final class ChatTemplate {
    private static final String RAISED = "chat template raised: ";

    private ChatTemplate() {}

    static String render(String template, List<ChatMessage> messages, boolean addGenerationPrompt, TokenizerConfig config) {
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(PythonMethods.resolver())
                // Jinja2 semantics where Jinjava kept older behaviour: {{- x -}} trims, operator
                // precedence as Python's, dict literal keys are expressions.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withEvaluateMapKeys(true)
                        .build())
                .build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFilter(new PythonFilters.Length());
        jinjava.getGlobalContext().registerFilter(new PythonFilters.ToJson());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));

        List<Map<String, Object>> messageMaps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            messageMaps.add(map);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messageMaps);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", config.bosToken().orElse(""));
        context.put("eos_token", config.eosToken().orElse(""));
        context.put("unk_token", config.unkToken().orElse(""));
        context.put("pad_token", config.padToken().orElse(""));

        RenderResult result;
        try {
            result = jinjava.renderForResult(template, context);
        } catch (RuntimeException e) {
            throw new TokenizerException("chat template failed: " + raisedMessage(e), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                String message = error.getException() != null ? raisedMessage(error.getException()) : error.getMessage();
                throw new TokenizerException("chat template failed: " + message + " (line " + error.getLineno() + ")");
            }
        }
        return result.getOutput();
    }

    /** The message given to raise_exception if the failure came from there, else the error's own. */
    private static String raisedMessage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.contains(RAISED)) return m.substring(m.indexOf(RAISED) + RAISED.length());
        }
        return String.valueOf(e.getMessage());
    }

    /** {@code raise_exception(message)} of transformers' templates: aborts rendering. */
    public static String raiseException(String message) {
        throw new IllegalStateException(RAISED + message);
    }

    /** {@code strftime_now(format)}: the local time, for the strftime codes templates use. */
    public static String strftimeNow(String format) {
        LocalDateTime now = LocalDateTime.now();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char code = format.charAt(++i);
            switch (code) {
                case 'd' -> sb.append(String.format("%02d", now.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", now.getMonthValue()));
                case 'Y' -> sb.append(now.getYear());
                case 'y' -> sb.append(String.format("%02d", now.getYear() % 100));
                case 'H' -> sb.append(String.format("%02d", now.getHour()));
                case 'M' -> sb.append(String.format("%02d", now.getMinute()));
                case 'S' -> sb.append(String.format("%02d", now.getSecond()));
                case 'b' -> sb.append(now.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(now.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(now.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(now.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(code);
            }
        }
        return sb.toString();
    }
}
