// Mamba-1 fused selective scan: the fast path (AUTO, RECURRENT) against REFERENCE (double)
// over a table of shapes (channel counts not multiples of the SIMD width, N 1–64, B > 1,
// 8K tokens, strided views, optional z / D / dt_bias / softplus), the state carried across
// calls (two-piece prefill == one-piece; prefill + decode steps == full prefill), slots
// addressed by state_slots, NaN propagation, guard bytes, bad arguments.
#include "harness.h"

#include <cmath>

using namespace harness;

namespace {

constexpr double kThreshold = 1e-10;  // fp32 fast path vs the double reference (NMSE)

struct Shape {
    int64_t B, L, E, N;
    bool z = true, D = true, bias = true, softplus = true;
    std::string str() const {
        return shape_str({{"B", B}, {"L", L}, {"E", E}, {"N", N}, {"z", z}, {"D", D}, {"bias", bias},
                          {"softplus", softplus}});
    }
};

float inv_softplus(float y) { return std::log(std::expm1(y)); }

struct Inputs {
    Shape s;
    int64_t es_t, ns_t;  // token strides of the [E] and [N] tensors (padded: strided views)
    std::vector<float> u, dt, Bm, Cm, z, dt_bias, A_log, D, state0;
    explicit Inputs(const Shape& sh) : s(sh) {
        es_t = s.E + 3;
        ns_t = s.N + 2;
        u = normal(size_t(s.B * s.L * es_t));
        z = normal(size_t(s.B * s.L * es_t));
        dt = normal(size_t(s.B * s.L * es_t), 0.5f);
        if (!s.softplus)
            for (auto& v : dt) v = 0.01f + 0.05f * std::fabs(v);  // already positive steps
        Bm = normal(size_t(s.B * s.L * ns_t));
        Cm = normal(size_t(s.B * s.L * ns_t));
        dt_bias.resize(size_t(s.E));
        for (auto& v : dt_bias) v = s.softplus ? inv_softplus(uniform(1, 0.001f, 0.1f)[0]) : 0.0f;
        A_log.resize(size_t(s.E * s.N));
        for (int64_t e = 0; e < s.E; e++)  // S4D-real init: A = -(n + 1)
            for (int64_t n = 0; n < s.N; n++)
                A_log[size_t(e * s.N + n)] = std::log(float(n + 1)) + uniform(1, -0.1f, 0.1f)[0];
        D = normal(size_t(s.E));
        state0 = normal(size_t(s.B * s.E * s.N), 0.5f);
    }
    mamba4j_selective_scan_args args(int64_t t0, int64_t len, mamba4j_algo algo, float* y, float* state) const {
        mamba4j_selective_scan_args a{};
        a.batch = s.B;
        a.seqlen = len;
        a.inner = s.E;
        a.state = s.N;
        a.dtype = MAMBA4J_F32;
        a.u = u.data() + t0 * es_t;
        a.dt = dt.data() + t0 * es_t;
        a.z = s.z ? z.data() + t0 * es_t : nullptr;
        a.y = y + t0 * es_t;
        a.u_stride_b = a.dt_stride_b = a.z_stride_b = a.y_stride_b = s.L * es_t;
        a.u_stride_t = a.dt_stride_t = a.z_stride_t = a.y_stride_t = es_t;
        a.B = Bm.data() + t0 * ns_t;
        a.C = Cm.data() + t0 * ns_t;
        a.B_stride_b = a.C_stride_b = s.L * ns_t;
        a.B_stride_t = a.C_stride_t = ns_t;
        a.dt_bias = s.bias ? dt_bias.data() : nullptr;
        a.A_log = A_log.data();
        a.D = s.D ? D.data() : nullptr;
        a.ssm_state = state;
        a.dt_softplus = s.softplus;
        a.algo = algo;
        return a;
    }
};

void run(const mamba4j_selective_scan_args& a, const std::string& what) {
    expect_ok(mamba4j_selective_scan(cpu_context(), &a), what);
}

std::vector<float> copy(const Guarded& g) { return std::vector<float>(g.data(), g.data() + g.n); }

void case_shape(const Shape& s) {
    Inputs in(s);
    Guarded want_y(in.u.size()), want_state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_state.data()), "reference " + s.str());
    for (mamba4j_algo algo : {MAMBA4J_ALGO_AUTO, MAMBA4J_ALGO_RECURRENT}) {
        Guarded y(in.u.size()), state(in.state0);
        run(in.args(0, s.L, algo, y.data(), state.data()), "fast " + s.str());
        expect_close("selective_scan y", s.str(), y, copy(want_y), kThreshold);
        expect_close("selective_scan state", s.str(), state, copy(want_state), kThreshold);
    }
    // no state tensor: zeros in, nothing out
    Guarded want0(in.u.size()), got0(in.u.size());
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want0.data(), nullptr), "reference, no state");
    run(in.args(0, s.L, MAMBA4J_ALGO_AUTO, got0.data(), nullptr), "fast, no state");
    expect_close("selective_scan y (zero state)", s.str(), got0, copy(want0), kThreshold);
}

