package io.github.mamba4j.cli;

/** A mistake in what the user asked for: printed as one line, exit status 2. */
final class UsageError extends RuntimeException {
    UsageError(String message) {
        super(message);
    }
}
