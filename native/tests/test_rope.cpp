// RoPE (rotate-half, partial rotary, llama3 scaling): the fast path against the reference
// over a table of shapes, the formula checked by hand on tiny cases, and bad arguments.
#include "harness.h"

using namespace harness;

struct RopeCase {
    int64_t B, L, Hq, Hkv, d, rotary;
    float theta;
    bool llama3, with_k;
    std::vector<int32_t> start;
};

static mamba4j_rope_args make_args(const RopeCase& c, int64_t pad) {
    mamba4j_rope_args a{};
    a.batch = c.B;
    a.seqlen = c.L;
    a.q_heads = c.Hq;
    a.kv_heads = c.Hkv;
    a.head_dim = c.d;
    a.rotary_dim = c.rotary;
    a.dtype = MAMBA4J_F32;
    a.q_stride_t = c.Hq * c.d + pad;
    a.q_stride_b = c.L * a.q_stride_t;
    a.k_stride_t = c.Hkv * c.d + pad;
    a.k_stride_b = c.L * a.k_stride_t;
    a.start_pos = c.start.empty() ? nullptr : c.start.data();
    a.theta = c.theta;
    if (c.llama3) {
        a.llama3_factor = 8.0f;
        a.llama3_low_freq_factor = 1.0f;
        a.llama3_high_freq_factor = 4.0f;
        a.llama3_original_max_position = 64;  // small, so every regime occurs at d = 64
    }
    return a;
}

static void case_table(const RopeCase& c) {
    const int64_t pad = 3;
    mamba4j_rope_args a = make_args(c, pad);
    auto q0 = normal(size_t(c.B * a.q_stride_b)), k0 = normal(size_t(c.B * a.k_stride_b));
    std::vector<float> q_want = q0, k_want = k0;
    Guarded q_got(q0), k_got(k0);
    a.algo = MAMBA4J_ALGO_REFERENCE;
    a.q = q_want.data();
    a.k = c.with_k ? k_want.data() : nullptr;
    expect_ok(mamba4j_rope(cpu_context(), &a), "rope reference");
    a.algo = MAMBA4J_ALGO_AUTO;
    a.q = q_got.data();
    a.k = c.with_k ? k_got.data() : nullptr;
    expect_ok(mamba4j_rope(cpu_context(), &a), "rope fast");
    std::string shape = shape_str({{"B", c.B}, {"L", c.L}, {"Hq", c.Hq}, {"Hkv", c.Hkv}, {"d", c.d},
                                   {"rotary", c.rotary}, {"theta", int64_t(c.theta)}, {"llama3", c.llama3},
                                   {"k", c.with_k}, {"start0", c.start.empty() ? 0 : c.start[0]}});
    expect_close("rope q", shape, q_got, q_want, 1e-12);
    expect_close("rope k", shape, k_got, k_want, c.with_k ? 1e-12 : 0.0);
    // channels past rotary_dim, and the row padding, are untouched
    bool untouched = true;
    for (int64_t i = 0; i < c.B * a.q_stride_b; i++) {
        const int64_t in_row = i % a.q_stride_t;
        if ((in_row >= c.Hq * c.d || in_row % c.d >= c.rotary) && q_got[size_t(i)] != q0[size_t(i)]) untouched = false;
    }
    expect(untouched, "rope [" + shape + "]: channels past rotary_dim and padding unchanged");
}

// One pair rotated by angle p · f, f the (scaled) frequency of pair 0: x = (1, 0) → (cos, sin).
static void check_single_pair(float factor, int64_t original, int32_t p, double f, const char* what) {
    float x[2] = {1.0f, 0.0f};
    mamba4j_rope_args a{};
    a.batch = a.seqlen = a.q_heads = 1;
    a.head_dim = a.rotary_dim = 2;
    a.q = x;
    a.q_stride_b = a.q_stride_t = 2;
    a.start_pos = &p;
    a.theta = 10000.0f;
    a.llama3_factor = factor;
    a.llama3_low_freq_factor = 1.0f;
    a.llama3_high_freq_factor = 4.0f;
    a.llama3_original_max_position = original;
    expect_ok(mamba4j_rope(cpu_context(), &a), what);
    const double angle = float(p) * float(f);
    const double err = std::fabs(x[0] - std::cos(angle)) + std::fabs(x[1] - std::sin(angle));
    expect(err < 1e-6, std::string(what) + ": got (" + std::to_string(x[0]) + ", " + std::to_string(x[1]) +
                           "), want (cos, sin) of " + std::to_string(angle));
}