void case_pieces(const Shape& s, int64_t split, int64_t steps) {
    Inputs in(s);
    Guarded want_y(in.u.size()), want_state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_state.data()), "whole");
    Guarded y(in.u.size()), state(in.state0);
    run(in.args(0, split, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "piece 1");
    run(in.args(split, s.L - split, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "piece 2");
    std::string shape = s.str() + " split=" + std::to_string(split);
    expect_close("selective_scan two-piece y", shape, y, copy(want_y), kThreshold);
    expect_close("selective_scan two-piece state", shape, state, copy(want_state), kThreshold);
    Guarded y2(in.u.size()), state2(in.state0);
    run(in.args(0, s.L - steps, MAMBA4J_ALGO_AUTO, y2.data(), state2.data()), "prefill");
    for (int64_t t = s.L - steps; t < s.L; t++) run(in.args(t, 1, MAMBA4J_ALGO_AUTO, y2.data(), state2.data()), "step");
    shape = s.str() + " steps=" + std::to_string(steps);
    expect_close("selective_scan prefill+steps y", shape, y2, copy(want_y), kThreshold);
    expect_close("selective_scan prefill+steps state", shape, state2, copy(want_state), kThreshold);
}

void case_slots() {
    Shape s{4, 1, 70, 16};
    Inputs in(s);
    const int64_t per = s.E * s.N;
    const int32_t slots[4] = {5, 2, 0, 3};
    Guarded pool(normal(size_t(6 * per), 0.5f));
    std::vector<float> want_pool = copy(pool), want_y(in.u.size(), 0.0f);
    Guarded y(in.u.size());
    auto a = in.args(0, 1, MAMBA4J_ALGO_AUTO, y.data(), pool.data());
    a.state_slots = slots;
    run(a, "slots");
    for (int64_t b = 0; b < s.B; b++) {
        auto r = in.args(0, 1, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_pool.data() + slots[b] * per);
        r.batch = 1;
        r.u = static_cast<const float*>(r.u) + b * r.u_stride_b;
        r.dt = static_cast<const float*>(r.dt) + b * r.dt_stride_b;
        r.z = static_cast<const float*>(r.z) + b * r.z_stride_b;
        r.B = static_cast<const float*>(r.B) + b * r.B_stride_b;
        r.C = static_cast<const float*>(r.C) + b * r.C_stride_b;
        r.y = static_cast<float*>(r.y) + b * r.y_stride_b;
        run(r, "slot reference");
    }
    expect_close("selective_scan slots y", s.str(), y, want_y, kThreshold);
    expect_close("selective_scan slots state pool", s.str(), pool, want_pool, kThreshold);
}

void case_nan() {
    Shape s{1, 40, 20, 8};
    Inputs in(s);
    in.Bm[size_t(10 * in.ns_t + 2)] = NAN;
    Guarded y(in.u.size()), state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "nan");
    std::vector<float> zero(y.n, 0.0f);
    expect(std::isinf(nmse(y.data(), zero.data(), zero.size())), "selective_scan: a NaN input must give NaN output");
}

void case_bad_args() {
    Shape s{1, 4, 8, 4};
    Inputs in(s);
    Guarded y(in.u.size()), state(in.state0);
    const auto good = in.args(0, s.L, MAMBA4J_ALGO_AUTO, y.data(), state.data());
    auto ctx = cpu_context();
    auto bad = good;
    bad.A_log = nullptr;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "A_log is a null pointer",
                 "null A_log");
    bad = good;
    bad.state = -2;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "state must be > 0", "N -2");
    bad = good;
    bad.B_stride_t = 1;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "B_stride_t", "short B stride");
    bad = good;
    bad.z_stride_t = 1;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "z_stride_t", "short z stride");
    bad = good;
    bad.dt_softplus = 7;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "dt_softplus", "softplus 7");
    bad = good;
    bad.algo = MAMBA4J_ALGO_CHUNKED;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "algo", "chunked algo");
    bad = good;
    int32_t slots[1] = {-3};
    bad.state_slots = slots;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "negative", "negative slot");
    bad = good;
    bad.dtype = MAMBA4J_F16;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_UNSUPPORTED, "F32", "f16 on CPU");
    bad = good;
    bad.dtype = 7;
    expect_error(mamba4j_selective_scan(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown dtype", "dtype 7");
    expect_error(mamba4j_selective_scan(ctx, nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "args is a null pointer",
                 "null args");
}

}  // namespace

int main() {
    for (int64_t E : {1, 15, 16, 70, 200})
        for (int64_t N : {1, 7, 16})
            for (int64_t L : {1, 5, 97}) case_shape({2, L, E, N});
    case_shape({1, 64, 33, 64});
    case_shape({3, 50, 48, 16, false, false, false, false});
    case_shape({2, 50, 40, 16, true, false, true, true});
    case_shape({1, 8192, 16, 16});  // ≥ 8K tokens
    case_pieces({2, 120, 40, 16}, 57, 5);
    case_pieces({1, 30, 1536, 16}, 1, 3);  // mamba-130m width
    case_slots();
    case_nan();
    case_bad_args();
    return finish();
}
