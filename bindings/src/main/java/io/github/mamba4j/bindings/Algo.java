package io.github.mamba4j.bindings;

/** Which implementation a kernel runs (mamba4j_algo): AUTO is the fast one. */
public enum Algo {
    AUTO, REFERENCE, RECURRENT, CHUNKED, FLASH;

    int code() {
        return ordinal();
    }
}
