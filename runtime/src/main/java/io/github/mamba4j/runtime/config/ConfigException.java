package io.github.mamba4j.runtime.config;

/** A config.json the runtime cannot use: says which key or value and why. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
