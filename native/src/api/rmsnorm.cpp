// Entry point of RMSNorm (with optional fused residual add): argument checks, routing.
#include "../common.h"
#include "../kernels.h"

using namespace mamba4j;

static void check(const mamba4j_rmsnorm_args& a) {
    require_positive(a.rows, "rows");
    require_positive(a.dim, "dim");
    require_dtype(a.dtype, "dtype");
    require_dtype(a.weight_dtype, "weight_dtype");
    require_ptr(a.x, "x");
    require_ptr(a.w, "w");
    require_ptr(a.y, "y");
    require_stride(a.x_stride, a.dim, "x_stride");
    require_stride(a.y_stride, a.dim, "y_stride");
    checked_extent(1, 0, a.rows, a.x_stride, a.dim, "x extent");
    checked_extent(1, 0, a.rows, a.y_stride, a.dim, "y extent");
    if (a.residual != nullptr) {
        require_stride(a.residual_stride, a.dim, "residual_stride");
        checked_extent(1, 0, a.rows, a.residual_stride, a.dim, "residual extent");
    }
    if (!(a.eps >= 0.0f)) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "eps must be >= 0, got %g", double(a.eps));
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_rmsnorm(mamba4j_context* ctx, const mamba4j_rmsnorm_args* args) {
    return guarded("mamba4j_rmsnorm", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args);
        route<mamba4j_rmsnorm>("mamba4j_rmsnorm", ctx, *args, cpu::rmsnorm, MAMBA4J_CUDA_KERNEL(rmsnorm));
    });
}
