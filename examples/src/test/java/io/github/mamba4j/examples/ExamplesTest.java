package io.github.mamba4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.generate.Generator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Every example runs in CI (from the repository root, like bin/run-example). */
class ExamplesTest {
    static final Path TINY = Path.of("examples/models/tiny-hybrid");

    @Test
    void kernelDemoMatchesTheJavaReference() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        double maxDiff = KernelDemo.run(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(maxDiff < 1e-5, "max diff " + maxDiff);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("native"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void generateExampleProducesText() {
        GenerateExample.Generated g = GenerateExample.generate(TINY, "The quick brown fox", 24);
        assertTrue(g.tokens().length >= 1 && g.tokens().length <= 24, "1..24 tokens, got " + g.tokens().length);
        for (int id : g.tokens()) assertTrue(id >= 0 && id < 256, "id in the vocabulary: " + id);
    }

    @Test
    void streamExampleStopsEarly() {
        Generator.Result r = StreamExample.stream(TINY, "Once upon a time", 5);
        assertEquals(Generator.StopReason.STOPPED, r.reason());
        assertEquals(5, r.tokens().length);
    }
}
