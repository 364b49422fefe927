package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_attention_args;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Causal grouped-query attention with a KV cache. The new keys and values
 * k, v [batch, seqlen, kvHeads, headDim] are written to the cache
 * kCache, vCache [slotCount, capacity, kvHeads, headDim] at positions
 * [startPos[b], startPos[b] + seqlen) of slot slots[b]; then each query q [batch, seqlen,
 * qHeads, headDim] at position p attends to cache positions 0..p (query head h uses KV head
 * h / (qHeads / kvHeads)) and the result goes to out [batch, seqlen, qHeads, headDim].
 * {@code scale <= 0} means 1/sqrt(headDim). seqlen 1 is a decode step; rows may have
 * different startPos. The CPU backend computes in F32.
 */
public record Attention(long batch, long seqlen, long qHeads, long kvHeads, long headDim, long capacity,
                        long slotCount, DType dtype, float scale, Algo algo) {

    /** Strides in elements of the rows (b) and tokens (t) of q, k/v and out; heads are contiguous. */
    public record Strides(long qBatch, long qToken, long kvBatch, long kvToken, long outBatch, long outToken) {
        public static Strides contiguous(long seqlen, long qHeads, long kvHeads, long headDim) {
            long q = Math.multiplyExact(qHeads, headDim), kv = Math.multiplyExact(kvHeads, headDim);
            return new Strides(Math.multiplyExact(seqlen, q), q, Math.multiplyExact(seqlen, kv), kv,
                    Math.multiplyExact(seqlen, q), q);
        }
    }

    /** Default scale, the fast path. */
    public Attention(long batch, long seqlen, long qHeads, long kvHeads, long headDim, long capacity, long slotCount,
                     DType dtype) {
        this(batch, seqlen, qHeads, kvHeads, headDim, capacity, slotCount, dtype, 0f, Algo.AUTO);
    }

    /**
     * Contiguous q, k, v, out. {@code slots} (int32 [batch], null: row b uses slot b) and
     * {@code startPos} (int32 [batch], null: all 0) may be null.
     */
    public void run(Context ctx, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment kCache,
                    MemorySegment vCache, MemorySegment slots, MemorySegment startPos, MemorySegment out) {
        run(ctx, Strides.contiguous(Math.max(seqlen, 0), Math.max(qHeads, 0), Math.max(kvHeads, 0), Math.max(headDim, 0)),
                q, k, v, kCache, vCache, slots, startPos, out);
    }

    public void run(Context ctx, Strides strides, MemorySegment q, MemorySegment k, MemorySegment v,
                    MemorySegment kCache, MemorySegment vCache, MemorySegment slots, MemorySegment startPos,
                    MemorySegment out) {
        Native.requireCovers(q, extent(batch, strides.qBatch(), seqlen, strides.qToken(), qHeads, headDim), dtype, "q");
        Native.requireCovers(k, extent(batch, strides.kvBatch(), seqlen, strides.kvToken(), kvHeads, headDim), dtype, "k");
        Native.requireCovers(v, extent(batch, strides.kvBatch(), seqlen, strides.kvToken(), kvHeads, headDim), dtype, "v");
        Native.requireCovers(out, extent(batch, strides.outBatch(), seqlen, strides.outToken(), qHeads, headDim), dtype,
                "out");
        long cache = slotCount > 0 && capacity > 0 && kvHeads > 0 && headDim > 0
                ? Math.multiplyExact(Math.multiplyExact(slotCount, capacity), Math.multiplyExact(kvHeads, headDim))
                : -1;
        Native.requireCovers(kCache, cache, dtype, "kCache");
        Native.requireCovers(vCache, cache, dtype, "vCache");
        requireInts(slots, batch, "slots");
        requireInts(startPos, batch, "startPos");
        MemorySegment a = Native.args(mamba4j_attention_args.layout());
        mamba4j_attention_args.batch(a, batch);
        mamba4j_attention_args.seqlen(a, seqlen);
        mamba4j_attention_args.q_heads(a, qHeads);
        mamba4j_attention_args.kv_heads(a, kvHeads);
        mamba4j_attention_args.head_dim(a, headDim);
        mamba4j_attention_args.capacity(a, capacity);
        mamba4j_attention_args.slot_count(a, slotCount);
        mamba4j_attention_args.dtype(a, dtype.code);
        mamba4j_attention_args.q(a, Native.orNull(q));
        mamba4j_attention_args.q_stride_b(a, strides.qBatch());
        mamba4j_attention_args.q_stride_t(a, strides.qToken());
        mamba4j_attention_args.k(a, Native.orNull(k));
        mamba4j_attention_args.v(a, Native.orNull(v));
        mamba4j_attention_args.kv_stride_b(a, strides.kvBatch());
        mamba4j_attention_args.kv_stride_t(a, strides.kvToken());
        mamba4j_attention_args.k_cache(a, Native.orNull(kCache));
        mamba4j_attention_args.v_cache(a, Native.orNull(vCache));
        mamba4j_attention_args.slots(a, Native.orNull(slots));
        mamba4j_attention_args.start_pos(a, Native.orNull(startPos));
        mamba4j_attention_args.out(a, Native.orNull(out));
        mamba4j_attention_args.out_stride_b(a, strides.outBatch());
        mamba4j_attention_args.out_stride_t(a, strides.outToken());
        mamba4j_attention_args.scale(a, scale);
        mamba4j_attention_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_attention(ctx.handle(), a));
    }

    /**
     * Elements spanned by a [d0, d1, heads, headDim] view with strides s0, s1: (d0 − 1)·s0 +
     * (d1 − 1)·s1 + heads·headDim; -1 (left to the native checks, which name the argument)
     * when a size is not positive or a stride negative.
     */
    static long extent(long d0, long s0, long d1, long s1, long heads, long headDim) {
        if (d0 <= 0 || d1 <= 0 || heads <= 0 || headDim <= 0 || s0 < 0 || s1 < 0) return -1;
        return Math.addExact(Math.addExact(Math.multiplyExact(d0 - 1, s0), Math.multiplyExact(d1 - 1, s1)),
                Math.multiplyExact(heads, headDim));
    }

    /** An optional int32 [count] argument (slots, startPos) must be off-heap and large enough. */
    static void requireInts(MemorySegment segment, long count, String name) {
        if (segment == null || segment.equals(MemorySegment.NULL)) return;
        Native.requireAlive(segment, name);
        if (count <= 0) return;
        if (!segment.isNative())
            throw new IllegalArgumentException(name + " must be off-heap memory (Arena.allocate), not a heap array");
        long need = Math.multiplyExact(count, ValueLayout.JAVA_INT.byteSize());
        if (segment.byteSize() < need)
            throw new IllegalArgumentException(name + " holds " + segment.byteSize() + " bytes but the shape needs " + need);
    }
}
