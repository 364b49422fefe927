// MLP activations (SILU_GATE, RELU2, SILU): the fast path (every SIMD level via ctest)
// against the double-precision reference over odd dims, padded strides, y aliasing gate,
// bf16 rows; guard bytes; NaN must propagate; bad arguments.
// Threshold: the fast exp has relative error < 2e-7, so NMSE vs the fp64 reference is
// ~1e-14; 1e-12 fails any wrong element of a row of a few hundred values.
#include "harness.h"

using namespace harness;

static const char* kind_name(int k) { return k == 0 ? "silu_gate" : k == 1 ? "relu2" : "silu"; }

static void case_f32(int kind, int64_t rows, int64_t dim, int64_t pad, bool alias) {
    const int64_t s = dim + pad;
    auto gate = normal(size_t(rows * s), 4.0f), up = normal(size_t(rows * s));
    std::vector<float> want(size_t(rows * s), 0.0f);
    Guarded got(size_t(rows * s));
    Guarded gate_buf(gate);  // the aliasing case writes y over gate
    mamba4j_activation_args a{};
    a.rows = rows;
    a.dim = dim;
    a.dtype = MAMBA4J_F32;
    a.kind = kind;
    a.gate = gate.data();
    a.up = up.data();
    a.gate_stride = a.up_stride = a.y_stride = s;
    a.y = want.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_activation_apply(cpu_context(), &a), "reference");
    a.algo = MAMBA4J_ALGO_AUTO;
    if (alias) {
        a.gate = gate_buf.data();
        a.y = gate_buf.data();
    } else {
        a.y = got.data();
    }
    expect_ok(mamba4j_activation_apply(cpu_context(), &a), "fast");
    Guarded& out = alias ? gate_buf : got;
    for (int64_t r = 0; r < rows; r++)  // padding: compare what each side holds there
        for (int64_t i = dim; i < s; i++) want[size_t(r * s + i)] = out[size_t(r * s + i)];
    expect_close(std::string("activation ") + kind_name(kind),
                 shape_str({{"rows", rows}, {"dim", dim}, {"pad", pad}, {"alias", alias}}), out, want, 1e-12);
}

static void case_bf16(int kind, int64_t rows, int64_t dim) {
    auto g32 = normal(size_t(rows * dim), 3.0f), u32 = normal(size_t(rows * dim));
    std::vector<uint16_t> g(g32.size()), u(u32.size()), yw(g32.size()), yg(g32.size());
    for (size_t i = 0; i < g.size(); i++) {
        std::memcpy(&g[i], reinterpret_cast<const char*>(&g32[i]) + 2, 2);  // truncate to bf16
        std::memcpy(&u[i], reinterpret_cast<const char*>(&u32[i]) + 2, 2);
    }
    mamba4j_activation_args a{};
    a.rows = rows;
    a.dim = dim;
    a.dtype = MAMBA4J_BF16;
    a.kind = kind;
    a.gate = g.data();
    a.up = u.data();
    a.gate_stride = a.up_stride = a.y_stride = dim;
    a.y = yw.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_activation_apply(cpu_context(), &a), "reference bf16");
    a.y = yg.data();
    a.algo = MAMBA4J_ALGO_AUTO;
    expect_ok(mamba4j_activation_apply(cpu_context(), &a), "fast bf16");
    Guarded got(yg.size());
    std::vector<float> want(yw.size());
    for (size_t i = 0; i < yw.size(); i++) {
        uint32_t a32 = uint32_t(yg[i]) << 16, b32 = uint32_t(yw[i]) << 16;
        std::memcpy(&got[i], &a32, 4);
        std::memcpy(&want[i], &b32, 4);
    }
    // both rounded to bf16 from values 2e-7 apart: at most one bf16 ulp (2^-8) apart
    expect_close(std::string("activation bf16 ") + kind_name(kind), shape_str({{"rows", rows}, {"dim", dim}}), got,
                 want, 1e-5);
}

static void case_nan(int kind) {
    std::vector<float> gate(33, 1.0f), up(33, 1.0f), y(33);
    gate[5] = NAN;
    up[7] = NAN;
    mamba4j_activation_args a{};
    a.rows = 1;
    a.dim = 33;
    a.kind = kind;
    a.gate = gate.data();
    a.up = up.data();
    a.y = y.data();
    a.gate_stride = a.up_stride = a.y_stride = 33;
    expect_ok(mamba4j_activation_apply(cpu_context(), &a), "nan");
    bool ok = std::isnan(y[5]) && (kind != 0 || std::isnan(y[7])) && std::isfinite(y[6]);
    expect(ok, std::string("activation ") + kind_name(kind) + ": NaN in gate (and up) propagates to y");
}

int main() {
    for (int kind = 0; kind < 3; kind++) {
        for (int64_t rows : {1, 3, 17})
            for (int64_t dim : {1, 15, 67, 1000, 14336})
                for (int64_t pad : {0, 3}) case_f32(kind, rows, dim, pad, false);
        case_f32(kind, 5, 513, 0, true);
        case_f32(kind, 64, 4099, 2, true);  // big enough to run on both threads
        case_f32(kind, 129, 2048, 0, false);
        case_bf16(kind, 7, 333);
        case_nan(kind);
    }
    // extreme inputs: silu saturates without overflow
    {
        std::vector<float> g = {-200.0f, -88.5f, -30.0f, 0.0f, 30.0f, 88.5f, 200.0f, 1e30f, -1e30f};
        std::vector<float> want(g.size());
        Guarded got(g.size());
        mamba4j_activation_args a{};
        a.rows = 1;
        a.dim = int64_t(g.size());
        a.kind = MAMBA4J_ACT_SILU;
        a.gate = g.data();
        a.gate_stride = a.y_stride = a.dim;
        a.y = want.data();
        a.algo = MAMBA4J_ALGO_REFERENCE;
        expect_ok(mamba4j_activation_apply(cpu_context(), &a), "reference extremes");
        a.y = got.data();
        a.algo = MAMBA4J_ALGO_AUTO;
        expect_ok(mamba4j_activation_apply(cpu_context(), &a), "fast extremes");
        expect_close("activation silu extremes", "dim=9", got, want, 1e-12);
    }

    float g[4] = {}, y[4] = {};
    mamba4j_activation_args a{};
    a.rows = 1;
    a.dim = 4;
    a.gate = g;
    a.up = g;
    a.y = y;
    a.gate_stride = a.up_stride = a.y_stride = 4;
    mamba4j_activation_args bad = a;
    bad.up = nullptr;
    expect_error(mamba4j_activation_apply(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "up is a null pointer",
                 "silu_gate without up");
    bad.kind = MAMBA4J_ACT_RELU2;
    expect_ok(mamba4j_activation_apply(cpu_context(), &bad), "relu2 needs no up");
    bad = a;
    bad.kind = 7;
    expect_error(mamba4j_activation_apply(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown activation kind 7",
                 "kind 7");
    bad = a;
    bad.y_stride = 3;
    expect_error(mamba4j_activation_apply(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "y_stride", "y stride");
    bad = a;
    bad.rows = 0;
    expect_error(mamba4j_activation_apply(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "rows must be > 0", "rows 0");
    return finish();
}
