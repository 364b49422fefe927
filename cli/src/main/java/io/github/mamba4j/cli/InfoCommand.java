package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.config.ModelConfig;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code info --model DIR}: what a checkpoint is, without generating anything. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe a checkpoint: family, layer pattern (M Mamba-2, m Mamba-1, * attention, - MLP), "
                + "parameter count, dtype and the memory a sequence's state takes.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Override
    public Integer call() {
        java.nio.file.Path dir = options.prepare();
        try (Model m = Model.load(dir); Checkpoint ckpt = Checkpoint.open(dir)) {
            long parameters = ckpt.tensors().values().stream().mapToLong(Tensor::numel).sum();
            ModelConfig c = m.config();
            PrintStream out = System.out;
            out.printf("family        %s (%s)%n", c.family().modelType(), c.family().architecture());
            out.printf("layers        %d: %s%n", c.blocks().size(), c.pattern());
            out.printf("hidden        %d, vocabulary %d%n", c.hidden(), c.vocabSize());
            out.printf("parameters    %,d (tensors stored in the checkpoint)%n", parameters);
            out.printf("dtype         %s (checkpoint), weights used as stored%n", c.dtype());
            long attention = c.blocks().stream().filter(b -> b.mixer() instanceof Mixer.Attention).count();
            out.printf("attention     %d layer(s)%s%n", attention,
                    attention > 0 && c.maxPositions() > 0 ? ", max positions " + c.maxPositions() : "");
            try (Session s = m.newSession(1, 1)) {
                Session.MemoryReport r = s.memory();
                out.printf("state memory  %s constant (conv + SSM states) + %s per token of KV cache, per sequence%n",
                        Bytes.human(r.ssmStateBytes()), Bytes.human(r.kvBytesPerToken()));
            }
        }
        return 0;
    }
}
