package io.github.mamba4j.runtime.config;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The checkpoint families the runtime loads; they differ in config keys and tensor names only. */
public enum Family {
    MAMBA("mamba", "MambaForCausalLM"),
    MAMBA2("mamba2", "Mamba2ForCausalLM"),
    NEMOTRON_H("nemotron_h", "NemotronHForCausalLM"),
    LLAMA("llama", "LlamaForCausalLM"),
    BAMBA("bamba", "BambaForCausalLM"),
    GRANITE_MOE_HYBRID("granitemoehybrid", "GraniteMoeHybridForCausalLM");

    private final String modelType;
    private final String architecture;

    Family(String modelType, String architecture) {
        this.modelType = modelType;
        this.architecture = architecture;
    }

    public String modelType() {
        return modelType;
    }

    public String architecture() {
        return architecture;
    }

    public static Optional<Family> ofModelType(String modelType) {
        return Arrays.stream(values()).filter(f -> f.modelType.equals(modelType)).findFirst();
    }

    public static Optional<Family> ofArchitecture(String architecture) {
        return Arrays.stream(values()).filter(f -> f.architecture.equals(architecture)).findFirst();
    }

    public static String supported() {
        return Arrays.stream(values()).map(f -> f.modelType + " (" + f.architecture + ")").collect(Collectors.joining(", "));
    }
}
