// Entry point of the Mamba-2 SSD scan: argument checks, routing.
#include "../common.h"
#include "../kernels.h"
#include "state_slots.h"

#include <cmath>
#include <string>

using namespace mamba4j;

// host: the slot table is host memory (CPU context) and can be read here; a CUDA
// context's is device memory, not read (the caller owns its bounds, as for the slot count).
static void check(const mamba4j_ssd_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.seqlen, "seqlen");
    require_positive(a.heads, "heads");
    require_positive(a.head_dim, "head_dim");
    require_positive(a.groups, "groups");
    require_positive(a.state, "state");
    require_non_negative(a.chunk_size, "chunk_size");
    require_dtype(a.dtype, "dtype");
    const int64_t B = a.batch, L = a.seqlen, H = a.heads, P = a.head_dim, G = a.groups, N = a.state;
    if (H % G != 0)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "heads (%lld) must be a multiple of groups (%lld)", (long long)H,
             (long long)G);
    const int64_t HP = checked_mul(H, P, "heads * head_dim"), GN = checked_mul(G, N, "groups * state");
    require_ptr(a.x, "x");
    require_rows("x", B, L, HP, a.x_stride_b, a.x_stride_t);
    require_ptr(a.dt, "dt");
    require_rows("dt", B, L, H, a.dt_stride_b, a.dt_stride_t);
    require_ptr(a.B, "B");
    require_rows("B", B, L, GN, a.B_stride_b, a.B_stride_t);
    require_ptr(a.C, "C");
    require_rows("C", B, L, GN, a.C_stride_b, a.C_stride_t);
    if (a.z) require_rows("z", B, L, HP, a.z_stride_b, a.z_stride_t);
    require_ptr(a.y, "y");
    require_rows("y", B, L, HP, a.y_stride_b, a.y_stride_t);
    require_ptr(a.A_log, "A_log");
    if (!(a.dt_min >= 0.0f) || !std::isfinite(a.dt_min))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "dt_min must be finite and >= 0, got %g", double(a.dt_min));
    if (std::isnan(a.dt_max) || (a.dt_max > 0.0f && a.dt_max < a.dt_min))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "dt_max (%g) must be >= dt_min (%g), or <= 0 for no limit",
             double(a.dt_max), double(a.dt_min));
    if (a.state_slots != nullptr && a.ssm_state == nullptr)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "state_slots given without ssm_state");
    if (a.ssm_state != nullptr && host) {
        require_state_slots(a.state_slots, B);
        state_extent(a.state_slots, B, checked_mul(HP, N, "ssm_state extent"), "ssm_state extent");
    }
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE && a.algo != MAMBA4J_ALGO_RECURRENT &&
        a.algo != MAMBA4J_ALGO_CHUNKED)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO, REFERENCE, RECURRENT or CHUNKED", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_ssd(mamba4j_context* ctx, const mamba4j_ssd_args* args) {
    return guarded("mamba4j_ssd", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_ssd>("mamba4j_ssd", ctx, *args, cpu::ssd, MAMBA4J_CUDA_KERNEL(ssd));
    });
}
