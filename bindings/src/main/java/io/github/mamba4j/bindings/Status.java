package io.github.mamba4j.bindings;

/** The status codes of mamba4j.h. */
public enum Status {
    OK, INVALID_ARGUMENT, UNSUPPORTED, OUT_OF_MEMORY, CUDA, INTERNAL, UNKNOWN;

    static Status of(int code) {
        return code >= 0 && code < UNKNOWN.ordinal() ? values()[code] : UNKNOWN;
    }
}
