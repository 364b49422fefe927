package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Block;
import io.github.mamba4j.runtime.config.ConfigLoader;
import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.config.ModelConfig;
import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.safetensors.CheckpointException;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * A loaded model: the checkpoint's tensors (memory-mapped, used as stored: matrices are
 * never copied, and projections of one input share a matmul only where their bytes are
 * adjacent in the file, see {@link Projection}), the few converted once at load (per-channel
 * vectors and biases to fp32; output projections scaled by a residual multiplier), and the
 * list of pre-norm residual blocks. AutoCloseable: closing unmaps the checkpoint and frees
 * the converted tensors. A model and its sessions are used by one thread at a time: they
 * share the model's kernels and their native context, which is not thread-safe.
 */
public final class Model implements AutoCloseable {
    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Arena arena;
    private final Kernels kernels;
    private final List<Layer> layers;
    private final List<Tensor> norms;
    private final Tensor embedding;
    private final Tensor finalNorm;
    private final Tensor lmHead;
    private NativeKernels ownedKernels;

    private Model(ModelConfig config, Checkpoint checkpoint, Arena arena, Kernels kernels, List<Layer> layers, List<Tensor> norms,
                  Tensor embedding, Tensor finalNorm, Tensor lmHead) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.arena = arena;
        this.kernels = kernels;
        this.layers = layers;
        this.norms = norms;
        this.embedding = embedding;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /**
     * Loads a checkpoint folder (config.json + safetensors) to run on libmamba4j's CPU
     * kernels (a CPU context the model owns and closes). Fails if the native library cannot
     * load: there is no silent fallback.
     */
    public static Model load(Path dir) {
        NativeKernels kernels = new NativeKernels();
        try {
            Model m = load(dir, kernels);
            m.ownedKernels = kernels;
            return m;
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    /** Loads a checkpoint folder to run on {@code kernels}, which stay the caller's to close. */
    public static Model load(Path dir, Kernels kernels) {
        ModelConfig config = ConfigLoader.load(dir);
        Checkpoint checkpoint = Checkpoint.open(dir);
        Arena arena = Arena.ofShared();
        try {
            return new Loader(config, checkpoint, arena).build(kernels);
        } catch (RuntimeException e) {
            arena.close();
            checkpoint.close();
            throw e;
        }
    }

    /** Resolves tensor names (with the backbone./model. prefix swap) and converts once at load. */
    private record Loader(ModelConfig config, Checkpoint ckpt, Arena arena) {
        static List<String> aliases(String name) {
            List<String> names = new ArrayList<>(List.of(name));
            if (name.startsWith("backbone.")) names.add("model." + name.substring("backbone.".length()));
            else if (name.startsWith("model.")) names.add("backbone." + name.substring("model.".length()));
            return names;
        }

        Tensor t(String name, long... shape) {
            return ckpt.require(aliases(name), shape);
        }

        Tensor opt(boolean present, String name, long... shape) {
            return present ? t(name, shape) : null;
        }

        /** Per-channel vectors as fp32 (kernels take them so); a copy only when stored otherwise. */
        Tensor f32(Tensor t) {
            return t == null ? null : t.as(DType.F32, arena);
        }

        /** Matrices [n_i, D] projecting one input, used as stored (see {@link Projection}); biases may be null. */
        Projection projection(String name, Tensor[] parts, Tensor... biases) {
            return Projection.of(ckpt, arena, name, parts, biases);
        }

        /**
         * A copy multiplied by {@code s} (residual/logit multipliers folded into a weight once at
         * load: a conversion, like fp32 vectors), or the tensor itself when s == 1.
         */
        Tensor scaled(Tensor t, float s) {
            if (t == null || s == 1f) return t;
            Tensor out = Tensor.allocate(arena, t.name(), t.dtype() == DType.BF16 ? DType.BF16 : DType.F32, t.shape());
            for (long i = 0, n = t.numel(); i < n; i++) out.setFloat(i, t.getFloat(i) * s);
            return out;
        }

        Model build(Kernels kernels) {
            int D = config.hidden(), V = config.vocabSize();
            List<Layer> layers = new ArrayList<>();
            List<Tensor> norms = new ArrayList<>();
            for (Block b : config.blocks()) {
                norms.add(t(b.norm(), D));
                layers.add(layer(b.mixer(), D, b.residualScale()));
            }
            List<String> embNames = new ArrayList<>();
            config.embedding().forEach(n -> embNames.addAll(aliases(n)));
            Tensor emb = ckpt.require(embNames, V, D);
            Optional<Tensor> head = ckpt.find(aliases(config.lmHead()));
            Tensor lmHead;
            if (head.isPresent()) lmHead = ckpt.require(aliases(config.lmHead()), V, D);
            else if (config.tieEmbeddings()) lmHead = emb;
            else throw new CheckpointException(ckpt.location(), config.lmHead(), "the model needs this tensor (tie_word_embeddings "
                    + "is false) but the checkpoint lacks it");
            // logits / logitsScale = (rmsnorm(x) ⊙ w / logitsScale) · headᵀ: fold the divisor into the final
            // norm's [D] weight rather than copy the [V, D] head
            return new Model(config, ckpt, arena, kernels, List.copyOf(layers), List.copyOf(norms),
                    scaled(emb, config.embeddingScale()), scaled(f32(t(config.finalNorm(), D)), 1f / config.logitsScale()), lmHead);
        }

        Layer layer(Mixer mixer, int D, float residualScale) {
            String p = mixer.prefix();
            return switch (mixer) {
                case Mixer.Mamba1 m -> {
                    int E = m.inner(), N = m.state(), R = m.dtRank(), K = m.convWidth();
                    yield new Mamba1Mixer(m, D, t(p + "in_proj.weight", 2L * E, D), f32(opt(m.projBias(), p + "in_proj.bias", 2L * E)),
                            f32(t(p + "conv1d.weight", E, 1, K)).reshape(E, K), f32(opt(m.convBias(), p + "conv1d.bias", E)),
                            t(p + "x_proj.weight", R + 2L * N, E), t(p + "dt_proj.weight", E, R), f32(t(p + "dt_proj.bias", E)),
                            f32(t(p + "A_log", E, N)), f32(t(p + "D", E)), scaled(t(p + "out_proj.weight", D, E), residualScale),
                            f32(scaled(opt(m.projBias(), p + "out_proj.bias", D), residualScale)));
                }
                case Mixer.Mamba2 m -> {
                    int E = m.inner(), H = m.heads(), C = m.convChannels(), K = m.convWidth(), P = m.inProjRows();
                    yield new Mamba2Mixer(m, D, t(p + "in_proj.weight", P, D), f32(opt(m.projBias(), p + "in_proj.bias", P)),
                            f32(t(p + "conv1d.weight", C, 1, K)).reshape(C, K), f32(opt(m.convBias(), p + "conv1d.bias", C)),
                            f32(t(p + "dt_bias", H)), f32(t(p + "A_log", H)), f32(t(p + "D", H)), t(p + "norm.weight", E),
                            scaled(t(p + "out_proj.weight", D, E), residualScale),
                            f32(scaled(opt(m.projBias(), p + "out_proj.bias", D), residualScale)));
                }
                case Mixer.Attention a -> {
                    long qw = (long) a.qHeads() * a.headDim(), kvw = (long) a.kvHeads() * a.headDim();
                    if (a.qHeads() % a.kvHeads() != 0)
                        throw new IllegalArgumentException(p + ": " + a.qHeads() + " query heads are not a multiple of " + a.kvHeads()
                                + " KV heads");
                    Projection qkv = projection(p + "qkv_proj", new Tensor[] {t(p + "q_proj.weight", qw, D),
                            t(p + "k_proj.weight", kvw, D), t(p + "v_proj.weight", kvw, D)}, opt(a.bias(), p + "q_proj.bias", qw),
                            opt(a.bias(), p + "k_proj.bias", kvw), opt(a.bias(), p + "v_proj.bias", kvw));
                    yield new Attention(a, D, qkv, scaled(t(p + "o_proj.weight", D, qw), residualScale),
                            f32(scaled(opt(a.bias(), p + "o_proj.bias", D), residualScale)));
                }
                case Mixer.Mlp m -> {
                    int I = m.intermediate();
                    Tensor gateBias = m.gate() != null && m.bias() ? t(m.gate().replace(".weight", ".bias"), I) : null;
                    Tensor upBias = m.up() != null && m.bias() ? t(m.up().replace(".weight", ".bias"), I) : null;
                    Projection in;
                    if (m.activation() == Mixer.Activation.RELU2) { // up only
                        in = projection(m.up(), new Tensor[] {t(m.up(), I, D)}, upBias);
                    } else if (m.gateUp() != null) { // stored as one [gate; up] matrix: two adjacent parts, one matmul
                        Tensor gateUp = t(m.gateUp(), 2L * I, D);
                        in = projection(m.gateUp(), new Tensor[] {gateUp.rows(0, I), gateUp.rows(I, 2L * I)}, null, null);
                    } else {
                        in = projection(m.prefix() + "gate_up_proj", new Tensor[] {t(m.gate(), I, D), t(m.up(), I, D)}, gateBias, upBias);
                    }
                    yield new Mlp(m, D, in, scaled(t(m.down(), D, I), residualScale),
                            m.bias() ? f32(scaled(t(m.down().replace(".weight", ".bias"), D), residualScale)) : null);
                }
            };
        }
    }

    public ModelConfig config() {
        return config;
    }

    public List<Layer> layers() {
        return layers;
    }

    public Kernels kernels() {
        return kernels;
    }

    /** Bytes of all tensors in the checkpoint (what {@link #prefetch} reads). */
    public long checkpointBytes() {
        return checkpoint.tensors().values().stream().mapToLong(Tensor::byteSize).sum();
    }

    /**
     * Reads the memory-mapped checkpoint into memory now rather than on first use, in pieces
     * of at most 64 MiB, calling {@code progress} with (bytes read, total) after each piece:
     * for a progress bar, and so the first tokens are not slowed by page faults.
     */
    public void prefetch(BiConsumer<Long, Long> progress) {
        final long piece = 64L << 20;
        long total = checkpointBytes(), done = 0;
        for (Tensor t : checkpoint.tensors().values()) {
            MemorySegment data = t.data();
            for (long off = 0; off < data.byteSize(); off += piece) {
                long n = Math.min(piece, data.byteSize() - off);
                if (data.isMapped()) data.asSlice(off, n).load();
                done += n;
                progress.accept(done, total);
            }
        }
    }

    public int vocabSize() {
        return config.vocabSize();
    }

    boolean hasAttention() {
        return layers.stream().anyMatch(l -> l instanceof Attention);
    }

    /**
     * A session of up to {@code maxSequences} concurrent sequences of up to {@code maxTokens}
     * tokens each (the KV cache capacity; SSM states are constant in length).
     */
    public Session newSession(int maxSequences, int maxTokens) {
        return new Session(this, maxSequences, maxTokens);
    }

    /**
     * Runs B sequences of L new tokens each ({@code ids} row-major [B, L]) through the model,
     * updating the caches of {@code slots}; returns logits [B·L, V] when {@code allLogits},
     * else the last token's [B, V].
     */
    float[] forward(Session session, int batch, int seqlen, int[] slots, int[] startPos, int[] ids, boolean allLogits) {
        requireVocabulary(ids, seqlen);
        return logits(session, batch, seqlen, slots, startPos, ids, allLogits).toArray(ValueLayout.JAVA_FLOAT);
    }

    /**
     * One decode step of B sequences (one token each): as {@link #forward}, through the
     * session's recorded plan for B sequences where the kernels record (one native call for
     * the whole step, see {@link DecodePlan}), else kernel by kernel.
     */
    float[] decode(Session session, int[] slots, int[] startPos, int[] ids) {
        requireVocabulary(ids, 1);
        DecodePlan plan = session.decodePlan(slots.length, () -> DecodePlan.record(this, session, slots, startPos, ids));
        if (plan == null) return logits(session, slots.length, 1, slots, startPos, ids, false).toArray(ValueLayout.JAVA_FLOAT);
        return plan.run(slots, startPos, ids);
    }

    // checked here so every backend reports it alike, before any state changes
    private void requireVocabulary(int[] ids, int seqlen) {
        int V = config.vocabSize();
        for (int i = 0; i < ids.length; i++)
            if (ids[i] < 0 || ids[i] >= V)
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i % seqlen + " is outside the "
                        + "vocabulary [0, " + V + ")");
    }

    /** The kernel calls of a forward call; the logits stay in the session's scratch until its next call. */
    MemorySegment logits(Session session, int batch, int seqlen, int[] slots, int[] startPos, int[] ids, boolean allLogits) {
        int D = config.hidden(), V = config.vocabSize(), rows = batch * seqlen;
        Scratch scratch = session.scratch();
        scratch.reset();
        Step step = new Step(kernels, scratch, batch, seqlen, slots, startPos);
        MemorySegment residual = step.floats((long) rows * D);
        MemorySegment xn = step.floats((long) rows * D);
        kernels.embedding(rows, ids, embedding, residual, D);
        for (int i = 0; i < layers.size(); i++) {
            kernels.rmsnorm(rows, D, residual, D, norms.get(i), xn, D, config.normEps());
            Scratch.Mark mark = scratch.mark();
            layers.get(i).forward(step, xn, residual, session.cache(i));
            scratch.release(mark); // the layer's temporaries are dead: the next layer reuses them
        }
        kernels.rmsnorm(rows, D, residual, D, finalNorm, xn, D, config.normEps());
        int m = allLogits ? rows : batch;
        MemorySegment logits = step.floats((long) m * V);
        if (allLogits) kernels.matmul(rows, V, D, xn, D, lmHead, null, logits, V, false);
        else kernels.matmul(batch, V, D, xn.asSlice((long) (seqlen - 1) * D * Float.BYTES), (long) seqlen * D, lmHead, null,
                logits, V, false);
        return logits;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
        checkpoint.close();
        if (ownedKernels != null) ownedKernels.close();
        ownedKernels = null;
    }
}
