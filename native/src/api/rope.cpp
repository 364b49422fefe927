// Entry point of RoPE (rotate-half, partial rotary, llama3 scaling): argument checks, routing.
#include "../common.h"
#include "../kernels.h"

#include <cmath>

using namespace mamba4j;

// host: start_pos is host memory (CPU context) and is checked here; a CUDA context's is
// device memory and is not read.
static void check(const mamba4j_rope_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.seqlen, "seqlen");
    require_positive(a.q_heads, "q_heads");
    require_positive(a.head_dim, "head_dim");
    require_positive(a.rotary_dim, "rotary_dim");
    if (a.rotary_dim % 2 != 0 || a.rotary_dim > a.head_dim)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "rotary_dim must be even and <= head_dim %lld, got %lld",
             (long long)a.head_dim, (long long)a.rotary_dim);
    require_dtype(a.dtype, "dtype");
    require_ptr(a.q, "q");
    require_rows("q", a.batch, a.seqlen, checked_mul(a.q_heads, a.head_dim, "q extent"), a.q_stride_b, a.q_stride_t);
    if (a.k != nullptr) {
        require_positive(a.kv_heads, "kv_heads");
        require_rows("k", a.batch, a.seqlen, checked_mul(a.kv_heads, a.head_dim, "k extent"), a.k_stride_b, a.k_stride_t);
    }
    if (a.start_pos != nullptr && host)
        for (int64_t b = 0; b < a.batch; b++)
            if (a.start_pos[b] < 0)
                fail(MAMBA4J_ERR_INVALID_ARGUMENT, "start_pos[%lld] must be >= 0, got %d (row %lld)", (long long)b,
                     (int)a.start_pos[b], (long long)b);
    if (!(a.theta > 0.0f) || !std::isfinite(a.theta))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "theta must be finite and > 0, got %g", double(a.theta));
    if (!(a.llama3_factor >= 0.0f) || !std::isfinite(a.llama3_factor))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "llama3_factor must be 0 (no scaling) or > 0, got %g",
             double(a.llama3_factor));
    if (a.llama3_factor > 0.0f) {
        if (!(a.llama3_low_freq_factor > 0.0f) || !(a.llama3_high_freq_factor > a.llama3_low_freq_factor) ||
            !std::isfinite(a.llama3_high_freq_factor))
            fail(MAMBA4J_ERR_INVALID_ARGUMENT,
                 "llama3 scaling needs 0 < llama3_low_freq_factor < llama3_high_freq_factor, got %g and %g",
                 double(a.llama3_low_freq_factor), double(a.llama3_high_freq_factor));
        require_positive(a.llama3_original_max_position, "llama3_original_max_position");
    }
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_rope(mamba4j_context* ctx, const mamba4j_rope_args* args) {
    return guarded("mamba4j_rope", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_rope>("mamba4j_rope", ctx, *args, cpu::rope, MAMBA4J_CUDA_KERNEL(rope));
    });
}
