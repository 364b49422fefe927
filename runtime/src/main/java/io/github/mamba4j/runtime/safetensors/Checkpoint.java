package io.github.mamba4j.runtime.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The weights of a checkpoint folder: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}, each validated and memory-mapped. Closing it unmaps
 * every file. Pickled checkpoints ({@code pytorch_model.bin}) are refused: they are never
 * unpickled.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path location;
    private final List<SafetensorsFile> files;
    private final Map<String, Tensor> tensors;
    private final Map<String, Path> fileOf;

    private Checkpoint(Path location, List<SafetensorsFile> files, Map<String, Tensor> tensors, Map<String, Path> fileOf) {
        this.location = location;
        this.files = files;
        this.tensors = tensors;
        this.fileOf = fileOf;
    }

    /** A folder (single file or sharded) or one .safetensors file. */
    public static Checkpoint open(Path location) {
        if (Files.isRegularFile(location)) return single(location, location);
        Path index = location.resolve(INDEX);
        if (Files.isRegularFile(index)) return sharded(location, index);
        Path single = location.resolve(SINGLE);
        if (Files.isRegularFile(single)) return single(location, single);
        try (var list = Files.list(location)) {
            List<Path> st = list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            if (st.size() == 1) return single(location, st.getFirst());
        } catch (IOException e) {
            throw new CheckpointException(location, null, "cannot list the folder: " + e.getMessage(), e);
        }
        if (Files.exists(location.resolve("pytorch_model.bin")))
            throw new CheckpointException(location, null, "only pytorch_model.bin (a pickle) is present; mamba4j never "
                    + "unpickles. Use the safetensors conversion of this model (for example the '-hf' repository)");
        throw new CheckpointException(location, null, "no " + SINGLE + " and no " + INDEX + " in this folder");
    }

    private static Checkpoint single(Path location, Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, Path> fileOf = new LinkedHashMap<>();
        f.tensors().keySet().forEach(n -> fileOf.put(n, file));
        return new Checkpoint(location, List.of(f), f.tensors(), fileOf);
    }

    private static Checkpoint sharded(Path location, Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index, null, "index is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new CheckpointException(index, null, "no \"weight_map\" object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) throw new CheckpointException(index, e.getKey(), "weight_map value is not a file name");
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.isEmpty())
                throw new CheckpointException(index, e.getKey(), "shard name \"" + shard + "\" is not a plain file name");
            weightMap.put(e.getKey(), shard);
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        try {
            for (String shard : new java.util.TreeSet<>(weightMap.values())) {
                Path p = location.resolve(shard);
                if (!Files.isRegularFile(p))
                    throw new CheckpointException(index, null, "names shard " + shard + ", which is not in the folder");
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                byName.put(shard, f);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Path> fileOf = new LinkedHashMap<>();
            for (var e : weightMap.entrySet()) {
                SafetensorsFile f = byName.get(e.getValue());
                Tensor t = f.tensors().get(e.getKey());
                if (t == null)
                    throw new CheckpointException(f.path(), e.getKey(), "the index places this tensor in " + e.getValue()
                            + " but that shard has no such tensor");
                tensors.put(e.getKey(), t);
                fileOf.put(e.getKey(), f.path());
            }
            for (SafetensorsFile f : files)
                for (String name : f.tensors().keySet())
                    if (!weightMap.containsKey(name))
                        throw new CheckpointException(f.path(), name, "tensor is in a shard but not in " + INDEX);
                    else if (!weightMap.get(name).equals(f.path().getFileName().toString()))
                        throw new CheckpointException(f.path(), name, "duplicate: the index places this tensor in "
                                + weightMap.get(name));
            return new Checkpoint(location, files, Collections.unmodifiableMap(tensors), fileOf);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    public Path location() {
        return location;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The first of {@code names} (aliases) that the checkpoint holds, or empty. */
    public Optional<Tensor> find(List<String> names) {
        for (String n : names) if (tensors.containsKey(n)) return Optional.of(tensors.get(n));
        return Optional.empty();
    }

    /**
     * Matrices [n_i, D] of one dtype whose bytes lie back to back in one file, in this order,
     * as one [Σ n_i, D] tensor: a slice of that file's mapping, no copy. Empty when they do not.
     */
    public Optional<Tensor> joined(String name, List<Tensor> parts) {
        Tensor first = parts.getFirst();
        long start = first.data().address(), end = start, rows = 0;
        for (Tensor t : parts) {
            if (t.rank() != 2 || t.dtype() != first.dtype() || t.dim(1) != first.dim(1) || !t.isContiguous()
                    || t.data().address() != end) return Optional.empty();
            rows += t.dim(0);
            end += t.byteSize();
        }
        for (SafetensorsFile f : files) {
            MemorySegment file = f.mapping();
            long from = start - file.address();
            if (from >= 0 && from <= file.byteSize() && end - start <= file.byteSize() - from)
                return Optional.of(Tensor.of(name, first.dtype(), new long[] {rows, first.dim(1)}, file.asSlice(from, end - start)));
        }
        return Optional.empty();
    }

    /** A tensor the model needs, of exactly {@code shape}; clear error when missing or of another shape. */
    public Tensor require(List<String> names, long... shape) {
        Tensor t = find(names).orElseThrow(() -> new CheckpointException(location, names.getFirst(),
                "the model needs this tensor" + (names.size() > 1 ? " (or " + String.join(", ", names.subList(1, names.size())) + ")" : "")
                        + " but the checkpoint lacks it"));
        if (!t.hasShape(shape))
            throw new CheckpointException(fileOf.getOrDefault(t.name(), location), t.name(), "shape " + Arrays.toString(t.shape())
                    + " but the config implies " + Arrays.toString(shape));
        return t;
    }

    public Tensor require(String name, long... shape) {
        return require(List.of(name), shape);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
