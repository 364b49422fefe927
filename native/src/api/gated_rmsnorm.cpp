// Entry point of the gated RMSNorm of Mamba-2: argument checks, routing.
#include "../common.h"
#include "../kernels.h"

using namespace mamba4j;

static void check(const mamba4j_gated_rmsnorm_args& a) {
    require_positive(a.rows, "rows");
    require_positive(a.dim, "dim");
    require_positive(a.group_size, "group_size");
    if (a.dim % a.group_size != 0)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "dim %lld is not a multiple of group_size %lld", (long long)a.dim,
             (long long)a.group_size);
    require_dtype(a.dtype, "dtype");
    require_dtype(a.weight_dtype, "weight_dtype");
    require_ptr(a.x, "x");
    require_ptr(a.w, "w");
    require_ptr(a.y, "y");
    require_stride(a.x_stride, a.dim, "x_stride");
    require_stride(a.y_stride, a.dim, "y_stride");
    checked_extent(1, 0, a.rows, a.x_stride, a.dim, "x extent");
    checked_extent(1, 0, a.rows, a.y_stride, a.dim, "y extent");
    if (a.z != nullptr) {
        require_stride(a.z_stride, a.dim, "z_stride");
        checked_extent(1, 0, a.rows, a.z_stride, a.dim, "z extent");
    }
    if (a.norm_before_gate != 0 && a.norm_before_gate != 1)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "norm_before_gate must be 0 or 1, got %d", (int)a.norm_before_gate);
    if (!(a.eps >= 0.0f)) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "eps must be >= 0, got %g", double(a.eps));
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_gated_rmsnorm(mamba4j_context* ctx, const mamba4j_gated_rmsnorm_args* args) {
    return guarded("mamba4j_gated_rmsnorm", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args);
        route<mamba4j_gated_rmsnorm>("mamba4j_gated_rmsnorm", ctx, *args,
            cpu::gated_rmsnorm, MAMBA4J_CUDA_KERNEL(gated_rmsnorm));
    });
}
