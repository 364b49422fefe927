package io.github.mamba4j.runtime.generate;

import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.runtime.safetensors.SafetensorsWriter;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Scores a token sequence: the logits after each token, [T, vocab] fp32, so anyone can check
 * parity against another implementation.
 */
public final class Scorer {
    private Scorer() {}

    public static float[][] score(Model model, int[] ids) {
        if (ids.length == 0) throw new IllegalArgumentException("no token ids to score");
        try (Session s = model.newSession(1, ids.length)) {
            return s.prefillAll(s.join(), ids);
        }
    }

    /** Writes one F32 tensor "logits" [T, vocab] to a safetensors file. */
    public static void writeLogits(Path file, float[][] logits, Map<String, String> metadata) throws IOException {
        int t = logits.length, v = logits[0].length;
        try (Arena arena = Arena.ofConfined()) {
            Tensor out = Tensor.allocate(arena, "logits", DType.F32, t, v);
            for (int r = 0; r < t; r++)
                for (int c = 0; c < v; c++) out.setFloat((long) r * v + c, logits[r][c]);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("logits", out);
            SafetensorsWriter.write(file, tensors, metadata);
        }
    }
}
