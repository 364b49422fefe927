package io.github.mamba4j.bindings;

/** A native call failed: carries the status code and the library's message. */
public final class Mamba4jException extends RuntimeException {
    private final Status status;

    Mamba4jException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
