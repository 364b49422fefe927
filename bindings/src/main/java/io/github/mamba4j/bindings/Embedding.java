package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import io.github.mamba4j.bindings.generated.mamba4j_embedding_args;
import java.lang.foreign.MemorySegment;

/**
 * Embedding gather {@code out[i,:] = table[ids[i],:]}: ids [count] int32, table [vocab, dim] of
 * {@code tableDtype}, out [count, dim] of {@code outDtype} (contiguous). An id outside
 * [0, vocab) fails with INVALID_ARGUMENT naming its position and value.
 */
public record Embedding(long count, long vocab, long dim, DType tableDtype, DType outDtype) {

    public void run(Context ctx, MemorySegment ids, MemorySegment table, MemorySegment out) {
        Native.requireCovers(table, vocab > 0 && dim > 0 ? Math.multiplyExact(vocab, dim) : -1, tableDtype, "table");
        Native.requireCovers(out, count > 0 && dim > 0 ? Math.multiplyExact(count, dim) : -1, outDtype, "out");
        Native.requireCovers(ids, count > 0 ? count : -1, DType.F32, "ids"); // int32: 4 bytes each, as F32
        MemorySegment a = Native.args(mamba4j_embedding_args.layout());
        mamba4j_embedding_args.count(a, count);
        mamba4j_embedding_args.vocab(a, vocab);
        mamba4j_embedding_args.dim(a, dim);
        mamba4j_embedding_args.table_dtype(a, tableDtype.code);
        mamba4j_embedding_args.out_dtype(a, outDtype.code);
        mamba4j_embedding_args.ids(a, Native.orNull(ids));
        mamba4j_embedding_args.table(a, Native.orNull(table));
        mamba4j_embedding_args.out(a, Native.orNull(out));
        mamba4j_embedding_args.out_stride(a, dim);
        Native.check(Mamba4jH.mamba4j_embedding(ctx.handle(), a));
    }
}
