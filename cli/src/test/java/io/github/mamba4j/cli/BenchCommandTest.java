package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench-models end to end at a small scale, so the benchmark the numbers come from keeps working. */
class BenchCommandTest {

    @Test
    void readProbeMeasuresAPlausibleBandwidth() {
        try (BenchCommand.ReadProbe probe = new BenchCommand.ReadProbe(2)) {
            double bytesPerSecond = probe.read();
            assertTrue(bytesPerSecond > 1e8 && bytesPerSecond < 1e13, "read bandwidth " + bytesPerSecond);
        }
    }

    @Test
    void timesAWholeModelAndReportsEveryColumn() {
        CliTest.Run r = CliTest.run("bench-models", "--only", "mamba2", "--runs", "1", "--prompt", "8", "--generate", "2");
        assertEquals(0, r.status(), r.err());
        List<String> rows = r.out().lines().filter(l -> l.startsWith("| mamba2 |")).toList();
        assertEquals(1, rows.size(), r.out());
        String[] cells = rows.getFirst().split("\\|");
        // | model | params | prompt tok/s | gen tok/s | weight MB/token | memory GB/s | gen / floor |
        assertEquals("129M", cells[2].strip());
        assertTrue(Double.parseDouble(cells[3].strip()) > 0, "prompt tok/s: " + cells[3]);
        assertTrue(Double.parseDouble(cells[4].strip()) > 0, "gen tok/s: " + cells[4]);
        assertEquals("257", cells[5].strip(), "bf16 matrix bytes per token of mamba2-130m, in MB");
        assertTrue(Double.parseDouble(cells[6].strip()) > 0.1, "memory GB/s: " + cells[6]);
        assertTrue(cells[7].strip().endsWith("%") && Double.parseDouble(cells[7].strip().replace("%", "")) > 0, cells[7]);
    }

    @Test
    void comparesPlannedDecodeWithKernelByKernel() {
        CliTest.Run r = CliTest.run("bench-models", "--only", "hybrid", "--runs", "1", "--prompt", "8", "--generate", "4",
                "--kernel-by-kernel");
        assertEquals(0, r.status(), r.err());
        String[] cells = r.out().lines().filter(l -> l.startsWith("| hybrid |")).findFirst().orElseThrow().split("\\|");
        // ... | gen / floor | gen tok/s kernel by kernel | plan speedup |
        assertEquals(10, cells.length, r.out());
        double planned = Double.parseDouble(cells[4].strip()), kernels = Double.parseDouble(cells[8].strip());
        assertTrue(kernels > 0, r.out());
        assertEquals(planned / kernels, Double.parseDouble(cells[9].strip()), 0.01 * planned / kernels + 0.01, r.out());
    }

    /**
     * A stand-in for llama.cpp's llama-bench: checks that it is given a GGUF file, the thread
     * count and, for generation, the prompt as depth, then prints CSV rows as llama-bench does.
     */
    static Path fakeLlamaBench(Path dir, String promptRate, String genRate) throws IOException {
        Path script = dir.resolve("llama-bench");
        Files.writeString(script, """
                #!/bin/sh
                model=""; threads=""; depth=0; gen=0
                while [ $# -gt 0 ]; do
                  case "$1" in -m) model="$2"; shift;; -t) threads="$2"; shift;; -d) depth="$2"; shift;; -n) gen="$2"; shift;; esac
                  shift
                done
                head -c 4 "$model" | grep -q GGUF || { echo "not a GGUF file: $model" >&2; exit 3; }
                [ "$threads" = 2 ] || { echo "threads $threads" >&2; exit 4; }
                echo 'build_commit,n_prompt,n_gen,n_depth,avg_ts'
                if [ "$gen" = 0 ]; then echo '"abc","8","0","0","%s"'; else [ "$depth" = 8 ] || exit 5; echo '"abc","0","2","8","%s"'; fi
                """.formatted(promptRate, genRate));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    @Test
    void comparesWithLlamaBenchOnTheSameWeights(@TempDir Path dir) throws IOException {
        Path peer = fakeLlamaBench(dir, "100.4", "4.0");
        CliTest.Run r = CliTest.run("bench-models", "--only", "mamba2", "--runs", "1", "--prompt", "8", "--generate", "2",
                "--threads", "2", "--llama-bench", peer.toString());
        assertEquals(0, r.status(), r.err());
        String[] cells = r.out().lines().filter(l -> l.startsWith("| mamba2 |")).findFirst().orElseThrow().split("\\|");
        // ... | gen / floor | llama.cpp prompt tok/s | llama.cpp gen tok/s | prompt ratio | gen ratio |
        assertEquals(12, cells.length, r.out());
        assertEquals("100", cells[8].strip());
        assertEquals("4.0", cells[9].strip());
        double ours = Double.parseDouble(cells[4].strip()), ratio = Double.parseDouble(cells[11].strip());
        assertEquals(ours / 4.0, ratio, 0.01 * ratio + 0.01, "gen ratio = ours / llama.cpp's");
    }

    @Test
    void aFailingLlamaBenchIsReportedWithItsLog(@TempDir Path dir) throws IOException {
        Path peer = fakeLlamaBench(dir, "1", "1");
        Files.writeString(peer, "#!/bin/sh\necho 'error: unknown model architecture' >&2\nexit 1\n");
        CliTest.Run r = CliTest.run("bench-models", "--only", "mamba2", "--runs", "1", "--prompt", "8", "--generate", "2",
                "--llama-bench", peer.toString());
        assertEquals(1, r.status(), r.out());
        assertTrue(r.err().contains("exited with 1") && r.err().contains("error: unknown model architecture"), r.err());
        CliTest.Run missing = CliTest.run("bench-models", "--llama-bench", dir.resolve("nothing").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("is not an executable file"), missing.err());
    }
}
