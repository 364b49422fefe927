package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention: [q | k | v] = xn · [Wq; Wk; Wv]ᵀ [B·L, Hq·d + 2·Hkv·d]
 * (a {@link Projection} of the three stored matrices: q, k, v are column slices, in the
 * matrices' order in the file); RoPE on q, k when configured; out = softmax(scale · q·Kᵀ) V
 * over the KV cache; residual += o_proj(out).
 */
public record Attention(Mixer.Attention spec, int hidden, Projection qkv, Tensor o, Tensor oBias) implements Layer {
    /** Part numbers of {@link #qkv}. */
    static final int Q = 0, K = 1, V = 2;

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var kn = s.kernels();
        var c = (LayerCache.Kv) cache;
        int rows = s.rows(), L = s.seqlen(), D = hidden, d = spec.headDim(), qw = spec.qHeads() * d, W = qkv.width();
        MemorySegment all = s.floats((long) rows * W);
        qkv.apply(kn, rows, xn, D, all, W);
        var q = new Kernels.Strided(qkv.part(all, Q), (long) L * W, W);
        var k = new Kernels.Strided(qkv.part(all, K), (long) L * W, W);
        var v = new Kernels.Strided(qkv.part(all, V), (long) L * W, W);
        if (spec.rope() != null) kn.rope(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, spec.rope(), q, k, s.startPos());
        MemorySegment out = s.floats((long) rows * qw);
        kn.attention(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, c.capacity(), q, k, v, c.k(), c.v(), s.slots(),
                s.startPos(), new Kernels.Strided(out, (long) L * qw, qw), spec.scale());
        kn.matmul(rows, D, qw, out, qw, o, oBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        long perToken = (long) spec.kvHeads() * spec.headDim();
        long bytes = (long) slots * capacity * perToken * Float.BYTES;
        return new LayerCache.Kv(arena.allocate(bytes, 64), arena.allocate(bytes, 64), capacity, perToken);
    }
}
