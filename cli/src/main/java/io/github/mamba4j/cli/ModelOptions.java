package io.github.mamba4j.cli;

import io.github.mamba4j.bindings.Mamba4j;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every model command shares: the checkpoint folder, the device and CPU threads. */
final class ModelOptions {
    enum Device { cpu, cuda }

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "checkpoint folder: config.json + *.safetensors (+ tokenizer.json for text)")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "where the model runs (default: ${DEFAULT-VALUE})")
    Device device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    Integer threads;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    /** Checks the folder and the device and applies --threads; throws UsageError with one clear line. */
    Path prepare() {
        if (!Files.isDirectory(model)) throw new UsageError("model folder " + model + " does not exist");
        if (!Files.isRegularFile(model.resolve("config.json")))
            throw new UsageError("no config.json in " + model + ": is this a Hugging Face checkpoint folder?");
        if (threads != null) {
            if (threads < 1) throw new UsageError("--threads must be >= 1, got " + threads);
            Mamba4j.setThreads(threads);
        }
        if (device == Device.cuda) {
            if (Mamba4j.cudaDeviceCount() == 0)
                throw new UsageError("--device cuda: no CUDA device is visible (no NVIDIA GPU or driver, or a "
                        + "library built without CUDA); use --device cpu");
            throw new UsageError("--device cuda: running whole models on CUDA is not implemented in this release "
                    + "(the CUDA kernels are, see docs/perf.md); use --device cpu");
        }
        return model;
    }
}
