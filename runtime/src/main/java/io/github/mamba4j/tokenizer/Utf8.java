package io.github.mamba4j.tokenizer;

/**
 * UTF-8 decoding with the substitution rule of Rust's {@code String::from_utf8_lossy} (and of
 * the Unicode standard's "maximal subpart" practice): each maximal prefix of a valid sequence
 * that cannot be completed, and each byte that cannot start one, becomes one U+FFFD.
 */
final class Utf8 {
    private Utf8() {}

    static String decodeLossy(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        int i = 0;
        while (i < bytes.length) {
            int consumed = sequenceLength(bytes, i);
            if (consumed > 0) {
                sb.appendCodePoint(decodeAt(bytes, i, consumed));
                i += consumed;
            } else {
                sb.append('\uFFFD');
                i += -consumed;
            }
        }
        return sb.toString();
    }

    /** The text, or null when the bytes are not valid UTF-8. */
    static String decodeStrict(byte[] bytes) {
        for (int i = 0; i < bytes.length; ) {
            int consumed = sequenceLength(bytes, i);
            if (consumed <= 0) return null;
            i += consumed;
        }
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * Length of the valid sequence starting at {@code i}, or minus the length of the maximal
     * invalid subpart to replace by one U+FFFD.
     */
    static int sequenceLength(byte[] bytes, int i) {
        int b0 = bytes[i] & 0xFF;
        if (b0 < 0x80) return 1;
        int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
        else if (b0 == 0xE0) { need = 2; lo = 0xA0; }
        else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) need = 2;
        else if (b0 == 0xED) { need = 2; hi = 0x9F; }
        else if (b0 == 0xF0) { need = 3; lo = 0x90; }
        else if (b0 >= 0xF1 && b0 <= 0xF3) need = 3;
        else if (b0 == 0xF4) { need = 3; hi = 0x8F; }
        else return -1;
        for (int k = 1; k <= need; k++) {
            if (i + k >= bytes.length) return -k;
            int b = bytes[i + k] & 0xFF;
            int min = k == 1 ? lo : 0x80;
            int max = k == 1 ? hi : 0xBF;
            if (b < min || b > max) return -k;
        }
        return need + 1;
    }

    private static int decodeAt(byte[] bytes, int i, int length) {
        int b0 = bytes[i] & 0xFF;
        if (length == 1) return b0;
        int cp = b0 & (0xFF >> (length + 1));
        for (int k = 1; k < length; k++) cp = (cp << 6) | (bytes[i + k] & 0x3F);
        return cp;
    }
}
