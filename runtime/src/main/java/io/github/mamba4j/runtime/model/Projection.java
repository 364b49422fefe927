package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * One input projected by several matrices W_i [n_i, D], used as stored (never copied):
 * y[:, c_i : c_i + n_i] = x · W_iᵀ + b_i. Parts whose bytes lie back to back in one mapped
 * file run as one matmul over a view spanning them (safetensors writers sort tensors by
 * name, so gate_proj/up_proj and q_proj/v_proj usually are); the others run one matmul
 * each. The columns c_i follow the parts' order in memory, so merged parts stay side by
 * side in y; {@link #part} finds part i's columns.
 */
public final class Projection {
    private final Tensor[] weights;  // per matmul call: one part, or adjacent parts as one [Σ n_i, D] view
    private final Tensor[] biases;   // per call: fp32 [rows of its weight], or null
    private final int[] callColumns; // per call: its first column in y
    private final int[] columns;     // per part, in the order given at load: its first column in y
    private final int width;         // Σ n_i

    private Projection(Tensor[] weights, Tensor[] biases, int[] callColumns, int[] columns, int width) {
        this.weights = weights;
        this.biases = biases;
        this.callColumns = callColumns;
        this.columns = columns;
        this.width = width;
    }

    /**
     * Groups {@code parts} (with their biases, each null when absent) by adjacency in the
     * checkpoint's files. Biases are the only conversions: fp32, and one vector per merged
     * call (zeros for a part without one), made here in {@code arena}.
     */
    static Projection of(Checkpoint ckpt, Arena arena, String name, Tensor[] parts, Tensor[] biases) {
        for (Tensor t : parts)
            if (t.rank() != 2 || t.dim(1) != parts[0].dim(1))
                throw new IllegalArgumentException(name + ": " + t + " does not project the input of " + parts[0]);
        Integer[] byAddress = IntStream.range(0, parts.length).boxed().toArray(Integer[]::new);
        Arrays.sort(byAddress, Comparator.comparingLong(i -> parts[i].data().address()));
        List<List<Integer>> calls = new ArrayList<>(); // part numbers of each matmul call
        List<Tensor> weights = new ArrayList<>();       // its matrix: one part, or a view of adjacent ones
        for (int i : byAddress) {
            Optional<Tensor> grown = calls.isEmpty() ? Optional.empty() : ckpt.joined(name, List.of(weights.getLast(), parts[i]));
            if (grown.isPresent()) {
                calls.getLast().add(i);
                weights.set(weights.size() - 1, grown.get());
            } else {
                calls.add(new ArrayList<>(List.of(i)));
                weights.add(parts[i]);
            }
        }
        Tensor[] b = new Tensor[calls.size()];
        int[] callColumns = new int[calls.size()], columns = new int[parts.length];
        int at = 0;
        for (int c = 0; c < calls.size(); c++) {
            b[c] = bias(arena, name, calls.get(c), parts, biases);
            callColumns[c] = at;
            for (int i : calls.get(c)) {
                columns[i] = at;
                at = Math.addExact(at, Math.toIntExact(parts[i].dim(0)));
            }
        }
        return new Projection(weights.toArray(Tensor[]::new), b, callColumns, columns, at);
    }

    /** fp32 bias of one call: null when its parts have none, the part's own (as fp32) when alone, else one vector. */
    private static Tensor bias(Arena arena, String name, List<Integer> call, Tensor[] parts, Tensor[] biases) {
        if (call.stream().allMatch(i -> biases[i] == null)) return null;
        if (call.size() == 1) return biases[call.getFirst()].as(DType.F32, arena);
        Tensor out = Tensor.allocate(arena, name + ".bias", DType.F32, call.stream().mapToLong(i -> parts[i].dim(0)).sum());
        long at = 0;
        for (int i : call) {
            if (biases[i] != null) for (long j = 0; j < parts[i].dim(0); j++) out.setFloat(at + j, biases[i].getFloat(j));
            at += parts[i].dim(0);
        }
        return out;
    }

    /** y [rows, ≥ width] (row stride yStride) = x [rows, D] · [W_i]ᵀ + b, part i at its columns. */
    public void apply(Kernels k, int rows, MemorySegment x, long xStride, MemorySegment y, long yStride) {
        for (int c = 0; c < weights.length; c++)
            k.matmul(rows, (int) weights[c].dim(0), (int) weights[c].dim(1), x, xStride, weights[c], biases[c],
                    y.asSlice((long) callColumns[c] * Float.BYTES), yStride, false);
    }

    /** Part i's output in y (from its first column on; read it with y's row stride). */
    public MemorySegment part(MemorySegment y, int i) {
        return y.asSlice((long) columns[i] * Float.BYTES);
    }

    /** Σ n_i: the columns of y that {@link #apply} writes. */
    public int width() {
        return width;
    }

    /** Matmul calls per {@link #apply}. */
    public int calls() {
        return weights.length;
    }
}
