// cuBLAS loaded at run time (dlopen), so libmamba4j builds without cuBLAS headers or
// libraries and loads on hosts without cuBLAS (every other CUDA kernel still works there;
// only matmul needs it). Defined in cublas_loader.cu.
//
// Where from, in this order (the first that names something wins):
//   1. the environment variable MAMBA4J_CUBLAS: a path to libcublas.so.N, or a folder holding
//      libcublas.so.13 or libcublas.so.12 (e.g. PyTorch's pip install:
//      site-packages/nvidia/cu13/lib for CUDA 13 wheels, site-packages/nvidia/cublas/lib for
//      CUDA 12). When it is set and does not load, that is the error: no other place is tried.
//   2. the dynamic loader's default search for "libcublas.so.13", then "libcublas.so.12"
//      (LD_LIBRARY_PATH, ld.so.cache). Both majors declare the functions used here alike.
// Loaded once per process (thread-safe); a failure is remembered and reported by every
// matmul on a CUDA context as MAMBA4J_ERR_UNSUPPORTED, naming what was tried and how to fix it.
//
// Only the few declarations we call are written here, from the public cuBLAS API
// documentation (docs.nvidia.com/cuda/cublas: cublasCreate, cublasDestroy, cublasSetStream,
// cublasSetMathMode, cublasGemmEx, cublasGetStatusString, cublasGetProperty) and the
// cuBLAS enum values it lists. C enums are passed as int (same size and calling convention).
#pragma once
#ifdef MAMBA4J_WITH_CUDA
#include <string>

#include "../common.h"

namespace mamba4j::cuda::blas {

struct Context;  // cublasContext (opaque)
using Handle = Context*;
using Status = int;  // cublasStatus_t; 0 is CUBLAS_STATUS_SUCCESS
enum : int { OP_N = 0, OP_T = 1 };  // cublasOperation_t
// cublasMath_t: CUBLAS_DEFAULT_MATH (0) with the CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION flag
enum : int { MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16 };
enum : int { COMPUTE_32F = 68 };   // cublasComputeType_t CUBLAS_COMPUTE_32F
enum : int { GEMM_DEFAULT = -1 };  // cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT

struct Api {
    Status (*create)(Handle*);                   // cublasCreate_v2
    Status (*destroy)(Handle);                   // cublasDestroy_v2
    Status (*set_stream)(Handle, void* stream);  // cublasSetStream_v2 (cudaStream_t)
    Status (*set_math_mode)(Handle, int mode);   // cublasSetMathMode
    // cublasGemmEx: C = alpha·op(A)·op(B) + beta·C, column-major; *Atype are cudaDataType
    Status (*gemm_ex)(Handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A, int Atype,
                      int lda, const void* B, int Btype, int ldb, const void* beta, void* C, int Ctype, int ldc,
                      int compute_type, int algo);
    const char* (*status_string)(Status);  // cublasGetStatusString (may be null: optional)
    int version[3] = {0, 0, 0};            // cublasGetProperty: major, minor, patch (0 if unknown)
    std::string path;                      // what was loaded
};

// The loaded API; throws Error(UNSUPPORTED) with the reasons when cuBLAS could not be loaded.
const Api& api();
// The context's cuBLAS handle, created on first use (bound to the context's stream, default
// math: no TF32, reductions in fp32). Needs the context's device current.
Handle handle(mamba4j_context* ctx);
// Destroys the context's handle if it has one (context_release).
void release(mamba4j_context* ctx);
// Throws Error(CUDA) naming the call and the cuBLAS status unless s is CUBLAS_STATUS_SUCCESS.
void check(Status s, const char* what);

}  // namespace mamba4j::cuda::blas
#endif