static void formula_by_hand() {
    // d 4, theta 10000: inv_freq = (1, 0.01); pairs (0, 2), (1, 3); position 1.
    float x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    int32_t p = 1;
    mamba4j_rope_args a{};
    a.batch = a.seqlen = a.q_heads = 1;
    a.head_dim = a.rotary_dim = 4;
    a.q = x;
    a.q_stride_b = a.q_stride_t = 4;
    a.start_pos = &p;
    a.theta = 10000.0f;
    expect_ok(mamba4j_rope(cpu_context(), &a), "rope d=4");
    const double c0 = std::cos(1.0), s0 = std::sin(1.0), c1 = std::cos(0.01), s1 = std::sin(0.01);
    const double want[4] = {1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1};
    double err = 0;
    for (int i = 0; i < 4; i++) err += std::fabs(x[i] - want[i]);
    expect(err < 1e-5, "rope d=4 position 1 by hand: error " + std::to_string(err));

    // position 0 is the identity
    float y[8], y0[8];
    for (int i = 0; i < 8; i++) y[i] = y0[i] = float(i) - 3.5f;
    p = 0;
    a.head_dim = a.rotary_dim = 8;
    a.q = y;
    a.q_stride_b = a.q_stride_t = 8;
    expect_ok(mamba4j_rope(cpu_context(), &a), "rope position 0");
    expect(std::memcmp(y, y0, sizeof y) == 0, "rope at position 0 is the identity");

    // llama3 regimes for pair 0 (inv_freq 1, wavelength 2π ≈ 6.28), low 1, high 4:
    check_single_pair(0.0f, 0, 3, 1.0, "llama3 off");
    check_single_pair(8.0f, 4, 3, 1.0 / 8.0, "llama3 long wave (2π > 4/1): divided by factor");
    check_single_pair(8.0f, 100, 3, 1.0, "llama3 short wave (2π < 100/4): kept");
    const double s = (16.0 / (2 * M_PI) - 1.0) / (4.0 - 1.0);
    check_single_pair(8.0f, 16, 3, (1 - s) / 8.0 + s, "llama3 medium wave (4 <= 2π <= 16): interpolated");
}

static void nan_propagates() {
    RopeCase c{1, 4, 2, 1, 64, 64, 10000.0f, false, false, {5}};
    mamba4j_rope_args a = make_args(c, 0);
    auto q = normal(size_t(c.L * c.Hq * c.d));
    q[size_t(1 * c.Hq * c.d + 3)] = NAN;  // token 1, head 0, channel 3 (pairs with 35)
    a.q = q.data();
    expect_ok(mamba4j_rope(cpu_context(), &a), "rope NaN");
    expect(std::isnan(q[size_t(1 * c.Hq * c.d + 3)]) && std::isnan(q[size_t(1 * c.Hq * c.d + 35)]),
           "rope: a NaN input stays NaN in its pair");
    std::vector<float> clean(q.size(), 0.0f);
    Guarded got(q);
    expect(nmse(got.data(), clean.data(), q.size()) == INFINITY, "rope: an output with NaN never passes NMSE");
}

static void bad_arguments() {
    float q[16] = {};
    int32_t neg[2] = {0, -4};
    mamba4j_rope_args a{};
    a.batch = a.seqlen = a.q_heads = 1;
    a.head_dim = a.rotary_dim = 16;
    a.q = q;
    a.q_stride_b = a.q_stride_t = 16;
    a.theta = 10000.0f;
    auto ctx = cpu_context();
    mamba4j_rope_args bad = a;
    bad.q = nullptr;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "q is a null pointer", "rope null q");
    bad = a;
    bad.rotary_dim = 7;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "rotary_dim must be even", "rope odd rotary");
    bad = a;
    bad.rotary_dim = 18;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "<= head_dim", "rope rotary > d");
    bad = a;
    bad.batch = 2;
    bad.q_stride_b = 32;
    bad.start_pos = neg;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "start_pos[1] must be >= 0, got -4 (row 1)",
                 "rope negative start");
    bad = a;
    bad.theta = 0.0f;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "theta", "rope theta 0");
    bad = a;
    bad.llama3_factor = 8.0f;
    bad.llama3_low_freq_factor = 4.0f;
    bad.llama3_high_freq_factor = 1.0f;
    bad.llama3_original_max_position = 8192;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "llama3_low_freq_factor < llama3_high",
                 "rope llama3 low >= high");
    bad = a;
    bad.q_stride_t = 8;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "q_stride_t", "rope short stride");
    bad = a;
    bad.k = q;
    bad.kv_heads = 0;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "kv_heads must be > 0", "rope k without heads");
    bad = a;
    bad.algo = MAMBA4J_ALGO_FLASH;
    expect_error(mamba4j_rope(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "algo 4", "rope algo FLASH");
    expect_error(mamba4j_rope(ctx, nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "args is a null pointer", "rope null args");
}

int main() {
    const std::vector<RopeCase> table = {
        {1, 1, 1, 1, 64, 64, 10000.0f, false, true, {}},
        {1, 67, 4, 2, 64, 64, 10000.0f, false, true, {}},
        {3, 5, 4, 2, 64, 64, 500000.0f, true, true, {0, 100, 9000}},
        {2, 33, 9, 3, 64, 32, 10000.0f, false, true, {7, 8191}},   // partial rotary (half)
        {2, 17, 12, 4, 80, 80, 10000.0f, false, true, {3, 0}},     // odd head_dim
        {1, 19, 3, 1, 80, 20, 1000000.0f, true, false, {40}},      // partial, no k
        {2, 9, 8, 8, 128, 128, 500000.0f, true, true, {100000, 17}},
        {1, 300, 32, 8, 128, 64, 10000.0f, false, true, {12}},
    };
    for (const auto& c : table) case_table(c);
    formula_by_hand();
    nan_propagates();
    bad_arguments();
    return finish();
}
