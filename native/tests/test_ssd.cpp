// Mamba-2 SSD: RECURRENT, CHUNKED and AUTO against REFERENCE (double) over a table of
// shapes (lengths not multiples of the chunk, B > 1, G > 1, 8K tokens, strided views,
// optional z / D / dt_bias / dt limits), states carried across calls (two-piece prefill
// == one-piece, prefill + decode steps == full prefill), slots addressed by state_slots,
// NaN propagation, guard bytes, bad arguments.
#include "harness.h"

#include <algorithm>
#include <cmath>

using namespace harness;

namespace {

constexpr double kThreshold = 1e-10;  // fp32 kernels vs the double reference (NMSE; measured ≤ 1e-12)

struct Shape {
    int64_t B, L, H, P, G, N, Q;
    bool z = true, D = true, bias = true, limits = false;
    std::string str() const {
        return shape_str({{"B", B}, {"L", L}, {"H", H}, {"P", P}, {"G", G}, {"N", N}, {"Q", Q}, {"z", z}, {"D", D},
                          {"bias", bias}, {"limits", limits}});
    }
};

float inv_softplus(float y) { return std::log(std::expm1(y)); }

// Inputs of one shape, with padded token strides so the kernels see strided views.
struct Inputs {
    Shape s;
    int64_t xs_t, dts_t, bcs_t;  // token strides of x/z/y, dt, B/C
    std::vector<float> x, dt, Bm, Cm, z, dt_bias, A_log, D, state0;
    explicit Inputs(const Shape& sh) : s(sh) {
        xs_t = s.H * s.P + 3;
        dts_t = s.H + 1;
        bcs_t = s.G * s.N + 5;
        x = normal(size_t(s.B * s.L * xs_t));
        z = normal(size_t(s.B * s.L * xs_t));
        dt = normal(size_t(s.B * s.L * dts_t), 0.5f);
        Bm = normal(size_t(s.B * s.L * bcs_t));
        Cm = normal(size_t(s.B * s.L * bcs_t));
        dt_bias.resize(size_t(s.H));
        for (auto& v : dt_bias) v = inv_softplus(uniform(1, 0.001f, 0.1f)[0]);
        A_log.resize(size_t(s.H));
        for (auto& v : A_log) v = std::log(uniform(1, 1.0f, 16.0f)[0]);
        D = normal(size_t(s.H));
        state0 = normal(size_t(s.B * s.H * s.P * s.N), 0.5f);
    }
    // Arguments for tokens [t0, t0 + len) of every row.
    mamba4j_ssd_args args(int64_t t0, int64_t len, mamba4j_algo algo, float* y, float* state) const {
        mamba4j_ssd_args a{};
        a.batch = s.B;
        a.seqlen = len;
        a.heads = s.H;
        a.head_dim = s.P;
        a.groups = s.G;
        a.state = s.N;
        a.chunk_size = s.Q;
        a.dtype = MAMBA4J_F32;
        a.x = x.data() + t0 * xs_t;
        a.x_stride_b = s.L * xs_t;
        a.x_stride_t = xs_t;
        a.dt = dt.data() + t0 * dts_t;
        a.dt_stride_b = s.L * dts_t;
        a.dt_stride_t = dts_t;
        a.dt_bias = s.bias ? dt_bias.data() : nullptr;
        a.A_log = A_log.data();
        a.B = Bm.data() + t0 * bcs_t;
        a.C = Cm.data() + t0 * bcs_t;
        a.B_stride_b = a.C_stride_b = s.L * bcs_t;
        a.B_stride_t = a.C_stride_t = bcs_t;
        a.D = s.D ? D.data() : nullptr;
        a.z = s.z ? z.data() + t0 * xs_t : nullptr;
        a.z_stride_b = s.L * xs_t;
        a.z_stride_t = xs_t;
        a.dt_min = s.limits ? 0.004f : 0.0f;
        a.dt_max = s.limits ? 0.05f : 0.0f;
        a.ssm_state = state;
        a.y = y + t0 * xs_t;
        a.y_stride_b = s.L * xs_t;
        a.y_stride_t = xs_t;
        a.algo = algo;
        return a;
    }
};

void run(const mamba4j_ssd_args& a, const std::string& what) { expect_ok(mamba4j_ssd(cpu_context(), &a), what); }

// y buffers compare only the [H·P] columns of each token: the stride padding is left alone
// by every kernel, so it holds the fill value in both.
struct Result {
    Guarded y, state;
    explicit Result(const Inputs& in) : y(in.x.size(), 0.0f), state(in.state0) {}
};

const char* algo_name(mamba4j_algo a) {
    switch (a) {
        case MAMBA4J_ALGO_REFERENCE: return "reference";
        case MAMBA4J_ALGO_RECURRENT: return "recurrent";
        case MAMBA4J_ALGO_CHUNKED: return "chunked";
        default: return "auto";
    }
}

void case_shape(const Shape& s, std::initializer_list<mamba4j_algo> algos) {
    Inputs in(s);
    Result want(in);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want.y.data(), want.state.data()), "reference " + s.str());
    std::vector<float> want_y(want.y.data(), want.y.data() + want.y.n),
        want_state(want.state.data(), want.state.data() + want.state.n);
    for (mamba4j_algo algo : algos) {
        Result got(in);
        run(in.args(0, s.L, algo, got.y.data(), got.state.data()), std::string(algo_name(algo)) + " " + s.str());
        expect_close(std::string("ssd ") + algo_name(algo) + " y", s.str(), got.y, want_y, kThreshold);
        expect_close(std::string("ssd ") + algo_name(algo) + " state", s.str(), got.state, want_state, kThreshold);
    }
    // no state tensor: zeros in, nothing out
    Guarded want0(in.x.size(), 0.0f);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, want0.data(), nullptr), "reference, no state " + s.str());
    std::vector<float> want0_y(want0.data(), want0.data() + want0.n);
    for (mamba4j_algo algo : algos) {
        Guarded got0(in.x.size(), 0.0f);
        run(in.args(0, s.L, algo, got0.data(), nullptr), std::string(algo_name(algo)) + " no state " + s.str());
        expect_close(std::string("ssd ") + algo_name(algo) + " y (zero state)", s.str(), got0, want0_y, kThreshold);
    }
}

