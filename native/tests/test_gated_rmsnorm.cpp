// Gated RMSNorm: the fast path (every SIMD level via ctest) against the double-precision
// reference: groups > 1 and group_size == dim, norm_before_gate 0 / 1, z or none, padded
// strides, y aliasing x, bf16 rows with bf16 weights; guard bytes; NaN; bad arguments.
// Threshold 1e-10 (fp32 sums over ≤ 4096 values and the fast exp: ~1e-13 measured).
#include "harness.h"

using namespace harness;

static void case_f32(int64_t rows, int64_t dim, int64_t group, int nbg, bool gate, int64_t pad, bool alias) {
    const int64_t s = dim + pad;
    auto x = normal(size_t(rows * s), 2.0f), z = normal(size_t(rows * s), 2.0f), w = uniform(size_t(dim), 0.5f, 1.5f);
    std::vector<float> want(size_t(rows * s), 0.0f);
    Guarded got(size_t(rows * s)), xbuf(x);
    mamba4j_gated_rmsnorm_args a{};
    a.rows = rows;
    a.dim = dim;
    a.group_size = group;
    a.dtype = a.weight_dtype = MAMBA4J_F32;
    a.x = x.data();
    a.z = gate ? z.data() : nullptr;
    a.w = w.data();
    a.x_stride = a.z_stride = a.y_stride = s;
    a.eps = 1e-5f;
    a.norm_before_gate = nbg;
    a.y = want.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_gated_rmsnorm(cpu_context(), &a), "reference");
    a.algo = MAMBA4J_ALGO_AUTO;
    if (alias) a.x = a.y = xbuf.data();
    else a.y = got.data();
    expect_ok(mamba4j_gated_rmsnorm(cpu_context(), &a), "fast");
    Guarded& out = alias ? xbuf : got;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = dim; i < s; i++) want[size_t(r * s + i)] = out[size_t(r * s + i)];
    expect_close("gated_rmsnorm",
                 shape_str({{"rows", rows}, {"dim", dim}, {"group", group}, {"norm_before_gate", nbg}, {"z", gate},
                            {"pad", pad}, {"alias", alias}}),
                 out, want, 1e-10);
}

static uint16_t bf(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return uint16_t(u >> 16);
}
static float fb(uint16_t h) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

static void case_bf16(int64_t rows, int64_t dim, int64_t group, int nbg) {
    auto x = normal(size_t(rows * dim)), z = normal(size_t(rows * dim)), w = uniform(size_t(dim), 0.5f, 1.5f);
    std::vector<uint16_t> xb(x.size()), zb(z.size()), wb(w.size()), yw(x.size()), yg(x.size());
    for (size_t i = 0; i < x.size(); i++) xb[i] = bf(x[i]), zb[i] = bf(z[i]);
    for (size_t i = 0; i < w.size(); i++) wb[i] = bf(w[i]);
    mamba4j_gated_rmsnorm_args a{};
    a.rows = rows;
    a.dim = dim;
    a.group_size = group;
    a.dtype = a.weight_dtype = MAMBA4J_BF16;
    a.x = xb.data();
    a.z = zb.data();
    a.w = wb.data();
    a.x_stride = a.z_stride = a.y_stride = dim;
    a.eps = 1e-6f;
    a.norm_before_gate = nbg;
    a.y = yw.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_gated_rmsnorm(cpu_context(), &a), "reference bf16");
    a.y = yg.data();
    a.algo = MAMBA4J_ALGO_AUTO;
    expect_ok(mamba4j_gated_rmsnorm(cpu_context(), &a), "fast bf16");
    Guarded got(x.size());
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); i++) got[i] = fb(yg[i]), want[i] = fb(yw[i]);
    expect_close("gated_rmsnorm bf16", shape_str({{"rows", rows}, {"dim", dim}, {"group", group}, {"nbg", nbg}}), got,
                 want, 1e-5);
}

int main() {
    for (int nbg : {0, 1})
        for (bool gate : {true, false}) {
            for (int64_t rows : {1, 5, 33})
                for (auto [dim, group] : {std::pair<int64_t, int64_t>{7, 7}, {64, 16}, {1536, 1536}, {1536, 192},
                                          {4096, 512}, {999, 333}})
                    case_f32(rows, dim, group, nbg, gate, rows == 5 ? 3 : 0, false);
            case_f32(4, 1000, 250, nbg, gate, 0, true);
            case_f32(64, 8192, 1024, nbg, gate, 0, false);  // both threads
        }
    for (int nbg : {0, 1}) case_bf16(9, 768, 96, nbg);

    // NaN in x (or z) of one group must reach that group's outputs
    {
        std::vector<float> x(64, 1.0f), z(64, 0.5f), w(64, 1.0f), y(64);
        x[3] = NAN;
        z[40] = NAN;
        mamba4j_gated_rmsnorm_args a{};
        a.rows = 1;
        a.dim = 64;
        a.group_size = 32;
        a.x = x.data();
        a.z = z.data();
        a.w = w.data();
        a.y = y.data();
        a.x_stride = a.z_stride = a.y_stride = 64;
        a.eps = 1e-5f;
        expect_ok(mamba4j_gated_rmsnorm(cpu_context(), &a), "nan");
        expect(std::isnan(y[0]) && std::isnan(y[31]) && std::isnan(y[40]),
               "gated_rmsnorm: NaN in x / z reaches the outputs of its group");
    }

    float x[8] = {}, w[8] = {}, y[8] = {};
    mamba4j_gated_rmsnorm_args a{};
    a.rows = 1;
    a.dim = 8;
    a.group_size = 4;
    a.x = x;
    a.w = w;
    a.y = y;
    a.x_stride = a.z_stride = a.y_stride = 8;
    a.eps = 1e-5f;
    mamba4j_gated_rmsnorm_args bad = a;
    bad.group_size = 3;
    expect_error(mamba4j_gated_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT,
                 "dim 8 is not a multiple of group_size 3", "group 3");
    bad = a;
    bad.norm_before_gate = 2;
    expect_error(mamba4j_gated_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "norm_before_gate", "nbg 2");
    bad = a;
    bad.w = nullptr;
    expect_error(mamba4j_gated_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "w is a null pointer", "null w");
    bad = a;
    bad.z = x;
    bad.z_stride = 1;
    expect_error(mamba4j_gated_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "z_stride", "z stride");
    bad = a;
    bad.eps = -1;
    expect_error(mamba4j_gated_rmsnorm(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "eps", "eps");
    return finish();
}
