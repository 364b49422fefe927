// Entry point of the Mamba-1 fused selective scan: argument checks, routing.
#include "../common.h"
#include "../kernels.h"
#include "state_slots.h"

using namespace mamba4j;

// host: the slot table is host memory (CPU context) and is checked here; a CUDA context's is
// device memory and is not read (the caller owns its bounds, as it owns the slot count).
static void check(const mamba4j_selective_scan_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.seqlen, "seqlen");
    require_positive(a.inner, "inner");
    require_positive(a.state, "state");
    require_dtype(a.dtype, "dtype");
    const int64_t B = a.batch, L = a.seqlen, E = a.inner, N = a.state;
    require_ptr(a.u, "u");
    require_rows("u", B, L, E, a.u_stride_b, a.u_stride_t);
    require_ptr(a.dt, "dt");
    require_rows("dt", B, L, E, a.dt_stride_b, a.dt_stride_t);
    require_ptr(a.B, "B");
    require_rows("B", B, L, N, a.B_stride_b, a.B_stride_t);
    require_ptr(a.C, "C");
    require_rows("C", B, L, N, a.C_stride_b, a.C_stride_t);
    if (a.z) require_rows("z", B, L, E, a.z_stride_b, a.z_stride_t);
    require_ptr(a.y, "y");
    require_rows("y", B, L, E, a.y_stride_b, a.y_stride_t);
    require_ptr(a.A_log, "A_log");
    checked_mul(E, N, "A_log extent");
    if (a.state_slots != nullptr && a.ssm_state == nullptr)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "state_slots given without ssm_state");
    if (a.ssm_state != nullptr && host) {
        require_state_slots(a.state_slots, B);
        state_extent(a.state_slots, B, checked_mul(E, N, "ssm_state extent"), "ssm_state extent");
    }
    if (a.dt_softplus != 0 && a.dt_softplus != 1)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "dt_softplus must be 0 or 1, got %d", (int)a.dt_softplus);
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE && a.algo != MAMBA4J_ALGO_RECURRENT)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO, REFERENCE or RECURRENT", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_selective_scan(mamba4j_context* ctx, const mamba4j_selective_scan_args* args) {
    return guarded("mamba4j_selective_scan", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_selective_scan>("mamba4j_selective_scan", ctx, *args,
            cpu::selective_scan, MAMBA4J_CUDA_KERNEL(selective_scan));
    });
}
