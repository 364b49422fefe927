// Entry point of the embedding gather: argument checks, routing. The ids themselves are
// checked by the backend (they may live in device memory).
#include "../common.h"
#include "../kernels.h"

using namespace mamba4j;

static void check(const mamba4j_embedding_args& a) {
    require_positive(a.count, "count");
    require_positive(a.vocab, "vocab");
    require_positive(a.dim, "dim");
    require_dtype(a.table_dtype, "table_dtype");
    require_dtype(a.out_dtype, "out_dtype");
    require_ptr(a.ids, "ids");
    require_ptr(a.table, "table");
    require_ptr(a.out, "out");
    require_stride(a.out_stride, a.dim, "out_stride");
    checked_extent(1, 0, a.vocab, a.dim, a.dim, "table extent");
    checked_extent(1, 0, a.count, a.out_stride, a.dim, "out extent");
}

extern "C" mamba4j_status mamba4j_embedding(mamba4j_context* ctx, const mamba4j_embedding_args* args) {
    return guarded("mamba4j_embedding", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args);
        route<mamba4j_embedding>("mamba4j_embedding", ctx, *args, cpu::embedding, nullptr);
    });
}
