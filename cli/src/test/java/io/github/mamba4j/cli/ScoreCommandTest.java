package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.safetensors.SafetensorsFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {
    static final String MODEL = "../runtime/src/test/resources/fixtures/mamba";

    static int run(StringWriter err, String... args) {
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void writesLogitsOfEveryToken(@TempDir Path dir) {
        Path out = dir.resolve("logits.safetensors");
        assertEquals(0, run(new StringWriter(), "score", "--model", MODEL, "--prompt-ids", "5,17,42", "--logits-out", out.toString()));
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertArrayEquals(new long[] {3, 256}, f.tensors().get("logits").shape());
            assertEquals("mamba", f.metadata().get("family"));
        }
    }

    @Test
    void badInputIsOneClearMessage(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        assertEquals(1, run(err, "score", "--model", MODEL, "--prompt-ids", "5,999", "--logits-out", dir.resolve("x").toString()));
        assertTrue(err.toString().contains("token id 999"), err.toString());
        StringWriter err2 = new StringWriter();
        // a user mistake (no checkpoint there): exit status 2
        assertEquals(2, run(err2, "score", "--model", dir.toString(), "--prompt-ids", "5", "--logits-out", dir.resolve("x").toString()));
        assertTrue(err2.toString().contains("config.json"), err2.toString());
    }
}
