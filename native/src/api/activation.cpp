// Entry point of the MLP activations: argument checks, routing.
#include "../common.h"
#include "../kernels.h"

using namespace mamba4j;

static void check(const mamba4j_activation_args& a) {
    require_positive(a.rows, "rows");
    require_positive(a.dim, "dim");
    require_dtype(a.dtype, "dtype");
    if (a.kind != MAMBA4J_ACT_SILU_GATE && a.kind != MAMBA4J_ACT_RELU2 && a.kind != MAMBA4J_ACT_SILU)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "unknown activation kind %d", (int)a.kind);
    require_ptr(a.gate, "gate");
    require_ptr(a.y, "y");
    require_stride(a.gate_stride, a.dim, "gate_stride");
    require_stride(a.y_stride, a.dim, "y_stride");
    checked_extent(1, 0, a.rows, a.gate_stride, a.dim, "gate extent");
    checked_extent(1, 0, a.rows, a.y_stride, a.dim, "y extent");
    if (a.kind == MAMBA4J_ACT_SILU_GATE) {
        require_ptr(a.up, "up");
        require_stride(a.up_stride, a.dim, "up_stride");
        checked_extent(1, 0, a.rows, a.up_stride, a.dim, "up extent");
    }
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_activation_apply(mamba4j_context* ctx, const mamba4j_activation_args* args) {
    return guarded("mamba4j_activation_apply", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args);
        route<mamba4j_activation_apply>("mamba4j_activation_apply", ctx, *args, cpu::activation, nullptr);
    });
}
