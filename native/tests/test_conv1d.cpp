// Causal depthwise conv1d (+ SiLU): the fast path against REFERENCE (double) over a table
// of shapes (widths 1–5, channel counts that are not multiples of the vector, B > 1, 8K
// tokens, strided views, bf16 weights), conv state carried across calls (two-piece
// prefill == one-piece, including pieces shorter than K-1; prefill + decode steps == full
// prefill), slots addressed by state_slots, NaN propagation, guard bytes, bad arguments.
#include "harness.h"

#include <cmath>

using namespace harness;

namespace {

constexpr double kThreshold = 1e-11;  // fp32 fast path vs the double reference (NMSE)

struct Shape {
    int64_t B, L, C, K;
    bool silu = true, bias = true, state = true;
    mamba4j_dtype wdt = MAMBA4J_F32;
    std::string str() const {
        return shape_str({{"B", B}, {"L", L}, {"C", C}, {"K", K}, {"silu", silu}, {"bias", bias}, {"state", state},
                          {"bf16w", wdt == MAMBA4J_BF16}});
    }
};


struct Inputs {
    Shape s;
    int64_t xs_t;  // token stride of x and y: a column slice of a wider tensor
    std::vector<float> x, w, bias, state0;
    std::vector<uint16_t> w16, bias16;
    explicit Inputs(const Shape& sh) : s(sh) {
        xs_t = s.C + 7;
        x = normal(size_t(s.B * s.L * xs_t));
        w = normal(size_t(s.C * s.K), 0.5f);
        bias = normal(size_t(s.C), 0.2f);
        state0 = normal(size_t(s.B * (s.K - 1) * s.C));
        for (float v : w) w16.push_back(to_bf16(v));
        for (float v : bias) bias16.push_back(to_bf16(v));
    }
    mamba4j_conv1d_args args(int64_t t0, int64_t len, mamba4j_algo algo, float* y, float* state) const {
        mamba4j_conv1d_args a{};
        a.batch = s.B;
        a.seqlen = len;
        a.channels = s.C;
        a.width = s.K;
        a.dtype = MAMBA4J_F32;
        a.weight_dtype = s.wdt;
        a.x = x.data() + t0 * xs_t;
        a.x_stride_b = s.L * xs_t;
        a.x_stride_t = xs_t;
        a.w = s.wdt == MAMBA4J_BF16 ? static_cast<const void*>(w16.data()) : w.data();
        a.bias = !s.bias ? nullptr : s.wdt == MAMBA4J_BF16 ? static_cast<const void*>(bias16.data()) : bias.data();
        a.conv_state = s.state ? state : nullptr;
        a.y = y + t0 * xs_t;
        a.y_stride_b = s.L * xs_t;
        a.y_stride_t = xs_t;
        a.silu = s.silu;
        a.algo = algo;
        return a;
    }
};

void run(const mamba4j_conv1d_args& a, const std::string& what) {
    expect_ok(mamba4j_conv1d(cpu_context(), &a), what);
}

std::vector<float> copy(const Guarded& g) { return std::vector<float>(g.data(), g.data() + g.n); }

void case_shape(const Shape& s) {
    Inputs in(s);
    Guarded want_y(in.x.size()), want_state(in.state0), y(in.x.size()), state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_state.data()), "reference " + s.str());
    run(in.args(0, s.L, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "fast " + s.str());
    expect_close("conv1d y", s.str(), y, copy(want_y), kThreshold);
    expect_close("conv1d state", s.str(), state, copy(want_state), 0.0);  // a copy of inputs: exact
}

// Prefill in pieces (lengths given) == one prefill; then prefill + decode steps.
void case_pieces(const Shape& s, std::vector<int64_t> pieces, int64_t steps) {
    Inputs in(s);
    Guarded want_y(in.x.size()), want_state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_state.data()), "whole");
    Guarded y(in.x.size()), state(in.state0);
    int64_t t = 0;
    std::string split;
    for (int64_t len : pieces) {
        run(in.args(t, len, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "piece");
        t += len;
        split += std::to_string(len) + ",";
    }
    expect(t == s.L, "pieces cover L");
    expect_close("conv1d pieces y", s.str() + " pieces=" + split, y, copy(want_y), kThreshold);
    expect_close("conv1d pieces state", s.str() + " pieces=" + split, state, copy(want_state), 0.0);

    Guarded y2(in.x.size()), state2(in.state0);
    run(in.args(0, s.L - steps, MAMBA4J_ALGO_AUTO, y2.data(), state2.data()), "prefill");
    for (int64_t u = s.L - steps; u < s.L; u++) run(in.args(u, 1, MAMBA4J_ALGO_AUTO, y2.data(), state2.data()), "step");
    std::string shape = s.str() + " steps=" + std::to_string(steps);
    expect_close("conv1d prefill+steps y", shape, y2, copy(want_y), kThreshold);
    expect_close("conv1d prefill+steps state", shape, state2, copy(want_state), 0.0);
}

