package io.github.mamba4j.runtime.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file of header length, header bytes, then {@code dataBytes} bytes of data. */
    static byte[] file(long headerLength, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header);
        return b.array();
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, dataBytes);
    }

    static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    static Stream<Arguments> badFiles() {
        return Stream.of(
                Arguments.of("shorter than 8 bytes", new byte[5], "shorter than the 8-byte header length", null),
                Arguments.of("header length past EOF", file(1000, "{}".getBytes(), 0), "runs past the end of the file", null),
                Arguments.of("header over limit", file(200_000_000L, "{}".getBytes(), 0), "over the limit", null),
                Arguments.of("not UTF-8", file(4, new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'}, 0), "not valid UTF-8", null),
                Arguments.of("not JSON", file("{\"a\":", 0), "not valid JSON", null),
                Arguments.of("not starting with {", file(" {}", 0), "does not start with '{'", null),
                Arguments.of("duplicate names", file("{" + A + "," + A + "}", 8), "duplicate tensor name", null),
                Arguments.of("unknown dtype", file("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                        "unknown dtype \"F33\"", "a"),
                Arguments.of("byte size not shape × dtype", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                        "does not match shape [3] × F32 = 12 bytes", "a"),
                Arguments.of("overflowing shape", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8),
                        "overflows", "a"),
                Arguments.of("negative dimension", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
                        "not a non-negative integer", "a"),
                Arguments.of("overlapping offsets", file("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                        "overlap", "b"),
                Arguments.of("hole between tensors", file("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16),
                        "leaving a hole", "b"),
                Arguments.of("hole at start", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                        "leaving a hole", "a"),
                Arguments.of("truncated data", file("{" + A + "}", 5), "data truncated", "a"),
                Arguments.of("trailing bytes", file("{" + A + "}", 12), "does not end at the end of the file", null),
                Arguments.of("end before begin", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8),
                        "< begin", "a"),
                Arguments.of("metadata not strings", file("{\"__metadata__\":{\"x\":1}}", 0), "is not a string", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFileIsAClearError(String what, byte[] bytes, String rule, String tensor) throws IOException {
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p), what);
        assertTrue(e.getMessage().contains(rule), what + ": message \"" + e.getMessage() + "\" lacks \"" + rule + "\"");
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
        assertEquals(tensor, e.tensor(), what + ": tensor named");
    }

    @Test
    void writerRoundTrip() throws IOException {
        Path p = dir.resolve("t.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.allocate(arena, "a", DType.F32, 2, 3);
            for (int i = 0; i < 6; i++) a.setFloat(i, i * 1.5f - 2);
            Tensor b = Tensor.allocate(arena, "b", DType.BF16, 5);
            for (int i = 0; i < 5; i++) b.setFloat(i, i);
            Tensor empty = Tensor.allocate(arena, "e", DType.F32, 0, 4);
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("a", a);
            m.put("b", b);
            m.put("e", empty);
            SafetensorsWriter.write(p, m, Map.of("format", "pt"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a", "b", "e"), List.copyOf(f.tensors().keySet()));
            assertArrayEquals(new float[] {-2, -0.5f, 1, 2.5f, 4, 5.5f}, f.tensors().get("a").toFloatArray());
            assertArrayEquals(new long[] {2, 3}, f.tensors().get("a").shape());
            assertArrayEquals(new float[] {0, 1, 2, 3, 4}, f.tensors().get("b").toFloatArray());
            assertEquals(DType.BF16, f.tensors().get("b").dtype());
            assertEquals("pt", f.metadata().get("format"));
        }
    }

    @Test
    void accessAfterCloseFailsWithoutCrash() throws IOException {
        Path p = dir.resolve("t.safetensors");
        Files.write(p, file("{" + A + "}", 8));
        Tensor t;
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            t = f.tensors().get("a");
            assertEquals(0f, t.getFloat(1));
        }
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }

    private void shard(String name, String header, int bytes) throws IOException {
        Files.write(dir.resolve(name), file(header, bytes));
    }

    @Test
    void indexNamingATensorNoShardHasIsAnError() throws IOException {
        shard("s1.safetensors", "{" + A + "}", 8);
        Files.writeString(dir.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertEquals("b", e.tensor());
        assertTrue(e.getMessage().contains("that shard has no such tensor"), e.getMessage());
    }

    @Test
    void tensorInTwoShardsIsAnError() throws IOException {
        shard("s1.safetensors", "{" + A + "}", 8);
        shard("s2.safetensors", "{" + A + "}", 8);
        Files.writeString(dir.resolve(Checkpoint.INDEX),
                "{\"weight_map\":{\"a\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}}");
        assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
    }

    @Test
    void indexNamingAMissingShardIsAnError() throws IOException {
        Files.writeString(dir.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"nowhere.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("nowhere.safetensors"), e.getMessage());
    }

    @Test
    void missingAndWrongShapeTensors() throws IOException {
        shard(Checkpoint.SINGLE, "{" + A + "}", 8);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(2, c.require("a", 2).numel());
            CheckpointException missing = assertThrows(CheckpointException.class, () -> c.require("backbone.norm_f.weight", 64));
            assertTrue(missing.getMessage().contains("lacks"), missing.getMessage());
            assertEquals("backbone.norm_f.weight", missing.tensor());
            CheckpointException shape = assertThrows(CheckpointException.class, () -> c.require("a", 3));
            assertTrue(shape.getMessage().contains("shape [2] but the config implies [3]"), shape.getMessage());
        }
    }

    @Test
    void pickleOnlyFolderIsRefused() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[16]);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("never unpickles"), e.getMessage());
    }

    @Test
    void shardedFixtureHoldsTheSameTensorsAsTheSingleFile() {
        Path fixtures = Path.of("src/test/resources/fixtures");
        try (Checkpoint single = Checkpoint.open(fixtures.resolve("nemotron_h"));
             Checkpoint sharded = Checkpoint.open(fixtures.resolve("nemotron_h_sharded"))) {
            assertEquals(single.tensors().keySet(), sharded.tensors().keySet());
            for (var e : single.tensors().entrySet())
                assertArrayEquals(e.getValue().toFloatArray(), sharded.tensors().get(e.getKey()).toFloatArray(), e.getKey());
        }
    }

    @Test
    void joinedIsAViewOfTheMappingOnlyForAdjacentMatrices() throws IOException {
        Path p = dir.resolve("t.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            for (String name : List.of("a", "b", "v", "c")) { // a, b, c [2, 3] in file order; v [4] between b and c
                Tensor t = name.equals("v") ? Tensor.allocate(arena, name, DType.F32, 4) : Tensor.allocate(arena, name, DType.F32, 2, 3);
                for (int i = 0; i < t.numel(); i++) t.setFloat(i, name.charAt(0) * 10 + i);
                m.put(name, t);
            }
            SafetensorsWriter.write(p, m, Map.of());
        }
        try (Checkpoint c = Checkpoint.open(p)) {
            Tensor a = c.tensors().get("a"), b = c.tensors().get("b"), cc = c.tensors().get("c");
            Tensor ab = c.joined("ab", List.of(a, b)).orElseThrow();
            assertArrayEquals(new long[] {4, 3}, ab.shape());
            assertTrue(ab.data().isMapped(), "a view of the file's mapping, not a copy");
            assertEquals(a.data().address(), ab.data().address());
            float[] want = new float[12];
            System.arraycopy(a.toFloatArray(), 0, want, 0, 6);
            System.arraycopy(b.toFloatArray(), 0, want, 6, 6);
            assertArrayEquals(want, ab.toFloatArray());
            assertTrue(c.joined("ba", List.of(b, a)).isEmpty(), "in file order only");
            assertTrue(c.joined("bc", List.of(b, cc)).isEmpty(), "v lies between them");
            assertTrue(c.joined("bv", List.of(b, c.tensors().get("v"))).isEmpty(), "v is not a matrix");
            try (Arena arena = Arena.ofConfined()) { // adjacent in memory, but not in the checkpoint's files
                var both = arena.allocate(48, 64);
                Tensor x = Tensor.of("x", DType.F32, new long[] {2, 3}, both.asSlice(0, 24));
                Tensor y = Tensor.of("y", DType.F32, new long[] {2, 3}, both.asSlice(24, 24));
                assertTrue(c.joined("xy", List.of(x, y)).isEmpty(), "memory outside the mapping is never joined");
            }
        }
    }
}
