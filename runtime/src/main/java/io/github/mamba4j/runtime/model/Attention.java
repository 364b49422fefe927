package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention: qkv = xn · [Wq; Wk; Wv]ᵀ [B·L, Hq·d + 2·Hkv·d], one matmul
 * over the three projections concatenated at load (q, k, v are column slices of it);
 * RoPE on q, k when configured; out = softmax(scale · q·Kᵀ) V over the KV cache;
 * residual += o_proj(out).
 */
public record Attention(Mixer.Attention spec, int hidden, Tensor qkv, Tensor qkvBias, Tensor o, Tensor oBias)
        implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var kn = s.kernels();
        var c = (LayerCache.Kv) cache;
        int rows = s.rows(), L = s.seqlen(), D = hidden, d = spec.headDim();
        int qw = spec.qHeads() * d, kvw = spec.kvHeads() * d, W = qw + 2 * kvw;
        MemorySegment all = s.floats((long) rows * W);
        kn.matmul(rows, W, D, xn, D, qkv, qkvBias, all, W, false);
        var qv = new Kernels.Strided(all, (long) L * W, W);
        var kv = new Kernels.Strided(all.asSlice((long) qw * Float.BYTES), (long) L * W, W);
        var vv = new Kernels.Strided(all.asSlice((long) (qw + kvw) * Float.BYTES), (long) L * W, W);
        if (spec.rope() != null) kn.rope(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, spec.rope(), qv, kv, s.startPos());
        MemorySegment out = s.floats((long) rows * qw);
        kn.attention(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, c.capacity(), qv, kv, vv, c.k(), c.v(), s.slots(),
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
