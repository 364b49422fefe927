package io.github.mamba4j.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mamba4j.runtime.safetensors.SafetensorsFile;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A parity fixture written by ci/fixtures/make_fixtures.py: prompts, greedy ids, margins, reference logits. */
record Fixture(Path dir, List<int[]> prompts, List<int[]> greedy, List<double[]> margins, List<float[][]> logits) {
    static final Path ROOT = Path.of("src/test/resources/fixtures");

    static Fixture load(String family) {
        Path dir = ROOT.resolve(family);
        try {
            JsonNode j = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
            List<int[]> prompts = new ArrayList<>(), greedy = new ArrayList<>();
            List<double[]> margins = new ArrayList<>();
            List<float[][]> logits = new ArrayList<>();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
                for (int i = 0; i < j.get("prompts").size(); i++) {
                    prompts.add(ints(j.get("prompts").get(i)));
                    greedy.add(ints(j.get("greedy").get(i)));
                    JsonNode m = j.get("margins").get(i);
                    double[] md = new double[m.size()];
                    for (int k = 0; k < md.length; k++) md[k] = m.get(k).asDouble();
                    margins.add(md);
                    Tensor t = f.tensors().get("logits_" + i);
                    int rows = (int) t.dim(0), v = (int) t.dim(1);
                    float[] flat = t.toFloatArray();
                    float[][] l = new float[rows][];
                    for (int r = 0; r < rows; r++) l[r] = java.util.Arrays.copyOfRange(flat, r * v, (r + 1) * v);
                    logits.add(l);
                }
            }
            return new Fixture(dir, prompts, greedy, margins, logits);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    /** prompt i followed by its greedy continuation: the tokens logits_i was computed on. */
    int[] sequence(int i) {
        int[] p = prompts.get(i), g = greedy.get(i);
        int[] s = java.util.Arrays.copyOf(p, p.length + g.length);
        System.arraycopy(g, 0, s, p.length, g.length);
        return s;
    }

    static float maxAbs(float[][] a) {
        float m = 0;
        for (float[] r : a) for (float v : r) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** max |got - want| / max |want| over all rows; NaN anywhere fails. */
    static double relError(float[][] got, float[][] want) {
        double worst = 0;
        for (int r = 0; r < want.length; r++)
            for (int c = 0; c < want[r].length; c++) {
                if (Float.isNaN(got[r][c])) return Double.NaN;
                worst = Math.max(worst, Math.abs(got[r][c] - want[r][c]));
            }
        return worst / maxAbs(want);
    }
}
