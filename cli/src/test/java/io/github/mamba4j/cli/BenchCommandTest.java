package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

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
}
