// Mamba-1 fused selective scan on CUDA (same math as the CPU reference, mamba4j.h):
//   Δ = softplus(dt + dt_bias); h = exp(Δ·A)·h + Δ·B_t·u_t; y = C_t·h + D·u; y *= silu(z)
// One thread per (b, e), the N states in registers, one pass over the sequence; B_t and
// C_t are shared by all channels of a row and come from L1. Discretisation, D skip and z
// gate fused: [L, E, N] is never materialised.
#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

template <class T, int NMAX>
__global__ void __launch_bounds__(128) selective_scan_kernel(const mamba4j_selective_scan_args a) {
    const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (e >= a.inner) return;
    const int64_t b = blockIdx.y;
    const int N = int(a.state);
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    float* S = a.ssm_state ? a.ssm_state + (slot * a.inner + e) * N : nullptr;
    float h[NMAX], A[NMAX];
#pragma unroll
    for (int n = 0; n < NMAX; n++) {
        h[n] = (n < N && S) ? S[n] : 0.f;
        A[n] = n < N ? -expf(a.A_log[e * N + n]) : 0.f;
    }
    const float bias = a.dt_bias ? a.dt_bias[e] : 0.f;
    const float De = a.D ? a.D[e] : 0.f;
    const T* u = static_cast<const T*>(a.u) + b * a.u_stride_b + e;
    const T* dt = static_cast<const T*>(a.dt) + b * a.dt_stride_b + e;
    const T* Bm = static_cast<const T*>(a.B) + b * a.B_stride_b;
    const T* Cm = static_cast<const T*>(a.C) + b * a.C_stride_b;
    const T* z = a.z ? static_cast<const T*>(a.z) + b * a.z_stride_b + e : nullptr;
    T* y = static_cast<T*>(a.y) + b * a.y_stride_b + e;
    for (int64_t t = 0; t < a.seqlen; t++) {
        float d = to_f32(dt[t * a.dt_stride_t]) + bias;
        if (a.dt_softplus) d = softplus_f(d);
        const float ut = to_f32(u[t * a.u_stride_t]);
        const float du = d * ut;
        const T* Bt = Bm + t * a.B_stride_t;
        const T* Ct = Cm + t * a.C_stride_t;
        float acc = 0.f;
#pragma unroll
        for (int n = 0; n < NMAX; n++) {
            if (n < N) {
                h[n] = fmaf(__expf(d * A[n]), h[n], du * to_f32(Bt[n]));
                acc = fmaf(to_f32(Ct[n]), h[n], acc);
            }
        }
        float out = acc + De * ut;
        if (z) out *= silu_f(to_f32(z[t * a.z_stride_t]));
        y[t * a.y_stride_t] = from_f32<T>(out);
    }
    if (S) {
#pragma unroll
        for (int n = 0; n < NMAX; n++)
            if (n < N) S[n] = h[n];
    }
}

void selective_scan(mamba4j_context* ctx, const mamba4j_selective_scan_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    if (a.batch > 65535) fail(MAMBA4J_ERR_UNSUPPORTED, "selective_scan: batch > 65535 on CUDA");
    const dim3 grid(unsigned((a.inner + 127) / 128), unsigned(a.batch));
    with_dtype(a.dtype, [&](auto t) {
        using T = decltype(t);
        if (a.state <= 16) selective_scan_kernel<T, 16><<<grid, 128, 0, stream_of(ctx)>>>(a);
        else if (a.state <= 64) selective_scan_kernel<T, 64><<<grid, 128, 0, stream_of(ctx)>>>(a);
        else fail(MAMBA4J_ERR_UNSUPPORTED, "selective_scan on CUDA supports state sizes N <= 64, got %lld", (long long)a.state);
    });
    check_launch("selective_scan_kernel");
}

}  // namespace mamba4j::cuda
