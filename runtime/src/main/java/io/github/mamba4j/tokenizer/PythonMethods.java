package io.github.mamba4j.tokenizer;

import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Python string and dict methods that Hugging Face chat templates call
 * ({@code content.strip()}, {@code .startswith('<think>')}, {@code .split('</think>')[-1].lstrip('\n')},
 * {@code tool.items()}...), which Jinja2 has because its objects are Python's and Jinjava lacks.
 * Tried before Jinjava's own resolver; anything else falls through to it.
 */
final class PythonMethods extends ELResolver {
    private PythonMethods() {}

    /** Our methods first, then Jinjava's default read-write resolver. */
    static ELResolver resolver() {
        CompositeELResolver composite = new CompositeELResolver();
        composite.add(new PythonMethods());
        composite.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        return composite;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (method == null) return null;
        Object[] args = params == null ? new Object[0] : params;
        Object result = NOT_HANDLED;
        if (base instanceof String s) result = stringMethod(s, method.toString(), args);
        else if (base instanceof Map<?, ?> m) result = mapMethod(m, method.toString(), args);
        if (result == NOT_HANDLED) return null;
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> args.length == 1 ? anyMatch(args[0], p -> s.startsWith(p)) : NOT_HANDLED;
            case "endswith" -> args.length == 1 ? anyMatch(args[0], p -> s.endsWith(p)) : NOT_HANDLED;
            case "strip" -> args.length <= 1 ? rstrip(lstrip(s, chars(args)), chars(args)) : NOT_HANDLED;
            case "lstrip" -> args.length <= 1 ? lstrip(s, chars(args)) : NOT_HANDLED;
            case "rstrip" -> args.length <= 1 ? rstrip(s, chars(args)) : NOT_HANDLED;
            case "upper" -> args.length == 0 ? s.toUpperCase(java.util.Locale.ROOT) : NOT_HANDLED;
            case "lower" -> args.length == 0 ? s.toLowerCase(java.util.Locale.ROOT) : NOT_HANDLED;
            case "capitalize" -> args.length == 0
                    ? (s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT))
                    : NOT_HANDLED;
            case "split" -> split(s, args);
            case "replace" -> args.length == 2 ? s.replace(String.valueOf(args[0]), String.valueOf(args[1])) : NOT_HANDLED;
            case "find" -> args.length == 1 ? (long) s.indexOf(String.valueOf(args[0])) : NOT_HANDLED;
            case "count" -> args.length == 1 ? count(s, String.valueOf(args[0])) : NOT_HANDLED;
            case "join" -> args.length == 1 && args[0] instanceof Collection<?> c ? String.join(s, c.stream().map(String::valueOf).toList()) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    private static Object mapMethod(Map<?, ?> m, String name, Object[] args) {
        return switch (name) {
            case "items" -> {
                if (args.length != 0) yield NOT_HANDLED;
                List<List<Object>> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(Arrays.asList(k, v)));
                yield items;
            }
            case "keys" -> args.length == 0 ? new ArrayList<>(m.keySet()) : NOT_HANDLED;
            case "values" -> args.length == 0 ? new ArrayList<>(m.values()) : NOT_HANDLED;
            case "get" -> args.length == 2 ? (m.containsKey(args[0]) ? m.get(args[0]) : args[1]) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    private static boolean anyMatch(Object prefixOrList, java.util.function.Predicate<String> test) {
        if (prefixOrList instanceof Collection<?> c) return c.stream().map(String::valueOf).anyMatch(test);
        return test.test(String.valueOf(prefixOrList));
    }

    /** The characters to strip, or null for white space. */
    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    private static boolean strips(int cp, String chars) {
        return chars == null ? Unicode.isWhiteSpace(cp) : chars.indexOf(cp) >= 0;
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strips(s.codePointAt(i), chars)) i += Character.charCount(s.codePointAt(i));
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0 && strips(s.codePointBefore(end), chars)) end -= Character.charCount(s.codePointBefore(end));
        return s.substring(0, end);
    }

    /** Python's str.split: on runs of white space without a separator, else on the literal separator. */
    private static Object split(String s, Object[] args) {
        if (args.length > 2) return NOT_HANDLED;
        long maxSplit = args.length == 2 ? ((Number) args[1]).longValue() : -1;
        List<String> parts = new ArrayList<>();
        if (args.length == 0 || args[0] == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && Unicode.isWhiteSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= s.length()) break;
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(rstrip(s.substring(i), null));
                    break;
                }
                int start = i;
                while (i < s.length() && !Unicode.isWhiteSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                parts.add(s.substring(start, i));
            }
            return parts;
        }
        String sep = String.valueOf(args[0]);
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        long n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }
}
