package io.github.mamba4j.cli;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file, llama.cpp's model format: "GGUF", version, tensor and key counts,
 * the metadata (typed key/values), the tensor infos (name, dims innermost first, ggml type,
 * offset), then the tensor data, each tensor at a multiple of {@link #ALIGNMENT} bytes.
 * Only what {@code bench-models --llama-bench} needs: u32, f32, bool, string and u32-array values,
 * F32 and BF16 tensors. All numbers little-endian.
 */
final class GgufWriter {
    static final int ALIGNMENT = 32; // general.alignment's default
    static final int F32 = 0, BF16 = 30; // ggml_type
    private static final int UINT32 = 4, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9; // gguf_type

    /** {@code ne}: dims innermost first (a PyTorch [out, in] matrix is {in, out}); data holds exactly the tensor. */
    record Entry(String name, int type, long[] ne, MemorySegment data) {
        Entry {
            long n = 1;
            for (long d : ne) n = Math.multiplyExact(n, d);
            long bytes = n * (type == F32 ? 4 : type == BF16 ? 2 : -1);
            if (bytes != data.byteSize())
                throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes for " + n + " elements of ggml type " + type);
        }
    }

    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();

    /** value: Integer (written as u32), Float, Boolean, String or int[] (array of u32). */
    GgufWriter put(String key, Object value) {
        if (!(value instanceof Integer || value instanceof Float || value instanceof Boolean || value instanceof String
                || value instanceof int[])) throw new IllegalArgumentException(key + ": unsupported value " + value);
        metadata.put(key, value);
        return this;
    }

    GgufWriter tensor(String name, int type, long[] ne, MemorySegment data) {
        tensors.add(new Entry(name, type, ne, data));
        return this;
    }

    void write(Path path) throws IOException {
        Header h = new Header();
        h.buf.putInt(0x46554747).putInt(3).putLong(tensors.size()).putLong(metadata.size()); // "GGUF", v3
        metadata.forEach((key, value) -> {
            h.string(key);
            switch (value) {
                case Integer i -> h.need(8).putInt(UINT32).putInt(i);
                case Float f -> h.need(8).putInt(FLOAT32).putFloat(f);
                case Boolean b -> h.need(5).putInt(BOOL).put((byte) (b ? 1 : 0));
                case String s -> {
                    h.need(4).putInt(STRING);
                    h.string(s);
                }
                case int[] a -> {
                    h.need(16 + 4L * a.length).putInt(ARRAY).putInt(UINT32).putLong(a.length);
                    for (int v : a) h.buf.putInt(v);
                }
                default -> throw new AssertionError(value);
            }
        });
        long offset = 0;
        for (Entry t : tensors) {
            h.string(t.name());
            h.need(4 + 8L * t.ne().length + 12).putInt(t.ne().length);
            for (long d : t.ne()) h.buf.putLong(d);
            h.buf.putInt(t.type()).putLong(offset);
            offset = align(offset + t.data().byteSize());
        }
        h.need(ALIGNMENT).position((int) align(h.buf.position()));
        h.buf.flip();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, h.buf);
            long dataStart = ch.position();
            offset = 0;
            for (Entry t : tensors) {
                ch.position(dataStart + offset);
                writeFully(ch, t.data().asByteBuffer());
                offset = align(offset + t.data().byteSize());
            }
            if (ch.size() < dataStart + offset) ch.write(ByteBuffer.allocate(1), dataStart + offset - 1); // final padding
        }
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** The growing header buffer. */
    private static final class Header {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        ByteBuffer need(long bytes) {
            if (buf.remaining() < bytes) {
                ByteBuffer bigger = ByteBuffer.allocate((int) Math.max(2L * buf.capacity(), buf.position() + bytes))
                        .order(ByteOrder.LITTLE_ENDIAN);
                bigger.put(buf.flip());
                buf = bigger;
            }
            return buf;
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            need(8 + b.length).putLong(b.length).put(b);
        }
    }
}
