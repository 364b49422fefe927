// Matmul / matvec on the GPU through cuBLAS (DESIGN.md §3; loaded at run time, see
// cublas_loader.h):
//   y[i, j] = (accumulate ? y[i, j] : 0) + Σ_k x[i, k] · W[j, k] + bias[j]
// x [m, k] (dtype, row stride x_stride), W [n, k] (weight_dtype F32 or BF16, contiguous),
// bias [n] fp32 or NULL, y [m, n] (dtype, row stride y_stride); fp32 accumulation.
//
// Row-major to column-major: the bytes of row-major y [m, n] (stride y_stride) are the
// column-major matrix yᵀ [n, m] (ld y_stride), and yᵀ = W · xᵀ. W's bytes are column-major
// Wᵀ [k, n] (ld k), so A = W with transa = T; x's bytes are column-major xᵀ [k, m] (ld
// x_stride), so B = x with transb = N. One cublasGemmEx(T, N, n, m, k) with
// CUBLAS_COMPUTE_32F; m == 1 is then a matvec over contiguous rows of W, for which cuBLAS
// takes its gemv kernels. No alignment of n, k, strides or pointers is required beyond the
// element size (cuBLAS ≥ 11 picks kernels for any); aligned shapes are only faster.
//
// Types. cublasGemmEx with CUBLAS_COMPUTE_32F takes A and B of one type (F32 or BF16 here)
// and C of that type or F32 (the cuBLAS documentation's cublasGemmEx type table), so:
//  - the GEMM runs in W's dtype: x of another dtype is first converted into context scratch
//    (to F32 for F32 W: exact; to BF16 for BF16 W: x rounded to bf16 once, as autocast does
//    — for F32 / F16 activations with BF16 weights, an error of the order of one bf16
//    rounding of the result);
//  - direct: C = y itself when y's dtype is W's dtype or F32 and there is no bias unless y
//    is F32: beta = accumulate, cuBLAS rounds once; an F32 y then gets the bias added in
//    place (a second rounding, in fp32);
//  - otherwise the product goes to an fp32 scratch tile t, and one kernel writes
//    y = round((accumulate ? y : 0) + t + bias): one rounding of the result.
// Scratch is bounded: rows are processed in passes of at most kScratchBytes of scratch.
//
// algo REFERENCE: the math line by line (matmul_reference below), fp64 sums over the operands
// as stored (x never rounded), one rounding; needs no cuBLAS. Slow: for checking.
#include <climits>

#include "../kernels.h"
#include "cublas_loader.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

static constexpr size_t kScratchBytes = size_t(64) << 20;

// dst[i, :] = src[i, :] converted, rows i < m of k elements; src row stride src_ld, dst contiguous.
template <class S, class D>
__global__ void convert_rows(const S* src, int64_t src_ld, D* dst, int64_t m, int64_t k) {
    for (int64_t i = blockIdx.y; i < m; i += gridDim.y)
        for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < k; j += int64_t(gridDim.x) * blockDim.x)
            dst[i * k + j] = from_f32<D>(to_f32(src[i * src_ld + j]));
}

// y[i, j] = round((accumulate ? y[i, j] : 0) + t[i, j] + bias[j]) for i < m, j < n.
// t may be y itself (F32 y, accumulate 0: the in-place bias add), so no __restrict__.
template <class T>
__global__ void finish_rows(const float* t, int64_t t_ld, const float* bias, T* y, int64_t y_ld, int64_t m, int64_t n,
                            int accumulate) {
    for (int64_t i = blockIdx.y; i < m; i += gridDim.y)
        for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < n; j += int64_t(gridDim.x) * blockDim.x) {
            float v = t[i * t_ld + j];
            if (bias) v += bias[j];
            if (accumulate) v += to_f32(y[i * y_ld + j]);
            y[i * y_ld + j] = from_f32<T>(v);
        }
}

// The reference: one thread per output, y[i, j] = float(Σ x·W + bias + y) summed in fp64.
template <class T, class Wt>
__global__ void matmul_reference(const T* x, int64_t x_ld, const Wt* w, const float* bias, T* y, int64_t y_ld, int64_t m,
                                 int64_t n, int64_t k, int accumulate) {
    for (int64_t i = blockIdx.y; i < m; i += gridDim.y)
        for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < n; j += int64_t(gridDim.x) * blockDim.x) {
            double sum = 0;
            for (int64_t kk = 0; kk < k; kk++) sum += double(to_f32(x[i * x_ld + kk])) * double(to_f32(w[j * k + kk]));
            if (bias) sum += bias[j];
            if (accumulate) sum += to_f32(y[i * y_ld + j]);
            y[i * y_ld + j] = from_f32<T>(float(sum));
        }
}

// Grid of the kernels above: blocks of 256 over the columns, one block row per matrix row
// (grid.y at most 65535; the kernels loop over the rest).
static dim3 rows_grid(int64_t m, int64_t cols) {
    return dim3(unsigned(std::min<int64_t>((cols + 255) / 256, 4096)), unsigned(std::min<int64_t>(m, 65535)));
}

static int cuda_type(mamba4j_dtype dt) {
    return dt == MAMBA4J_BF16 ? CUDA_R_16BF : dt == MAMBA4J_F16 ? CUDA_R_16F : CUDA_R_32F;
}

