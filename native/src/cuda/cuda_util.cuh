// Helpers for .cu files: CUDA errors become mamba4j errors (never an abort).
#pragma once
#include <cuda_runtime.h>

#include "../common.h"

namespace mamba4j::cuda {

inline void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) fail(MAMBA4J_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}
inline cudaStream_t stream_of(mamba4j_context* ctx) { return static_cast<cudaStream_t>(ctx->stream); }
// After a kernel launch: reports launch errors (bad configuration, no device image).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace mamba4j::cuda
