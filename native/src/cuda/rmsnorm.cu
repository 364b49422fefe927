// RMSNorm on CUDA, optionally after a fused residual add (same math as cpu/rmsnorm.cpp):
//   residual += x (fp32), then y = v / sqrt(mean(v²) + eps) · w  with v = residual or x.
// One block per row; fp32 accumulation whatever the dtype.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

// x, y [rows, dim]; w [dim]; residual [rows, dim] fp32 or null. blockDim.x = 256.
template <class T, class W>
__global__ void rmsnorm_kernel(const T* x, int64_t x_stride, const W* w, float* residual, int64_t res_stride, T* y,
                               int64_t y_stride, int64_t dim, float eps) {
    const int64_t r = blockIdx.x;
    const T* xr = x + r * x_stride;
    float* res = residual ? residual + r * res_stride : nullptr;
    float ss = 0.f;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = to_f32(xr[i]);
        if (res) {
            v += res[i];
            res[i] = v;
        }
        ss += v * v;
    }
    ss = block_sum(ss);
    const float inv = rsqrtf(ss / float(dim) + eps);
    T* yr = y + r * y_stride;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = res ? res[i] : to_f32(xr[i]);
        yr[i] = from_f32<T>(v * inv * to_f32(w[i]));
    }
}

template <class T, class W>
static void launch(mamba4j_context* ctx, const mamba4j_rmsnorm_args& a) {
    if (a.rows > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "rows > 2^31-1 on CUDA");
    rmsnorm_kernel<T, W><<<unsigned(a.rows), 256, 0, stream_of(ctx)>>>(
        static_cast<const T*>(a.x), a.x_stride, static_cast<const W*>(a.w), a.residual, a.residual_stride,
        static_cast<T*>(a.y), a.y_stride, a.dim, a.eps);
    check_launch("rmsnorm_kernel");
}

template <class T>
static void launch_for_weight(mamba4j_context* ctx, const mamba4j_rmsnorm_args& a) {
    switch (a.weight_dtype) {
        case MAMBA4J_F32: return launch<T, float>(ctx, a);
        case MAMBA4J_BF16: return launch<T, __nv_bfloat16>(ctx, a);
        default: return launch<T, __half>(ctx, a);
    }
}

void rmsnorm(mamba4j_context* ctx, const mamba4j_rmsnorm_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    switch (a.dtype) {
        case MAMBA4J_F32: return launch_for_weight<float>(ctx, a);
        case MAMBA4J_BF16: return launch_for_weight<__nv_bfloat16>(ctx, a);
        default: return launch_for_weight<__half>(ctx, a);
    }
}

}  // namespace mamba4j::cuda
