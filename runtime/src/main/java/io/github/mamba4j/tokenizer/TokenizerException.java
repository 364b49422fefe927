package io.github.mamba4j.tokenizer;

/**
 * A tokenizer could not be loaded or used: a missing or malformed {@code tokenizer.json}, a
 * model or component type this package does not implement, a chat template that failed.
 * The message names the file and the JSON path where there is one.
 */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
