package io.github.mamba4j.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefetchTest {
    @Test
    void readsEveryCheckpointByteAndReportsMonotoneProgress() {
        Path dir = Path.of("src/test/resources/fixtures/nemotron_h_sharded");
        long expected;
        try (Checkpoint c = Checkpoint.open(dir)) {
            expected = c.tensors().values().stream().mapToLong(Tensor::byteSize).sum();
        }
        try (Model m = Model.load(dir)) {
            assertEquals(expected, m.checkpointBytes());
            List<Long> seen = new ArrayList<>();
            m.prefetch((done, total) -> {
                assertEquals(expected, total);
                seen.add(done);
            });
            assertTrue(seen.size() >= 2, "one report per tensor piece: " + seen.size());
            for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i) > seen.get(i - 1), "progress only grows");
            assertEquals(expected, seen.getLast(), "ends at the total");
        }
    }
}
