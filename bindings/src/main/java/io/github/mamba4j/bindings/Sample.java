package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_sample_args;
import java.lang.foreign.MemorySegment;

/**
 * Picks one token id per row of logits [batch, vocab] ({@code dtype}, rows {@code logitsStride}
 * elements apart). temperature &lt;= 0 is greedy (argmax, lowest id on ties); otherwise the
 * filters top-k (&lt;= 0 off), top-p (1 off), min-p (&lt;= 0 off) cut the ids sorted by logit, and
 * {@code uniforms[b]} in [0, 1) picks from the kept ids by the inverse CDF in id order
 * (mamba4j.h, mamba4j_sample, defines it exactly). uniforms float [batch] (may be null when
 * greedy) and outIds int [batch] are memory of the context.
 */
public record Sample(long batch, long vocab, DType dtype, long logitsStride, float temperature, int topK, float topP,
                     float minP, Algo algo) {

    /** Contiguous rows, the fast path. */
    public Sample(long batch, long vocab, DType dtype, float temperature, int topK, float topP, float minP) {
        this(batch, vocab, dtype, vocab, temperature, topK, topP, minP, Algo.AUTO);
    }

    public void run(Context ctx, MemorySegment logits, MemorySegment uniforms, MemorySegment outIds) {
        Native.requireCovers(logits, Matmul.extent(batch, logitsStride, vocab), dtype, "logits");
        Native.requireCovers(uniforms, batch > 0 ? batch : -1, DType.F32, "uniforms");
        Native.requireCovers(outIds, batch > 0 ? batch : -1, DType.F32, "outIds"); // int32: 4 bytes each, as F32
        MemorySegment a = Native.args(mamba4j_sample_args.layout());
        mamba4j_sample_args.batch(a, batch);
        mamba4j_sample_args.vocab(a, vocab);
        mamba4j_sample_args.dtype(a, dtype.code);
        mamba4j_sample_args.logits(a, Native.orNull(logits));
        mamba4j_sample_args.logits_stride(a, logitsStride);
        mamba4j_sample_args.temperature(a, temperature);
        mamba4j_sample_args.top_k(a, topK);
        mamba4j_sample_args.top_p(a, topP);
        mamba4j_sample_args.min_p(a, minP);
        mamba4j_sample_args.uniforms(a, Native.orNull(uniforms));
        mamba4j_sample_args.out_ids(a, Native.orNull(outIds));
        mamba4j_sample_args.algo(a, algo.code());
        Native.check(Mamba4jH.mamba4j_sample(ctx.handle(), a));
    }
}
