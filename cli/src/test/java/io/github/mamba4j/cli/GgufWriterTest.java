package io.github.mamba4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF files as written, read back by a reader written from the format's description. */
class GgufWriterTest {

    /** A parsed GGUF file: metadata values (Integer, Float, Boolean, String, int[]), tensors with their data. */
    record Gguf(Map<String, Object> metadata, Map<String, Info> tensors) {
        record Info(int type, long[] ne, byte[] data) {}

        static Gguf read(Path path) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals("GGUF", new String(new byte[] {b.get(), b.get(), b.get(), b.get()}, StandardCharsets.US_ASCII));
            assertEquals(3, b.getInt(), "version");
            long tensorCount = b.getLong(), kvCount = b.getLong();
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string(b);
                int type = b.getInt();
                metadata.put(key, switch (type) {
                    case 4 -> b.getInt();
                    case 6 -> b.getFloat();
                    case 7 -> b.get() != 0;
                    case 8 -> string(b);
                    case 9 -> {
                        assertEquals(4, b.getInt(), key + ": array of u32");
                        int[] a = new int[(int) b.getLong()];
                        for (int j = 0; j < a.length; j++) a[j] = b.getInt();
                        yield a;
                    }
                    default -> throw new AssertionError(key + ": unexpected type " + type);
                });
            }
            record Raw(String name, int type, long[] ne, long offset) {}
            Raw[] raw = new Raw[(int) tensorCount];
            for (int i = 0; i < tensorCount; i++) {
                String name = string(b);
                long[] ne = new long[b.getInt()];
                for (int j = 0; j < ne.length; j++) ne[j] = b.getLong();
                raw[i] = new Raw(name, b.getInt(), ne, b.getLong());
            }
            int dataStart = (b.position() + 31) / 32 * 32;
            Map<String, Info> tensors = new LinkedHashMap<>();
            for (Raw r : raw) {
                assertEquals(0, r.offset() % 32, r.name() + ": offset aligned to 32");
                long n = 1;
                for (long d : r.ne()) n *= d;
                byte[] data = new byte[(int) (n * (r.type() == 0 ? 4 : 2))];
                b.get(dataStart + (int) r.offset(), data);
                tensors.put(r.name(), new Info(r.type(), r.ne(), data));
            }
            return new Gguf(metadata, tensors);
        }

        private static String string(ByteBuffer b) {
            byte[] s = new byte[(int) b.getLong()];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        float f32(String tensor, int i) {
            return ByteBuffer.wrap(tensors.get(tensor).data()).order(ByteOrder.LITTLE_ENDIAN).getFloat(4 * i);
        }
    }

    @Test
    void writesMetadataTensorsAndAlignedData(@TempDir Path dir) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f, -2f, 3.5f); // 12 bytes: the next one needs padding
            MemorySegment w = arena.allocateFrom(ValueLayout.JAVA_SHORT, (short) 0x3f80, (short) 0xc000, (short) 1, (short) 2,
                    (short) 3, (short) 4);
            Path file = dir.resolve("t.gguf");
            new GgufWriter().put("general.architecture", "mamba2").put("mamba2.block_count", 24)
                    .put("mamba2.attention.layer_norm_rms_epsilon", 1e-5f).put("x.flag", true)
                    .put("x.per_layer", new int[] {0, 4, 0}).tensor("a", GgufWriter.F32, new long[] {3}, a)
                    .tensor("w", GgufWriter.BF16, new long[] {3, 2}, w).write(file);
            Gguf g = Gguf.read(file);
            assertEquals("mamba2", g.metadata().get("general.architecture"));
            assertEquals(24, g.metadata().get("mamba2.block_count"));
            assertEquals(1e-5f, g.metadata().get("mamba2.attention.layer_norm_rms_epsilon"));
            assertEquals(true, g.metadata().get("x.flag"));
            assertArrayEquals(new int[] {0, 4, 0}, (int[]) g.metadata().get("x.per_layer"));
            assertEquals(-2f, g.f32("a", 1));
            assertArrayEquals(new long[] {3, 2}, g.tensors().get("w").ne());
            assertEquals(GgufWriter.BF16, g.tensors().get("w").type());
            assertArrayEquals(w.toArray(ValueLayout.JAVA_BYTE), g.tensors().get("w").data());
            assertEquals(0, Files.size(file) % 32, "the data section ends padded");
        }
    }

    @Test
    void refusesDataOfTheWrongSizeAndUnsupportedValues() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment six = arena.allocate(6);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new GgufWriter().tensor("w", GgufWriter.F32, new long[] {2}, six));
            assertEquals("w: 6 bytes for 2 elements of ggml type 0", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new GgufWriter().put("k", 1.0));
        }
    }
}
