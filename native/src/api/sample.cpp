// Entry point of token sampling (greedy, temperature, top-k, top-p, min-p): argument
// checks, routing. The logits and uniforms of a CUDA context are device memory and are not
// read here (the kernel writes -1 for a row it cannot sample, see mamba4j.h).
#include "../common.h"
#include "../kernels.h"

#include <cmath>

using namespace mamba4j;

static void check(const mamba4j_sample_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.vocab, "vocab");
    if (a.vocab > INT32_MAX)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "vocab %lld does not fit the int32 ids", (long long)a.vocab);
    require_dtype(a.dtype, "dtype");
    require_ptr(a.logits, "logits");
    require_ptr(a.out_ids, "out_ids");
    if (a.batch > 1) require_stride(a.logits_stride, a.vocab, "logits_stride");
    checked_extent(1, 0, a.batch, a.logits_stride, a.vocab, "logits extent");
    if (!std::isfinite(a.temperature))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "temperature must be finite (<= 0 for greedy), got %g", double(a.temperature));
    if (!(a.top_p > 0.0f && a.top_p <= 1.0f))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "top_p must be in (0, 1] (1: off), got %g", double(a.top_p));
    if (!(a.min_p <= 1.0f))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "min_p must be <= 1 (<= 0: off), got %g", double(a.min_p));
    if (a.temperature > 0.0f) {
        require_ptr(a.uniforms, "uniforms");
        for (int64_t b = 0; host && b < a.batch; b++)
            if (!(a.uniforms[b] >= 0.0f && a.uniforms[b] < 1.0f))
                fail(MAMBA4J_ERR_INVALID_ARGUMENT, "uniforms[%lld] must be in [0, 1), got %g (row %lld)", (long long)b,
                     double(a.uniforms[b]), (long long)b);
    }
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_sample(mamba4j_context* ctx, const mamba4j_sample_args* args) {
    return guarded("mamba4j_sample", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_sample>("mamba4j_sample", ctx, *args, cpu::sample, MAMBA4J_CUDA_KERNEL(sample));
    });
}
