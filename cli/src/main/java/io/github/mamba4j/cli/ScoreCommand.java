package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.generate.Scorer;
import io.github.mamba4j.runtime.model.Model;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code score --model DIR --prompt-ids 5,17,42 --logits-out logits.safetensors}. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Write the logits after each token of a sequence: one F32 tensor \"logits\" [tokens, vocab] in a "
                + "safetensors file, to check parity against another implementation.")
final class ScoreCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Option(names = "--prompt-ids", required = true, split = ",", paramLabel = "IDS", description = "token ids, comma-separated")
    int[] ids;

    @Option(names = "--logits-out", required = true, paramLabel = "FILE", description = "safetensors file to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = options.prepare();
        try (Model m = Model.load(dir)) {
            LoadProgress.prefetch(m, System.err);
            float[][] logits = Scorer.score(m, ids);
            Scorer.writeLogits(out, logits, Map.of("model", dir.toAbsolutePath().toString(), "family",
                    m.config().family().modelType()));
            System.err.printf("wrote logits [%d, %d] to %s%n", logits.length, m.vocabSize(), out);
        }
        return 0;
    }
}
