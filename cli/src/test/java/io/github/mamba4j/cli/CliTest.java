package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line end to end, including each user mistake: one line, exit status != 0. */
class CliTest {
    static final Path ROOT = Path.of(System.getProperty("mamba4j.root", ".."));
    static final String TINY = ROOT.resolve("examples/models/tiny-hybrid").toString();
    static final String NO_TOKENIZER = ROOT.resolve("runtime/src/test/resources/fixtures/mamba2").toString();

    record Run(int status, String out, String err) {
        void assertOneLineError(String needle) {
            assertTrue(status != 0, "status " + status);
            assertTrue(err.contains(needle), "stderr should contain '" + needle + "':\n" + err);
            assertEquals(1, err.strip().lines().count(), "one line, no stack trace:\n" + err);
        }
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        StringWriter picoErr = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(picoErr, true));
            int status = cl.execute(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + picoErr);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void generatesTextFromAModelThatShipsWithTheRepository() {
        Run r = run("generate", "--model", TINY, "--prompt", "Hello, mamba4j!", "--max-tokens", "12");
        assertEquals(0, r.status(), r.err());
        assertFalse(r.out().isBlank(), "some text on stdout");
        assertTrue(r.err().contains("tokens/s"), r.err());
        assertTrue(r.err().contains("per token of KV cache"), r.err());
    }

    @Test
    void sameSeedSameOutputDifferentSeedDiffers() {
        String[] a = {"generate", "--model", TINY, "--prompt-ids", "10,20,30", "--max-tokens", "20", "--temperature", "1.5",
                      "--seed", "7"};
        Run first = run(a), second = run(a);
        assertEquals(0, first.status(), first.err());
        assertEquals(first.out(), second.out());
        a[a.length - 1] = "8";
        Run other = run(a);
        assertFalse(first.out().equals(other.out()), "20 tokens at temperature 1.5 with another seed should differ");
    }

    @Test
    void promptIdsNeedNoTokenizerAndPrintIds() {
        Run r = run("generate", "--model", NO_TOKENIZER, "--prompt-ids", "5,17,42", "--max-tokens", "4");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().strip().matches("\\d+(,\\d+){0,3}"), r.out());
    }

    @Test
    void infoDescribesTheCheckpoint() {
        Run r = run("info", "--model", TINY);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("nemotron_h"), r.out());
        assertTrue(r.out().contains("M*-M-"), r.out());
        assertTrue(r.out().contains("parameters"), r.out());
        assertTrue(r.out().contains("per token of KV cache"), r.out());
    }

    @Test
    void missingModelFolder() {
        run("generate", "--model", "/nonexistent/model", "--prompt", "hi").assertOneLineError("model folder /nonexistent/model does not exist");
    }

    @Test
    void folderWithoutConfig(@TempDir Path dir) {
        run("info", "--model", dir.toString()).assertOneLineError("no config.json in");
    }

    @Test
    void unsupportedFamilyListsTheSupportedOnes(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\", \"architectures\": [\"BertModel\"]}");
        Run r = run("info", "--model", dir.toString());
        r.assertOneLineError("bert");
        assertTrue(r.err().contains("mamba2") && r.err().contains("nemotron_h"), r.err());
    }

    @Test
    void noTokenizerSuggestsPromptIds() {
        run("generate", "--model", NO_TOKENIZER, "--prompt", "hello").assertOneLineError("--prompt-ids");
    }

    @Test
    void promptLongerThanTheAttentionLimit() {
        String ids = "1,".repeat(200) + "1";
        run("generate", "--model", TINY, "--prompt-ids", ids).assertOneLineError("limit is 128 positions");
        run("generate", "--model", TINY, "--prompt-ids", "1,2,3", "--max-tokens", "500").assertOneLineError("exceeds this model's limit");
    }

    @Test
    void badSamplingValues() {
        run("generate", "--model", TINY, "--prompt", "x", "--top-p", "1.5").assertOneLineError("--top-p must be in (0, 1]");
        run("generate", "--model", TINY, "--prompt", "x", "--temperature", "-1").assertOneLineError("--temperature must be >= 0");
        run("generate", "--model", TINY, "--prompt", "x", "--min-p", "1").assertOneLineError("--min-p must be in [0, 1)");
        run("generate", "--model", TINY, "--prompt", "x", "--max-tokens", "0").assertOneLineError("--max-tokens must be >= 1");
    }

    @Test
    void tokenIdOutsideTheVocabulary() {
        run("generate", "--model", TINY, "--prompt-ids", "3,999").assertOneLineError("token id 999");
    }

    @Test
    void cudaWithoutAGpuSaysSo() {
        run("generate", "--model", TINY, "--prompt", "x", "--device", "cuda").assertOneLineError("--device cuda:");
    }

    @Test
    void verboseShowsTheStackTrace() {
        Run r = run("generate", "--model", "/nonexistent/model", "--prompt", "hi", "--verbose");
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertEquals(0, r.status());
        String all = r.out() + r.err();
        assertTrue(all.contains("generate") && all.contains("info") && all.contains("score"), all);
    }
}