// Prefill in two pieces (split not on a chunk boundary) == prefill in one; then decode
// steps after a prefill == the full prefill (y of the stepped tokens and the final state).
void case_pieces(const Shape& s, int64_t split, int64_t steps) {
    Inputs in(s);
    Result whole(in);
    run(in.args(0, s.L, MAMBA4J_ALGO_REFERENCE, whole.y.data(), whole.state.data()), "whole " + s.str());
    std::vector<float> want_y(whole.y.data(), whole.y.data() + whole.y.n),
        want_state(whole.state.data(), whole.state.data() + whole.state.n);

    Result two(in);
    run(in.args(0, split, MAMBA4J_ALGO_CHUNKED, two.y.data(), two.state.data()), "piece 1");
    run(in.args(split, s.L - split, MAMBA4J_ALGO_CHUNKED, two.y.data(), two.state.data()), "piece 2");
    std::string shape = s.str() + " split=" + std::to_string(split);
    expect_close("ssd two-piece chunked y", shape, two.y, want_y, kThreshold);
    expect_close("ssd two-piece chunked state", shape, two.state, want_state, kThreshold);

    Result stepped(in);
    run(in.args(0, s.L - steps, MAMBA4J_ALGO_AUTO, stepped.y.data(), stepped.state.data()), "prefill");
    for (int64_t t = s.L - steps; t < s.L; t++)
        run(in.args(t, 1, MAMBA4J_ALGO_AUTO, stepped.y.data(), stepped.state.data()), "decode step");
    shape = s.str() + " steps=" + std::to_string(steps);
    expect_close("ssd prefill+steps y", shape, stepped.y, want_y, kThreshold);
    expect_close("ssd prefill+steps state", shape, stepped.state, want_state, kThreshold);
}

// Decode over a batch whose rows live in permuted slots of a larger state tensor:
// slot-addressed results == each row run on its own state.
void case_slots() {
    Shape s{3, 1, 4, 16, 2, 32, 256};
    Inputs in(s);
    const int64_t per = s.H * s.P * s.N, slots_n = 5;
    const int32_t slots[3] = {4, 0, 2};
    Guarded pool(normal(size_t(slots_n * per), 0.5f));
    std::vector<float> pool_before(pool.data(), pool.data() + pool.n);
    Guarded y(in.x.size(), 0.0f);
    auto a = in.args(0, 1, MAMBA4J_ALGO_AUTO, y.data(), pool.data());
    a.state_slots = slots;
    run(a, "slots");
    std::vector<float> want_pool = pool_before, want_y(in.x.size(), 0.0f);
    for (int64_t b = 0; b < s.B; b++) {
        auto r = in.args(0, 1, MAMBA4J_ALGO_REFERENCE, want_y.data(), want_pool.data() + slots[b] * per);
        r.batch = 1;
        r.x = static_cast<const float*>(r.x) + b * r.x_stride_b;
        r.dt = static_cast<const float*>(r.dt) + b * r.dt_stride_b;
        r.B = static_cast<const float*>(r.B) + b * r.B_stride_b;
        r.C = static_cast<const float*>(r.C) + b * r.C_stride_b;
        r.z = static_cast<const float*>(r.z) + b * r.z_stride_b;
        r.y = static_cast<float*>(r.y) + b * r.y_stride_b;
        run(r, "slot reference");
    }
    expect_close("ssd slots y", s.str(), y, want_y, kThreshold);
    expect_close("ssd slots state pool", s.str(), pool, want_pool, kThreshold);
}

