package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.generate.Scorer;
import io.github.mamba4j.runtime.model.JavaKernels;
import io.github.mamba4j.runtime.model.Model;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code score --model DIR --prompt-ids 5,17,42 --logits-out logits.safetensors}. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Write the logits after each token of a sequence: one F32 tensor \"logits\" [tokens, vocab] in a "
                + "safetensors file, to check parity against another implementation.")
final class ScoreCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder (config.json + safetensors)")
    Path model;

    @Option(names = "--prompt-ids", required = true, split = ",", paramLabel = "IDS", description = "token ids, comma-separated")
    int[] ids;

    @Option(names = "--logits-out", required = true, paramLabel = "FILE", description = "safetensors file to write")
    Path out;

    @Option(names = "--reference", description = "use the plain-Java reference kernels instead of libmamba4j (slow)")
    boolean reference;

    @Override
    public Integer call() throws Exception {
        try (Model m = reference ? Model.load(model, new JavaKernels()) : Model.load(model)) {
            float[][] logits = Scorer.score(m, ids);
            Scorer.writeLogits(out, logits, Map.of("model", model.toAbsolutePath().toString(), "family",
                    m.config().family().modelType()));
            System.err.printf("wrote logits [%d, %d] to %s%n", logits.length, m.vocabSize(), out);
        }
        return 0;
    }
}
