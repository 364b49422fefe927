package io.github.mamba4j.runtime.model;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The caches of up to {@code maxSequences} sequences: for each SSM layer a conv state and
 * an SSM state (fp32, constant in length), for each attention layer a KV cache of
 * {@code capacity} tokens. Sequences join (take a free slot) and leave (free it) at any
 * time; decode steps run the active sequences together.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final Arena arena = Arena.ofShared();
    private final LayerCache[] caches;
    private final int capacity;
    private final int[] length; // tokens seen per slot; -1 = free
    private final Scratch scratch = new Scratch(); // activations of a forward call, reused by the next
    private final Map<Integer, DecodePlan> decodePlans = new HashMap<>(); // by batch size
    private boolean recordDecode = true; // false: decode kernel by kernel (also once the kernels cannot record)

    /** The memory a session holds: constant SSM states, and KV bytes per token per sequence. */
    public record MemoryReport(long ssmStateBytes, long kvBytesPerToken, long kvBytesAllocated, int slots, int capacity) {
        @Override
        public String toString() {
            return String.format("SSM states %,d bytes (constant) + KV cache %,d bytes per token per sequence (%,d allocated for %d "
                    + "× %d tokens)", ssmStateBytes, kvBytesPerToken, kvBytesAllocated, slots, capacity);
        }
    }

    Session(Model model, int maxSequences, int capacity) {
        if (maxSequences < 1 || capacity < 1) throw new IllegalArgumentException("a session needs at least one sequence and one token");
        this.model = model;
        this.capacity = capacity;
        this.length = new int[maxSequences];
        Arrays.fill(length, -1);
        this.caches = model.layers().stream().map(l -> l.newCache(arena, maxSequences, capacity)).toArray(LayerCache[]::new);
    }

    LayerCache cache(int layer) {
        return caches[layer];
    }

    Scratch scratch() {
        return scratch;
    }

    /**
     * Decode steps run as recorded plans (the default: one native call per step where the
     * model's kernels can record, see {@link DecodePlan}), or kernel by kernel ({@code
     * false}: for comparison and debugging). The results are the same bit for bit.
     */
    public void recordDecodeSteps(boolean on) {
        recordDecode = on;
    }

    int recordedPlans() {
        return decodePlans.size();
    }

    /** The plan of a decode step of {@code batch} sequences, recorded on first use; null when off or not supported. */
    DecodePlan decodePlan(int batch, Supplier<DecodePlan> record) {
        if (!recordDecode) return null;
        DecodePlan plan = decodePlans.get(batch);
        if (plan == null) {
            plan = record.get();
            if (plan == null) recordDecode = false; // these kernels cannot record
            else decodePlans.put(batch, plan);
        }
        return plan;
    }

    public Model model() {
        return model;
    }

    public int capacity() {
        return capacity;
    }

    /** Starts a sequence in a free slot (zeroed states) and returns its id. */
    public int join() {
        for (int s = 0; s < length.length; s++)
            if (length[s] < 0) {
                for (LayerCache c : caches) c.reset(s);
                length[s] = 0;
                return s;
            }
        throw new IllegalStateException("all " + length.length + " sequence slots of this session are in use");
    }

    /** Ends sequence {@code seq}; its slot becomes free. */
    public void leave(int seq) {
        requireActive(seq);
        length[seq] = -1;
    }

    /** Tokens the sequence has consumed so far. */
    public int length(int seq) {
        requireActive(seq);
        return length[seq];
    }

    private void requireActive(int seq) {
        if (seq < 0 || seq >= length.length || length[seq] < 0) throw new IllegalArgumentException("no active sequence " + seq);
    }

    private void requireRoom(int seq, int tokens) {
        if (tokens < 1) throw new IllegalArgumentException("no tokens given");
        if (model.hasAttention() && (long) length[seq] + tokens > capacity)
            throw new IllegalArgumentException("sequence " + seq + " would reach " + ((long) length[seq] + tokens)
                    + " tokens, past the context limit of this session (" + capacity + ")");
    }

    /** Feeds {@code tokens} to sequence {@code seq}; returns the logits after the last one [V]. */
    public float[] prefill(int seq, int[] tokens) {
        return run(seq, tokens, false)[0];
    }

    /** Feeds {@code tokens}; returns the logits after each of them [L][V] (scoring). */
    public float[][] prefillAll(int seq, int[] tokens) {
        return run(seq, tokens, true);
    }

    private float[][] run(int seq, int[] tokens, boolean all) {
        requireActive(seq);
        requireRoom(seq, tokens.length);
        float[] flat = model.forward(this, 1, tokens.length, new int[] {seq}, new int[] {length[seq]}, tokens.clone(), all);
        length[seq] += tokens.length;
        return split(flat, all ? tokens.length : 1);
    }

    /** One decode step of several sequences together: token i goes to sequence seqs[i]; logits [B][V]. */
    public float[][] decode(int[] seqs, int[] tokens) {
        if (seqs.length != tokens.length) throw new IllegalArgumentException("one token per sequence");
        int[] start = new int[seqs.length];
        for (int i = 0; i < seqs.length; i++) {
            requireActive(seqs[i]);
            requireRoom(seqs[i], 1);
            for (int j = 0; j < i; j++) if (seqs[j] == seqs[i]) throw new IllegalArgumentException("sequence " + seqs[i] + " twice");
            start[i] = length[seqs[i]];
        }
        float[] flat = model.decode(this, seqs.clone(), start, tokens.clone());
        for (int s : seqs) length[s]++;
        return split(flat, seqs.length);
    }

    private float[][] split(float[] flat, int rows) {
        int V = model.vocabSize();
        if (rows == 1) return new float[][] {flat};
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) out[r] = Arrays.copyOfRange(flat, r * V, (r + 1) * V);
        return out;
    }

    public MemoryReport memory() {
        long constant = 0, perToken = 0, kv = 0;
        for (LayerCache c : caches) {
            constant += c.constantBytes();
            perToken += c.bytesPerToken();
            if (c instanceof LayerCache.Kv k) kv += k.k().byteSize() + k.v().byteSize();
        }
        return new MemoryReport(constant, perToken, kv, length.length, capacity);
    }

    @Override
    public void close() {
        decodePlans.values().forEach(DecodePlan::close);
        decodePlans.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
