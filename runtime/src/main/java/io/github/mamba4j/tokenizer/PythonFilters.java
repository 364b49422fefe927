package io.github.mamba4j.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.filter.LengthFilter;

import java.util.Collection;
import java.util.Map;

/** Jinja filters whose Jinjava versions differ from what transformers' templates get. */
final class PythonFilters {
    private PythonFilters() {}

    /** {@code length}: Python's len counts code points, not UTF-16 units. */
    static final class Length extends LengthFilter {
        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var instanceof String s) return s.codePointCount(0, s.length());
            return super.filter(var, interpreter, args);
        }
    }

    /**
     * {@code tojson} as transformers overrides it: {@code json.dumps(x, ensure_ascii=False,
     * indent=indent)}, so ", " and ": " separators, non-ASCII kept, no HTML escaping.
     */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            Integer indent = args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null;
            return dumps(var, indent);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return dumps(var, indent == null ? null : ((Number) (indent instanceof String s ? Integer.valueOf(s) : indent)).intValue());
        }
    }

    static String dumps(Object value, Integer indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, Integer indent, int level) {
        if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Double || v instanceof Float) sb.append(pythonFloat(((Number) v).doubleValue()));
        else if (v instanceof Number n) sb.append(n);
        else if (v instanceof Map<?, ?> m) {
            container(sb, '{', '}', m.entrySet(), indent, level, (e, l) -> {
                string(sb, String.valueOf(((Map.Entry<?, ?>) e).getKey()));
                sb.append(": ");
                write(sb, ((Map.Entry<?, ?>) e).getValue(), indent, l);
            });
        } else if (v instanceof Collection<?> c) {
            container(sb, '[', ']', c, indent, level, (e, l) -> write(sb, e, indent, l));
        } else if (v instanceof Object[] a) {
            container(sb, '[', ']', java.util.Arrays.asList(a), indent, level, (e, l) -> write(sb, e, indent, l));
        } else string(sb, v.toString());
    }

    private static void container(StringBuilder sb, char open, char close, Collection<?> items, Integer indent, int level,
                                  java.util.function.BiConsumer<Object, Integer> item) {
        if (items.isEmpty()) {
            sb.append(open).append(close);
            return;
        }
        sb.append(open);
        boolean first = true;
        for (Object e : items) {
            if (!first) sb.append(indent == null ? ", " : ",");
            if (indent != null) sb.append('\n').append(" ".repeat(indent * (level + 1)));
            item.accept(e, level + 1);
            first = false;
        }
        if (indent != null) sb.append('\n').append(" ".repeat(indent * level));
        sb.append(close);
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Python's float repr for the common cases: 1.0, 0.5, 1e-05, inf as Infinity. */
    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.valueOf((long) d) + ".0";
        String s = Double.toString(d);
        if (!s.contains("E")) return s;
        // Java 1.0E-5 -> Python 1e-05
        String[] parts = s.split("E");
        String mantissa = parts[0].endsWith(".0") ? parts[0].substring(0, parts[0].length() - 2) : parts[0];
        int exponent = Integer.parseInt(parts[1]);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
