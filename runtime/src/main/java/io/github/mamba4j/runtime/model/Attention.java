package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention: q, k, v = projections of xn ([B·L, Hq·d], [B·L, Hkv·d]);
 * RoPE on q, k when configured; out = softmax(scale · q·Kᵀ) V over the KV cache;
 * residual += o_proj(out).
 */
public record Attention(Mixer.Attention spec, int hidden, Tensor q, Tensor qBias, Tensor k, Tensor kBias, Tensor v,
                        Tensor vBias, Tensor o, Tensor oBias) implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var kn = s.kernels();
        var c = (LayerCache.Kv) cache;
        int rows = s.rows(), L = s.seqlen(), D = hidden, d = spec.headDim();
        int qw = spec.qHeads() * d, kvw = spec.kvHeads() * d;
        MemorySegment qs = s.floats((long) rows * qw), ks = s.floats((long) rows * kvw), vs = s.floats((long) rows * kvw);
        kn.matmul(rows, qw, D, xn, D, q, qBias, qs, qw, false);
        kn.matmul(rows, kvw, D, xn, D, k, kBias, ks, kvw, false);
        kn.matmul(rows, kvw, D, xn, D, v, vBias, vs, kvw, false);
        var qv = new Kernels.Strided(qs, (long) L * qw, qw);
        var kv = new Kernels.Strided(ks, (long) L * kvw, kvw);
        if (spec.rope() != null) kn.rope(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, spec.rope(), qv, kv, s.startPos());
        MemorySegment out = s.floats((long) rows * qw);
        kn.attention(s.batch(), L, spec.qHeads(), spec.kvHeads(), d, c.capacity(), qv, kv, new Kernels.Strided(vs, (long) L * kvw, kvw),
                c.k(), c.v(), s.slots(), s.startPos(), new Kernels.Strided(out, (long) L * qw, qw), spec.scale());
        kn.matmul(rows, D, qw, out, qw, o, oBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        long perToken = (long) spec.kvHeads() * spec.headDim();
        long bytes = (long) slots * capacity * perToken * Float.BYTES;
        return new LayerCache.Kv(arena.allocate(bytes, 64), arena.allocate(bytes, 64), capacity, perToken);
    }
}
