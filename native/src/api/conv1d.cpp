// Entry point of the causal depthwise conv1d (+ SiLU): argument checks, routing.
#include "../common.h"
#include "../kernels.h"
#include "state_slots.h"

using namespace mamba4j;

// host: the slot table is host memory (CPU context) and is checked here; a CUDA context's is
// device memory and is not read (the caller owns its bounds, as it owns the slot count).
static void check(const mamba4j_conv1d_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.seqlen, "seqlen");
    require_positive(a.channels, "channels");
    require_positive(a.width, "width");
    require_dtype(a.dtype, "dtype");
    require_dtype(a.weight_dtype, "weight_dtype");
    require_ptr(a.x, "x");
    require_ptr(a.w, "w");
    require_ptr(a.y, "y");
    require_rows("x", a.batch, a.seqlen, a.channels, a.x_stride_b, a.x_stride_t);
    require_rows("y", a.batch, a.seqlen, a.channels, a.y_stride_b, a.y_stride_t);
    checked_mul(a.channels, a.width, "w extent");
    if (a.state_slots != nullptr && a.conv_state == nullptr)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "state_slots given without conv_state");
    if (a.conv_state != nullptr && host) {
        require_state_slots(a.state_slots, a.batch);
        state_extent(a.state_slots, a.batch, checked_mul(a.width - 1, a.channels, "conv_state extent"),
                     "conv_state extent");
    }
    if (a.silu != 0 && a.silu != 1) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "silu must be 0 or 1, got %d", (int)a.silu);
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_conv1d(mamba4j_context* ctx, const mamba4j_conv1d_args* args) {
    return guarded("mamba4j_conv1d", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_conv1d>("mamba4j_conv1d", ctx, *args, cpu::conv1d, MAMBA4J_CUDA_KERNEL(conv1d));
    });
}
