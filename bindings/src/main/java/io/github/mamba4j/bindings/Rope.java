package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_rope_args;
import java.lang.foreign.MemorySegment;

/**
 * Rotary position embedding, rotate-half form (Llama / Hugging Face), in place on
 * q [batch, seqlen, qHeads, headDim] and k [batch, seqlen, kvHeads, headDim] (k optional).
 * Token t of row b sits at position {@code startPos[b] + t}; only the first
 * {@code rotaryDim} channels of each head rotate, as pairs (i, i + rotaryDim/2), with
 * {@code inv_freq[i] = theta^(-2i/rotaryDim)}, then {@code llama3} scaling when it is not null.
 */
public record Rope(long batch, long seqlen, long qHeads, long kvHeads, long headDim, long rotaryDim, DType dtype,
                   float theta, Llama3Scaling llama3, Algo algo) {

    /** transformers' "llama3" rope scaling (rope_scaling: factor, low/high_freq_factor, original_max_position_embeddings). */
    public record Llama3Scaling(float factor, float lowFreqFactor, float highFreqFactor, long originalMaxPosition) {}

    /** Strides in elements of the rows (b) and tokens (t) of q and k; heads are contiguous. */
    public record Strides(long qBatch, long qToken, long kBatch, long kToken) {
        public static Strides contiguous(long seqlen, long qHeads, long kvHeads, long headDim) {
            long q = Math.multiplyExact(qHeads, headDim), k = Math.multiplyExact(kvHeads, headDim);
            return new Strides(Math.multiplyExact(seqlen, q), q, Math.multiplyExact(seqlen, k), k);
        }
    }

    /** Full rotary, no scaling, the fast path. */
    public Rope(long batch, long seqlen, long qHeads, long kvHeads, long headDim, DType dtype, float theta) {
        this(batch, seqlen, qHeads, kvHeads, headDim, headDim, dtype, theta, null, Algo.AUTO);
    }

    /** Contiguous q and k. {@code k} and {@code startPos} (int32 [batch]) may be null. */
    public void run(Context ctx, MemorySegment q, MemorySegment k, MemorySegment startPos) {
        run(ctx, Strides.contiguous(Math.max(seqlen, 0), Math.max(qHeads, 0), Math.max(kvHeads, 0), Math.max(headDim, 0)),
                q, k, startPos);
    }

    public void run(Context ctx, Strides strides, MemorySegment q, MemorySegment k, MemorySegment startPos) {
        Native.requireCovers(q, extent(strides.qBatch(), strides.qToken(), qHeads), dtype, "q");
        Native.requireCovers(k, extent(strides.kBatch(), strides.kToken(), kvHeads), dtype, "k");
        Attention.requireInts(startPos, batch, "startPos");
        MemorySegment a = Native.args(mamba4j_rope_args.layout());
        mamba4j_rope_args.batch(a, batch);
        mamba4j_rope_args.seqlen(a, seqlen);
        mamba4j_rope_args.q_heads(a, qHeads);
        mamba4j_rope_args.kv_heads(a, kvHeads);
        mamba4j_rope_args.head_dim(a, headDim);
        mamba4j_rope_args.rotary_dim(a, rotaryDim);
        mamba4j_rope_args.dtype(a, dtype.code);
        mamba4j_rope_args.q(a, Native.orNull(q));
        mamba4j_rope_args.q_stride_b(a, strides.qBatch());
        mamba4j_rope_args.q_stride_t(a, strides.qToken());
        mamba4j_rope_args.k(a, Native.orNull(k));
        mamba4j_rope_args.k_stride_b(a, strides.kBatch());
        mamba4j_rope_args.k_stride_t(a, strides.kToken());
        mamba4j_rope_args.start_pos(a, Native.orNull(startPos));
        mamba4j_rope_args.theta(a, theta);
        if (llama3 != null) {
            mamba4j_rope_args.llama3_factor(a, llama3.factor());
            mamba4j_rope_args.llama3_low_freq_factor(a, llama3.lowFreqFactor());
            mamba4j_rope_args.llama3_high_freq_factor(a, llama3.highFreqFactor());
            mamba4j_rope_args.llama3_original_max_position(a, llama3.originalMaxPosition());
        }
        mamba4j_rope_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_rope(ctx.handle(), a));
    }

    /** Elements spanned by a [batch, seqlen, heads, headDim] view; -1 (left to the native checks) if a size is bad. */
    private long extent(long strideB, long strideT, long heads) {
        return Attention.extent(batch, strideB, seqlen, strideT, heads, headDim);
    }
}
