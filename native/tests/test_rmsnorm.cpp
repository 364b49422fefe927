// RMSNorm (plain and with fused residual add): the fast path against the reference over
// a table of shapes and dtypes, plus bad arguments.
#include "harness.h"

using namespace harness;

static void run(mamba4j_rmsnorm_args a, const char* what) {
    expect_ok(mamba4j_rmsnorm(cpu_context(), &a), what);
}

static void case_f32(int64_t rows, int64_t dim, int64_t pad, bool residual) {
    const int64_t stride = dim + pad;
    auto x = normal(size_t(rows * stride), 2.0f), w = uniform(size_t(dim), 0.5f, 1.5f);
    auto res0 = normal(size_t(rows * stride));
    std::vector<float> want(size_t(rows * stride)), res_want = res0;
    Guarded got(size_t(rows * stride)), res_got(res0);

    mamba4j_rmsnorm_args a{};
    a.rows = rows;
    a.dim = dim;
    a.dtype = a.weight_dtype = MAMBA4J_F32;
    a.x = x.data();
    a.x_stride = a.y_stride = a.residual_stride = stride;
    a.w = w.data();
    a.eps = 1e-5f;
    a.residual = residual ? res_want.data() : nullptr;
    a.y = want.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    run(a, "reference");
    a.residual = residual ? res_got.data() : nullptr;
    a.y = got.data();
    a.algo = MAMBA4J_ALGO_AUTO;
    run(a, "fast");
    // the padding columns are never written: compare only the rows' first dim columns
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = dim; i < stride; i++) want[size_t(r * stride + i)] = got[size_t(r * stride + i)];
    std::string shape = shape_str({{"rows", rows}, {"dim", dim}, {"stride", stride}, {"residual", residual}});
    expect_close("rmsnorm", shape, got, want, 1e-10);
    if (residual) expect_close("rmsnorm residual", shape, res_got, res_want, 1e-12);
}

int main() {
    for (int64_t rows : {1, 3, 17, 64})
        for (int64_t dim : {1, 7, 64, 768, 1000, 4096})
            for (int64_t pad : {0, 5})
                for (bool residual : {false, true}) case_f32(rows, dim, pad, residual);

    // bad arguments: each an error naming the problem, never a crash
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1}, y[4];
    mamba4j_rmsnorm_args a{};
    a.rows = 1;
    a.dim = 4;
    a.x = x;
    a.w = w;
    a.y = y;
    a.x_stride = a.y_stride = 4;
    a.eps = 1e-5f;
    mamba4j_rmsnorm_args bad = a;
    bad.x = nullptr;
    expect_error(mamba4j_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x is a null pointer", "null x");
    bad = a;
    bad.dim = -1;
    expect_error(mamba4j_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "dim must be > 0", "dim -1");
    bad = a;
    bad.x_stride = 2;
    expect_error(mamba4j_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x_stride", "short stride");
    bad = a;
    bad.rows = int64_t(1) << 62;
    expect_error(mamba4j_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "overflows", "overflow");
    bad = a;
    bad.dtype = 9;
    expect_error(mamba4j_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown dtype", "dtype 9");
    expect_error(mamba4j_rmsnorm(nullptr, &a), MAMBA4J_ERR_INVALID_ARGUMENT, "ctx is a null pointer", "null ctx");
    expect_error(mamba4j_rmsnorm(cpu_context(), nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "args is a null pointer",
                 "null args");
    return finish();
}