// A NaN in x must come out as NaN (and so fail any comparison), never be hidden.
void case_nan() {
    Shape s{1, 300, 2, 8, 1, 16, 64};
    for (mamba4j_algo algo : {MAMBA4J_ALGO_RECURRENT, MAMBA4J_ALGO_CHUNKED}) {
        Inputs in(s);
        in.x[size_t(100 * in.xs_t + 3)] = NAN;
        Result got(in);
        run(in.args(0, s.L, algo, got.y.data(), got.state.data()), "nan");
        std::vector<float> ref(got.y.n, 0.0f);
        double e = nmse(got.y.data(), ref.data(), ref.size());
        expect(std::isinf(e), std::string("ssd ") + algo_name(algo) + ": a NaN input must give NaN output (NMSE inf)");
    }
}

void case_bad_args() {
    Shape s{1, 4, 2, 4, 1, 8, 2};
    Inputs in(s);
    Result r(in);
    const auto good = in.args(0, s.L, MAMBA4J_ALGO_AUTO, r.y.data(), r.state.data());
    auto ctx = cpu_context();
    auto bad = good;
    bad.x = nullptr;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x is a null pointer", "null x");
    bad = good;
    bad.groups = 3;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "multiple of groups", "H % G");
    bad = good;
    bad.x_stride_t = 5;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x_stride_t", "short x stride");
    bad = good;
    bad.chunk_size = -1;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "chunk_size", "negative chunk");
    bad = good;
    bad.dt_min = 0.1f;
    bad.dt_max = 0.01f;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "dt_max", "dt_max < dt_min");
    bad = good;
    bad.algo = MAMBA4J_ALGO_FLASH;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "algo", "flash algo");
    bad = good;
    int32_t dup[1] = {-1};
    bad.state_slots = dup;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "negative", "negative slot");
    bad = good;
    bad.seqlen = int64_t(1) << 61;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "overflows", "overflow");
    bad = good;
    bad.dtype = MAMBA4J_BF16;
    expect_error(mamba4j_ssd(ctx, &bad), MAMBA4J_ERR_UNSUPPORTED, "F32", "bf16 on CPU");
    expect_error(mamba4j_ssd(ctx, nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "args is a null pointer", "null args");
}

}  // namespace

int main() {
    const std::initializer_list<mamba4j_algo> all = {MAMBA4J_ALGO_RECURRENT, MAMBA4J_ALGO_CHUNKED, MAMBA4J_ALGO_AUTO};
    //  B    L   H   P  G   N    Q
    case_shape({1, 1, 2, 8, 1, 16, 64}, all);
    case_shape({1, 7, 3, 5, 1, 7, 4}, all);
    case_shape({2, 100, 4, 16, 2, 32, 32}, all);
    case_shape({3, 129, 4, 8, 4, 16, 64}, all);
    case_shape({2, 257, 6, 16, 3, 24, 256}, all);
    case_shape({1, 300, 8, 64, 1, 128, 0}, {MAMBA4J_ALGO_CHUNKED});  // mamba2-130m head shape, default chunk
    case_shape({1, 1, 24, 64, 1, 128, 0}, all);  // a mamba2-130m decode step (the 16-column SIMD rows path)
    case_shape({3, 5, 4, 8, 2, 48, 0}, {MAMBA4J_ALGO_RECURRENT});  // N % 32 == 16: that path's 16-column tail
    case_shape({2, 77, 2, 33, 2, 40, 16, false, false, false, false}, all);
    case_shape({1, 190, 4, 16, 2, 16, 50, true, true, true, true}, all);
    case_shape({1, 8300, 2, 8, 1, 16, 256}, {MAMBA4J_ALGO_CHUNKED, MAMBA4J_ALGO_RECURRENT});  // ≥ 8K tokens
    case_shape({1, 8192, 2, 4, 2, 8, 100}, {MAMBA4J_ALGO_CHUNKED});
    // many tiny chunks (234 of 3 tokens): the state carried through a long chain of chunks
    case_shape({2, 700, 8, 32, 2, 64, 3}, {MAMBA4J_ALGO_CHUNKED});
    case_pieces({2, 200, 4, 16, 2, 32, 64}, 77, 5);
    case_pieces({1, 600, 2, 8, 1, 16, 256}, 300, 3);
    case_slots();
    case_nan();
    case_bad_args();
    return finish();
}
