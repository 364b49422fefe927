package io.github.mamba4j.runtime.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.runtime.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static JsonNode reference(String family) throws IOException {
        return new ObjectMapper().readTree(FIXTURES.resolve(family).resolve("reference.json").toFile());
    }

    @Test
    void greedyGenerationReproducesTheReferenceAndStreamsEveryToken() throws IOException {
        // llama and nemotron_h: every greedy margin of these fixtures is clear (>= 0.17)
        for (String family : List.of("llama", "nemotron_h")) {
            JsonNode ref = reference(family);
            try (Model m = Model.load(FIXTURES.resolve(family)); Session s = m.newSession(1, 64)) {
                for (int i = 0; i < 2; i++) {
                    int[] prompt = ints(ref.get("prompts").get(i)), want = ints(ref.get("greedy").get(i));
                    List<Integer> streamed = new ArrayList<>();
                    Generator.Result r = Generator.generate(s, new Generator.Request(prompt, want.length, SamplingParams.GREEDY),
                            Set.of(), (req, tok) -> streamed.add(tok));
                    assertArrayEquals(want, r.tokens(), family + " prompt " + i);
                    assertEquals(Generator.StopReason.BUDGET, r.reason());
                    assertEquals(streamed, java.util.Arrays.stream(want).boxed().toList());
                }
            }
        }
    }

    @Test
    void batchedGenerationEqualsOneAtATimeWithJoiningAndLeaving() throws IOException {
        JsonNode ref = reference("bamba");
        List<Generator.Request> requests = new ArrayList<>();
        for (int i = 0; i < 5; i++) // different lengths and budgets, seeded sampling
            requests.add(new Generator.Request(java.util.Arrays.copyOf(ints(ref.get("prompts").get(i % 2)), 9 + i), 3 + 2 * i,
                    SamplingParams.temperature(0.8f, 100 + i).withTopK(50).withTopP(0.95f)));
        try (Model m = Model.load(FIXTURES.resolve("bamba"))) {
            List<Generator.Result> one = new ArrayList<>();
            try (Session s = m.newSession(1, 64)) {
                for (Generator.Request r : requests) one.add(Generator.generate(s, r, Set.of(), null));
            }
            try (Session s = m.newSession(2, 64)) { // 5 requests through 2 slots: join as others leave
                List<Generator.Result> batched = Generator.generateAll(s, requests, Set.of(), null);
                for (int i = 0; i < requests.size(); i++)
                    assertArrayEquals(one.get(i).tokens(), batched.get(i).tokens(), "request " + i);
            }
        }
    }

    @Test
    void stopsAtEndOfSequence() {
        try (Model m = Model.load(FIXTURES.resolve("mamba")); Session s = m.newSession(1, 64)) {
            int[] prompt = {5, 17, 42};
            int[] free = Generator.generate(s, new Generator.Request(prompt, 6, SamplingParams.GREEDY), Set.of(), null).tokens();
            Generator.Result r = Generator.generate(s, new Generator.Request(prompt, 6, SamplingParams.GREEDY), Set.of(free[2]), null);
            assertEquals(Generator.StopReason.END_OF_SEQUENCE, r.reason());
            assertTrue(r.tokens().length <= 3);
            assertEquals(free[2], r.tokens()[r.tokens().length - 1]);
        }
    }

    @Test
    void listenerStopsOneRequestEarlyAndTheOthersGoOn() {
        try (Model m = Model.load(FIXTURES.resolve("mamba")); Session s = m.newSession(2, 64)) {
            List<Generator.Request> requests = List.of(new Generator.Request(new int[] {5, 17, 42}, 8, SamplingParams.GREEDY),
                    new Generator.Request(new int[] {9, 3}, 8, SamplingParams.GREEDY));
            List<List<Integer>> streamed = List.of(new ArrayList<>(), new ArrayList<>());
            List<Generator.Result> r = Generator.generateAll(s, requests, Set.of(), (request, token) -> {
                streamed.get(request).add(token);
                return !(request == 0 && streamed.get(0).size() == 3); // stop request 0 after its third token
            });
            assertEquals(Generator.StopReason.STOPPED, r.get(0).reason());
            assertEquals(3, r.get(0).tokens().length);
            assertEquals(Generator.StopReason.BUDGET, r.get(1).reason());
            assertEquals(8, r.get(1).tokens().length);
            assertEquals(streamed.get(1), Arrays.stream(r.get(1).tokens()).boxed().toList(), "the callback saw every token");
        }
    }

    @Test
    void samplerRules() {
        float[] logits = {1f, 3f, 2f, -1f, 2.9f};
        assertEquals(1, new Sampler(SamplingParams.GREEDY).next(logits));
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(1, new Sampler(SamplingParams.temperature(1f, seed).withTopK(1)).next(logits), "top-k 1 is greedy");
            int t = new Sampler(SamplingParams.temperature(1f, seed).withTopK(2)).next(logits);
            assertTrue(t == 1 || t == 4, "top-k 2 keeps the two best");
            assertEquals(1, new Sampler(SamplingParams.temperature(1f, seed).withTopP(0.01f)).next(logits), "tiny top-p is greedy");
            int mp = new Sampler(SamplingParams.temperature(1f, seed).withMinP(0.5f)).next(logits); // p >= 0.5 p_max
            assertTrue(mp == 1 || mp == 4 || mp == 2, "min-p drops tokens far below the best: " + mp);
        }
        Sampler penalised = new Sampler(SamplingParams.GREEDY.withRepetitionPenalty(2f));
        penalised.observe(1);
        assertEquals(4, penalised.next(logits), "3/2 = 1.5 < 2.9");
        float[] wide = new float[50];
        for (int i = 0; i < wide.length; i++) wide[i] = (float) Math.sin(i);
        int[] a = new int[30], b = new int[30], c = new int[30];
        Sampler sa = new Sampler(SamplingParams.temperature(1.5f, 7)), sb = new Sampler(SamplingParams.temperature(1.5f, 7)),
                sc = new Sampler(SamplingParams.temperature(1.5f, 8));
        for (int i = 0; i < 30; i++) {
            a[i] = sa.next(wide);
            b[i] = sb.next(wide);
            c[i] = sc.next(wide);
        }
        assertArrayEquals(a, b, "same seed, same tokens");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c), "another seed, other tokens");
    }

    @Test
    void scoreWritesLogitsMatchingTheReference(@TempDir Path dir) throws IOException {
        JsonNode ref = reference("mamba2");
        int[] ids = ints(ref.get("prompts").get(1));
        Path out = dir.resolve("logits.safetensors");
        try (Model m = Model.load(FIXTURES.resolve("mamba2"))) {
            Scorer.writeLogits(out, Scorer.score(m, ids), java.util.Map.of());
        }
        try (SafetensorsFile f = SafetensorsFile.open(out);
             SafetensorsFile want = SafetensorsFile.open(FIXTURES.resolve("mamba2/reference.safetensors"))) {
            var got = f.tensors().get("logits");
            assertArrayEquals(new long[] {ids.length, 256}, got.shape());
            float[] g = got.toFloatArray(), w = want.tensors().get("logits_1").toFloatArray();
            double worst = 0, max = 0;
            for (int i = 0; i < g.length; i++) {
                worst = Math.max(worst, Math.abs(g[i] - w[i]));
                max = Math.max(max, Math.abs(w[i]));
            }
            assertTrue(worst / max < 1e-4, "score vs reference " + worst / max);
        }
    }
}
