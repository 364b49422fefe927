// Gated RMSNorm of Mamba-2 on CUDA (same math as the CPU reference, mamba4j.h):
//   norm_before_gate == 0: y = rmsnorm_g(x ⊙ silu(z)) · w;   == 1: y = rmsnorm_g(x) · w ⊙ silu(z)
// One block per (row, group); fp32 sums; the second pass re-reads x/z from L1/L2.
#include <type_traits>

#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

template <class T, class W>
__global__ void __launch_bounds__(256) gated_rmsnorm_kernel(const mamba4j_gated_rmsnorm_args a) {
    const int64_t r = blockIdx.x;
    const int64_t c0 = int64_t(blockIdx.y) * a.group_size;
    const T* x = static_cast<const T*>(a.x) + r * a.x_stride + c0;
    const T* z = a.z ? static_cast<const T*>(a.z) + r * a.z_stride + c0 : nullptr;
    const W* w = static_cast<const W*>(a.w) + c0;
    T* y = static_cast<T*>(a.y) + r * a.y_stride + c0;
    const bool gate_first = a.norm_before_gate == 0;
    float ss = 0.f;
    for (int64_t i = threadIdx.x; i < a.group_size; i += blockDim.x) {
        float v = to_f32(x[i]);
        if (z && gate_first) v *= silu_f(to_f32(z[i]));
        ss = fmaf(v, v, ss);
    }
    ss = block_sum(ss);
    const float inv = rsqrtf(ss / float(a.group_size) + a.eps);
    for (int64_t i = threadIdx.x; i < a.group_size; i += blockDim.x) {
        float v = to_f32(x[i]);
        const float gz = z ? silu_f(to_f32(z[i])) : 1.f;
        float out = gate_first ? v * gz * inv * to_f32(w[i]) : v * inv * to_f32(w[i]) * gz;
        y[i] = from_f32<T>(out);
    }
}

// Vectorised form for 16-bit dtypes: group_size / 8 threads (a multiple of 32, <= 1024),
// each holding 8 channels of x and z in registers (16-byte loads): one pass over memory.
template <class T, class W>
__global__ void __launch_bounds__(1024) gated_rmsnorm_vec_kernel(const mamba4j_gated_rmsnorm_args a) {
    const int64_t r = blockIdx.x;
    const int64_t c0 = int64_t(blockIdx.y) * a.group_size + threadIdx.x * 8;
    const bool gate_first = a.norm_before_gate == 0;
    uint4 xu = *reinterpret_cast<const uint4*>(static_cast<const T*>(a.x) + r * a.x_stride + c0);
    uint4 zu = make_uint4(0, 0, 0, 0);
    if (a.z) zu = *reinterpret_cast<const uint4*>(static_cast<const T*>(a.z) + r * a.z_stride + c0);
    const T* xe = reinterpret_cast<const T*>(&xu);
    const T* ze = reinterpret_cast<const T*>(&zu);
    float v[8], gz[8];
    float ss = 0.f;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        v[i] = to_f32(xe[i]);
        gz[i] = a.z ? silu_f(to_f32(ze[i])) : 1.f;
        const float n = gate_first ? v[i] * gz[i] : v[i];
        ss = fmaf(n, n, ss);
    }
    ss = block_sum(ss);
    const float inv = rsqrtf(ss / float(a.group_size) + a.eps);
    const W* w = static_cast<const W*>(a.w) + c0;
    uint4 yu;
    T* ye = reinterpret_cast<T*>(&yu);
#pragma unroll
    for (int i = 0; i < 8; i++) ye[i] = from_f32<T>(v[i] * gz[i] * inv * to_f32(w[i]));
    *reinterpret_cast<uint4*>(static_cast<T*>(a.y) + r * a.y_stride + c0) = yu;
}

void gated_rmsnorm(mamba4j_context* ctx, const mamba4j_gated_rmsnorm_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    const int64_t groups = a.dim / a.group_size;
    if (a.rows > 2147483647 || groups > 65535) fail(MAMBA4J_ERR_UNSUPPORTED, "gated_rmsnorm: grid too large");
    auto al16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    const bool vec = a.dtype != MAMBA4J_F32 && a.group_size % 256 == 0 && a.group_size <= 8192 && al16(a.x) &&
                     al16(a.y) && (a.z == nullptr || al16(a.z)) && a.x_stride % 8 == 0 && a.y_stride % 8 == 0 &&
                     (a.z == nullptr || a.z_stride % 8 == 0);
    if (vec) {
        with_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            if constexpr (!std::is_same_v<T, float>) {
                with_dtype(a.weight_dtype, [&](auto w) {
                    gated_rmsnorm_vec_kernel<T, decltype(w)>
                        <<<dim3(unsigned(a.rows), unsigned(groups)), unsigned(a.group_size / 8), 0, stream_of(ctx)>>>(a);
                });
            }
        });
        check_launch("gated_rmsnorm_vec_kernel");
        return;
    }
    const int threads = a.group_size >= 256 ? 256 : (a.group_size >= 128 ? 128 : 64);
    with_dtype(a.dtype, [&](auto t) {
        using T = decltype(t);
        with_dtype(a.weight_dtype, [&](auto w) {
            gated_rmsnorm_kernel<T, decltype(w)><<<dim3(unsigned(a.rows), unsigned(groups)), threads, 0, stream_of(ctx)>>>(a);
        });
    });
    check_launch("gated_rmsnorm_kernel");
}

}  // namespace mamba4j::cuda