// Decode of 3 rows whose states are slots 3, 0, 1 of a pool of 4.
void case_slots() {
    Shape s{3, 1, 100, 4};
    Inputs in(s);
    const int64_t per = (s.K - 1) * s.C;
    const int32_t slots[3] = {3, 0, 1};
    Guarded pool(normal(size_t(4 * per)));
    std::vector<float> want_pool = copy(pool), want_y(in.x.size(), 0.0f);
    Guarded y(in.x.size());
    auto a = in.args(0, 1, MAMBA4J_ALGO_AUTO, y.data(), pool.data());
    a.state_slots = slots;
    run(a, "slots");
    for (int64_t b = 0; b < s.B; b++) {
        auto r = in.args(0, 1, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_pool.data() + slots[b] * per);
        r.batch = 1;
        r.x = static_cast<const float*>(r.x) + b * r.x_stride_b;
        r.y = static_cast<float*>(r.y) + b * r.y_stride_b;
        run(r, "slot reference");
    }
    expect_close("conv1d slots y", s.str(), y, want_y, kThreshold);
    expect_close("conv1d slots state pool", s.str(), pool, want_pool, 0.0);
}

void case_nan() {
    Shape s{1, 50, 40, 4};
    Inputs in(s);
    in.x[size_t(20 * in.xs_t + 5)] = NAN;
    Guarded y(in.x.size()), state(in.state0);
    run(in.args(0, s.L, MAMBA4J_ALGO_AUTO, y.data(), state.data()), "nan");
    std::vector<float> zero(y.n, 0.0f);
    expect(std::isinf(nmse(y.data(), zero.data(), zero.size())), "conv1d: a NaN input must give NaN output");
}

void case_bad_args() {
    Shape s{1, 4, 8, 4};
    Inputs in(s);
    Guarded y(in.x.size()), state(in.state0);
    const auto good = in.args(0, s.L, MAMBA4J_ALGO_AUTO, y.data(), state.data());
    auto ctx = cpu_context();
    auto bad = good;
    bad.w = nullptr;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "w is a null pointer", "null w");
    bad = good;
    bad.width = 0;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "width must be > 0", "width 0");
    bad = good;
    bad.y_stride_t = 3;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "y_stride_t", "short y stride");
    bad = good;
    bad.batch = 2;  // the batch stride only matters between sequences
    bad.x_stride_b = 4;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x_stride_b", "short x batch stride");
    bad = good;
    int32_t slots[2] = {1, 1};
    bad.batch = 2;
    bad.state_slots = slots;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "twice", "duplicate slots");
    std::vector<int32_t> many(100);  // past 64 rows the check sorts a copy
    for (int32_t i = 0; i < 100; i++) many[size_t(i)] = i;
    many[97] = 3;
    bad = good;
    bad.batch = 100;
    bad.state_slots = many.data();
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "holds slot 3 twice", "duplicate slots, 100 rows");
    bad = good;
    bad.conv_state = nullptr;
    bad.state_slots = slots;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "without conv_state", "slots w/o state");
    bad = good;
    bad.algo = MAMBA4J_ALGO_CHUNKED;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "algo", "chunked algo");
    bad = good;
    bad.silu = 2;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "silu", "silu 2");
    bad = good;
    bad.channels = int64_t(1) << 62;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x_stride_t", "huge channels");
    bad = good;
    bad.dtype = MAMBA4J_BF16;
    expect_error(mamba4j_conv1d(ctx, &bad), MAMBA4J_ERR_UNSUPPORTED, "F32", "bf16 activations on CPU");
    expect_error(mamba4j_conv1d(nullptr, &good), MAMBA4J_ERR_INVALID_ARGUMENT, "ctx is a null pointer", "null ctx");
}

}  // namespace

int main() {
    for (int64_t K : {1, 2, 4, 5})
        for (int64_t C : {1, 17, 64, 1792})
            for (int64_t L : {1, 3, 130}) case_shape({2, L, C, K});
    case_shape({3, 33, 100, 4, false, false, true});
    case_shape({3, 1, 100, 4, false, false, true});  // decode, width 4: the de-interleaved taps, a 4-channel tail
    case_shape({2, 1, 100, 4, true, true, false});
    case_shape({2, 33, 100, 4, true, true, false});
    case_shape({2, 33, 100, 4, true, true, true, MAMBA4J_BF16});
    case_shape({1, 8200, 24, 4});  // ≥ 8K tokens
    case_pieces({2, 40, 50, 4}, {1, 2, 17, 20}, 6);
    case_pieces({1, 9, 33, 5}, {3, 1, 5}, 4);
    case_slots();
    case_nan();
    case_bad_args();
    return finish();
}
