package io.github.mamba4j.runtime.safetensors;

import java.nio.file.Path;

/**
 * A checkpoint that cannot be used: names the file, the tensor (when one is concerned) and
 * the rule it breaks.
 */
public final class CheckpointException extends RuntimeException {
    private final transient Path file;
    private final String tensor;
    private final String rule;

    public CheckpointException(Path file, String tensor, String rule) {
        this(file, tensor, rule, null);
    }

    public CheckpointException(Path file, String tensor, String rule, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + rule, cause);
        this.file = file;
        this.tensor = tensor;
        this.rule = rule;
    }

    public Path file() {
        return file;
    }

    /** The tensor concerned, or null for a file-level problem. */
    public String tensor() {
        return tensor;
    }

    public String rule() {
        return rule;
    }
}