void matmul(mamba4j_context* ctx, const mamba4j_matmul_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    cudaStream_t s = stream_of(ctx);
    if (a.algo == MAMBA4J_ALGO_REFERENCE) {
        with_dtype(a.dtype, [&](auto type) {
            using T = decltype(type);
            const T* x = static_cast<const T*>(a.x);
            T* y = static_cast<T*>(a.y);
            const dim3 grid = rows_grid(a.m, a.n);
            if (a.weight_dtype == MAMBA4J_F32)
                matmul_reference<<<grid, 256, 0, s>>>(x, a.x_stride, static_cast<const float*>(a.w), a.bias, y,
                                                      a.y_stride, a.m, a.n, a.k, a.accumulate);
            else
                matmul_reference<<<grid, 256, 0, s>>>(x, a.x_stride, static_cast<const __nv_bfloat16*>(a.w), a.bias, y,
                                                      a.y_stride, a.m, a.n, a.k, a.accumulate);
        });
        check_launch("matmul_reference");
        return;
    }
    for (auto [v, name] : {std::pair{a.n, "n"}, {a.k, "k"}, {a.x_stride, "x_stride"}, {a.y_stride, "y_stride"}})
        if (v > INT_MAX)
            fail(MAMBA4J_ERR_UNSUPPORTED, "%s = %lld exceeds cuBLAS's 32-bit sizes (at most %d)", name, (long long)v,
                 INT_MAX);
    const blas::Handle h = blas::handle(ctx);  // UNSUPPORTED with the reasons when cuBLAS cannot be loaded
    const blas::Api& api = blas::api();

    const mamba4j_dtype op = a.weight_dtype;  // dtype of both GEMM operands
    const bool convert_x = a.dtype != op;
    const bool direct = (a.dtype == op || a.dtype == MAMBA4J_F32) && (a.bias == nullptr || a.dtype == MAMBA4J_F32);
    const int64_t m = a.m, n = a.n, k = a.k;
    const size_t es = dtype_size(a.dtype);  // bytes of an x or y element

    // Rows per pass: all of them when no scratch is needed, else as many as kScratchBytes holds.
    const size_t x_row = convert_x ? size_t(k) * dtype_size(op) : 0, t_row = direct ? 0 : size_t(n) * 4;
    int64_t rows = std::min<int64_t>(m, INT_MAX);
    if (x_row + t_row > 0) rows = std::max<int64_t>(1, std::min<int64_t>(rows, int64_t(kScratchBytes / (x_row + t_row))));
    const size_t x_bytes = (size_t(rows) * x_row + 255) / 256 * 256;
    void* x_op = nullptr;  // converted x [rows, k] (op dtype)
    float* t = nullptr;    // product [rows, n] fp32
    if (x_row + t_row > 0) {
        Scratch scratch(ctx, x_bytes + size_t(rows) * t_row);
        x_op = scratch.p;
        t = scratch.as<float>(x_bytes);
    }

    const float one = 1.f, zero = 0.f;
    for (int64_t i0 = 0; i0 < m; i0 += rows) {
        const int64_t mb = std::min(rows, m - i0);
        const void* x = static_cast<const char*>(a.x) + size_t(i0 * a.x_stride) * es;
        void* y = static_cast<char*>(a.y) + size_t(i0 * a.y_stride) * es;
        int64_t ldx = a.x_stride;
        if (convert_x) {
            with_dtype(a.dtype, [&](auto src_type) {
                using S = decltype(src_type);
                if (op == MAMBA4J_F32)
                    convert_rows<<<rows_grid(mb, k), 256, 0, s>>>(static_cast<const S*>(x), a.x_stride,
                                                                  static_cast<float*>(x_op), mb, k);
                else
                    convert_rows<<<rows_grid(mb, k), 256, 0, s>>>(static_cast<const S*>(x), a.x_stride,
                                                                  static_cast<__nv_bfloat16*>(x_op), mb, k);
            });
            check_launch("matmul convert_rows");
            x = x_op;
            ldx = k;
        }
        blas::check(api.gemm_ex(h, blas::OP_T, blas::OP_N, int(n), int(mb), int(k), &one, a.w, cuda_type(op), int(k), x,
                                cuda_type(op), int(ldx), direct && a.accumulate ? &one : &zero, direct ? y : t,
                                direct ? cuda_type(a.dtype) : CUDA_R_32F, direct ? int(a.y_stride) : int(n),
                                blas::COMPUTE_32F, blas::GEMM_DEFAULT),
                    "cublasGemmEx");
        if (direct && a.bias) {
            float* yf = static_cast<float*>(y);
            finish_rows<<<rows_grid(mb, n), 256, 0, s>>>(yf, a.y_stride, a.bias, yf, a.y_stride, mb, n, 0);
            check_launch("matmul bias");
        } else if (!direct) {
            with_dtype(a.dtype, [&](auto out_type) {
                using T = decltype(out_type);
                finish_rows<<<rows_grid(mb, n), 256, 0, s>>>(t, n, a.bias, static_cast<T*>(y), a.y_stride, mb, n,
                                                             a.accumulate);
            });
            check_launch("matmul finish_rows");
        }
    }
}

}  // namespace mamba4j::cuda
