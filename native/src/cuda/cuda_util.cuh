// Helpers for .cu files: CUDA errors become mamba4j errors (never an abort).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "../common.h"

namespace mamba4j::cuda {

inline void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) fail(MAMBA4J_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}
inline cudaStream_t stream_of(mamba4j_context* ctx) { return static_cast<cudaStream_t>(ctx->stream); }
// After a kernel launch: reports launch errors (bad configuration, no device image).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// ---- element conversions (fp32 math inside every kernel)
template <class T> __device__ __forceinline__ float to_f32(T v);
template <> __device__ __forceinline__ float to_f32(float v) { return v; }
template <> __device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
template <class T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ __half from_f32(float v) { return __float2half(v); }

__device__ __forceinline__ float softplus_f(float x) { return x > 20.f ? x : log1pf(__expf(x)); }
__device__ __forceinline__ float silu_f(float x) { return x / (1.f + __expf(-x)); }

// Calls f.template operator()<T>() with T the CUDA type of an activation dtype.
template <class F>
void with_dtype(mamba4j_dtype dt, F&& f) {
    switch (dt) {
        case MAMBA4J_F32: f(float{}); break;
        case MAMBA4J_BF16: f(__nv_bfloat16{}); break;
        default: f(__half{}); break;
    }
}

// Scratch memory for multi-kernel algorithms: one buffer per context, grown on demand
// (stream-ordered, so earlier kernels on the stream finish with the old one first) and
// released with the context. Kernels on one context run in stream order, so one buffer
// serves every call; allocating per call cost ~0.2 ms (the pool returned it at each sync).
void* context_scratch(mamba4j_context* ctx, size_t bytes);  // runtime.cu
struct Scratch {
    void* p;
    Scratch(mamba4j_context* ctx, size_t bytes) : p(context_scratch(ctx, bytes)) {}
    template <class T> T* as(size_t offset_bytes = 0) const { return reinterpret_cast<T*>(static_cast<char*>(p) + offset_bytes); }
};

// Sum of v over the whole block (blockDim.x a multiple of 32, at most 1024); every thread
// gets the total. Contains __syncthreads: call it from all threads of the block.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : 0.f;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) partial[0] = v;
    }
    __syncthreads();
    return partial[0];
}

}  // namespace mamba4j::cuda
