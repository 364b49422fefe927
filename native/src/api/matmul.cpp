// Entry point of matmul / matvec: argument checks, routing.
#include "../common.h"
#include "../kernels.h"

using namespace mamba4j;

static void check(const mamba4j_matmul_args& a) {
    require_positive(a.m, "m");
    require_positive(a.n, "n");
    require_positive(a.k, "k");
    require_dtype(a.dtype, "dtype");
    if (a.weight_dtype != MAMBA4J_F32 && a.weight_dtype != MAMBA4J_BF16)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "weight_dtype must be F32 or BF16, got %s (%d)", dtype_name(a.weight_dtype),
             (int)a.weight_dtype);
    require_ptr(a.x, "x");
    require_ptr(a.w, "w");
    require_ptr(a.y, "y");
    require_stride(a.x_stride, a.k, "x_stride");
    require_stride(a.y_stride, a.n, "y_stride");
    checked_extent(1, 0, a.m, a.x_stride, a.k, "x extent");
    checked_extent(1, 0, a.m, a.y_stride, a.n, "y extent");
    checked_extent(1, 0, a.n, a.k, a.k, "w extent");
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO or REFERENCE", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_matmul(mamba4j_context* ctx, const mamba4j_matmul_args* args) {
    return guarded("mamba4j_matmul", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args);
        route<mamba4j_matmul>("mamba4j_matmul", ctx, *args, cpu::matmul, MAMBA4J_CUDA_KERNEL(matmul));
    });
}
