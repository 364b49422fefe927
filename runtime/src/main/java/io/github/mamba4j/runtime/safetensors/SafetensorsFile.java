package io.github.mamba4j.runtime.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file, validated and memory-mapped (read-only; tensors are views of the
 * mapping, never copies). Layout: u64 little-endian header length n, n bytes of UTF-8 JSON
 * {@code {"name": {"dtype", "shape", "data_offsets": [begin, end)}, "__metadata__": {..}}},
 * then the data buffer. Rules enforced (those of the reference implementation): file of at
 * least 8 bytes; header at most {@value #MAX_HEADER_BYTES} bytes and inside the file; valid
 * UTF-8 JSON object starting with '{'; no duplicate names; known dtype; non-negative shape;
 * end - begin = elements × dtype size (checked arithmetic); offsets contiguous from 0 (no
 * overlap, no hole); the buffer ends exactly at the end of the file.
 */
public final class SafetensorsFile implements AutoCloseable {
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens, validates and maps {@code path}; throws {@link CheckpointException} naming the broken rule. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            return open(path, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile open(Path path, Arena arena) {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new CheckpointException(path, null, "file of " + size + " bytes is shorter than the 8-byte header length");
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot read: " + e.getMessage(), e);
        }
        long size = file.byteSize();
        long n = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > MAX_HEADER_BYTES)
            throw new CheckpointException(path, null, "header length " + Long.toUnsignedString(n) + " is over the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        if (n > size - 8)
            throw new CheckpointException(path, null, "header length " + n + " runs past the end of the file ("
                    + size + " bytes)");
        if (n < 2) throw new CheckpointException(path, null, "header of " + n + " bytes cannot hold a JSON object");
        ByteBuffer headerBytes = file.asSlice(8, n).asByteBuffer();
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, null, "header is not valid UTF-8", e);
        }
        if (header.charAt(0) != '{') throw new CheckpointException(path, null, "header does not start with '{'");
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (IOException e) {
            String why = e.getMessage().contains("Duplicate field") ? "duplicate tensor name in header: " : "header is not valid JSON: ";
            throw new CheckpointException(path, null, why + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) throw new CheckpointException(path, null, "header is not a JSON object");

        long bufferStart = 8 + n;
        long bufferSize = size - bufferStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        record Entry(String name, DType dtype, long[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new CheckpointException(path, null, "__metadata__ is not an object of strings");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual())
                        throw new CheckpointException(path, null, "__metadata__ value of '" + kv.getKey() + "' is not a string");
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            if (!v.isObject()) throw new CheckpointException(path, name, "entry is not a JSON object");
            JsonNode dt = v.get("dtype");
            if (dt == null || !dt.isTextual()) throw new CheckpointException(path, name, "missing or non-string \"dtype\"");
            DType dtype = DType.of(dt.asText()).orElseThrow(() -> new CheckpointException(path, name,
                    "unknown dtype \"" + dt.asText() + "\" (known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2)"));
            JsonNode sh = v.get("shape");
            if (sh == null || !sh.isArray()) throw new CheckpointException(path, name, "missing or non-array \"shape\"");
            long[] shape = new long[sh.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0)
                    throw new CheckpointException(path, name, "shape entry " + d + " is not a non-negative integer");
                shape[i] = d.asLong();
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2)
                throw new CheckpointException(path, name, "\"data_offsets\" is not a pair [begin, end]");
            for (JsonNode o : off)
                if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0)
                    throw new CheckpointException(path, name, "data offset " + o + " is not a non-negative integer");
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (end < begin) throw new CheckpointException(path, name, "data_offsets end " + end + " < begin " + begin);
            long expected;
            try {
                expected = Math.multiplyExact(Tensor.numel(shape), (long) dtype.bytes());
            } catch (ArithmeticException e) {
                throw new CheckpointException(path, name, "shape × dtype size overflows 64 bits");
            }
            if (end - begin != expected)
                throw new CheckpointException(path, name, "byte size " + (end - begin) + " (data_offsets " + begin + ".." + end
                        + ") does not match shape " + java.util.Arrays.toString(shape) + " × " + dtype + " = " + expected + " bytes");
            entries.add(new Entry(name, dtype, shape, begin, end));
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        for (Entry e : entries) {
            if (e.begin() < expectedBegin)
                throw new CheckpointException(path, e.name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + ") overlap the previous tensor (which ends at " + expectedBegin + ")");
            if (e.begin() > expectedBegin)
                throw new CheckpointException(path, e.name(), "data_offsets begin at " + e.begin() + " leaving a hole after "
                        + expectedBegin + " (offsets must be contiguous from 0)");
            expectedBegin = e.end();
        }
        if (expectedBegin > bufferSize)
            throw new CheckpointException(path, entries.isEmpty() ? null : entries.getLast().name(), "data truncated: tensors need "
                    + expectedBegin + " bytes of data but the file holds " + bufferSize);
        if (expectedBegin < bufferSize)
            throw new CheckpointException(path, null, "data buffer does not end at the end of the file: " + (bufferSize - expectedBegin)
                    + " bytes follow the last tensor");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries)
            tensors.put(e.name(), Tensor.of(e.name(), e.dtype(), e.shape(), file.asSlice(bufferStart + e.begin(), e.end() - e.begin())));
        return new SafetensorsFile(path, arena, file, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    public Path path() {
        return path;
    }

    /** Tensors by name, in data order; views of the mapping, valid until {@link #close()}. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The whole file's read-only mapping (the tensors are slices of it), valid until {@link #close()}. */
    MemorySegment mapping() {
        return mapping;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
