// Causal GQA attention with a KV cache: FLASH (tiles, online softmax, split-KV decode)
// against the two-pass REFERENCE over a table of shapes, state carried across calls
// (two-piece prefill == one piece, prefill + decode steps == full prefill), long caches,
// NaN, guard bytes around every output and cache, and bad arguments.
#include "harness.h"

#include <algorithm>

using namespace harness;

// NMSE threshold FLASH (fp32, online softmax) vs REFERENCE (double): measured errors are
// ~1e-14..1e-13; 1e-10 leaves room for long rows and still catches any wrong key or tile.
constexpr double kThreshold = 1e-10;

// One attention problem: B rows of L new tokens each, cache [S, T, Hkv, d].
struct Problem {
    int64_t B, L, Hq, Hkv, d, T, S, pad;
    std::vector<int32_t> slots, start;
    std::vector<float> q, k, v, cache_k, cache_v;  // inputs; the cache before the call

    Problem(int64_t B_, int64_t L_, int64_t Hq_, int64_t Hkv_, int64_t d_, std::vector<int32_t> start_,
            std::vector<int32_t> slots_ = {}, int64_t pad_ = 0)
        : B(B_), L(L_), Hq(Hq_), Hkv(Hkv_), d(d_), pad(pad_), slots(std::move(slots_)), start(std::move(start_)) {
        int64_t need = 0;
        for (int64_t b = 0; b < B; b++) need = std::max<int64_t>(need, start[size_t(b)] + L);
        T = need + 5;  // capacity beyond the end: never read
        S = slots.empty() ? B : *std::max_element(slots.begin(), slots.end()) + 2;
        q = normal(size_t(B * L * q_row()));
        k = normal(size_t(B * L * kv_row()));
        v = normal(size_t(B * L * kv_row()));
        cache_k = normal(size_t(S * T * Hkv * d));  // earlier tokens' keys, and garbage past them
        cache_v = normal(size_t(S * T * Hkv * d));
    }
    int64_t q_row() const { return Hq * d + pad; }
    int64_t kv_row() const { return Hkv * d + pad; }

    mamba4j_attention_args args(mamba4j_algo algo) const {
        mamba4j_attention_args a{};
        a.batch = B;
        a.seqlen = L;
        a.q_heads = Hq;
        a.kv_heads = Hkv;
        a.head_dim = d;
        a.capacity = T;
        a.slot_count = S;
        a.dtype = MAMBA4J_F32;
        a.q = q.data();
        a.q_stride_t = a.out_stride_t = q_row();
        a.q_stride_b = a.out_stride_b = L * q_row();
        a.k = k.data();
        a.v = v.data();
        a.kv_stride_t = kv_row();
        a.kv_stride_b = L * kv_row();
        a.slots = slots.empty() ? nullptr : slots.data();
        a.start_pos = start.data();
        a.algo = algo;
        return a;
    }

    std::string shape() const {
        std::string s = shape_str({{"B", B}, {"L", L}, {"Hq", Hq}, {"Hkv", Hkv}, {"d", d}, {"T", T}, {"pad", pad}});
        s += " start=";
        for (auto p : start) s += std::to_string(p) + ",";
        return s;
    }
};

struct Result {
    Guarded out, cache_k, cache_v;
};

// Runs one algorithm on a fresh copy of the problem's cache.
static Result run(const Problem& p, mamba4j_algo algo) {
    Result r{Guarded(size_t(p.B * p.L * p.q_row())), Guarded(p.cache_k), Guarded(p.cache_v)};
    mamba4j_attention_args a = p.args(algo);
    a.k_cache = r.cache_k.data();
    a.v_cache = r.cache_v.data();
    a.out = r.out.data();
    expect_ok(mamba4j_attention(cpu_context(), &a), "attention " + p.shape());
    return r;
}

static std::vector<float> as_vector(const Guarded& g) { return std::vector<float>(g.data(), g.data() + g.n); }

static void against_reference(const Problem& p, mamba4j_algo algo = MAMBA4J_ALGO_FLASH) {
    Result want = run(p, MAMBA4J_ALGO_REFERENCE), got = run(p, algo);
    const std::string op = algo == MAMBA4J_ALGO_AUTO ? "attention auto" : "attention flash";
    expect_close(op, p.shape(), got.out, as_vector(want.out), kThreshold);
    expect_close(op + " k_cache", p.shape(), got.cache_k, as_vector(want.cache_k), 0.0);
    expect_close(op + " v_cache", p.shape(), got.cache_v, as_vector(want.cache_v), 0.0);
}

// Copies rows [t0, t0 + n) of every batch row of a [B, L, row] tensor.
static std::vector<float> token_slice(const std::vector<float>& x, int64_t B, int64_t L, int64_t row, int64_t t0,
                                      int64_t n) {
    std::vector<float> y(size_t(B * n * row));
    for (int64_t b = 0; b < B; b++)
        std::copy_n(x.begin() + (b * L + t0) * row, n * row, y.begin() + b * n * row);
    return y;
}

// The same B rows as `whole`, computed as a prefill of L0 tokens followed by pieces of
// `step` tokens (step 1: decode steps), each call continuing the cache of the previous.
static void pieces_equal_whole(const Problem& whole, int64_t L0, int64_t step) {
    Result one = run(whole, MAMBA4J_ALGO_FLASH);
    Guarded ck(whole.cache_k), cv(whole.cache_v);
    std::vector<float> out(size_t(whole.B * whole.L * whole.q_row()), 0.0f);
    Problem shell = whole;  // the pieces' own inputs; the cache lives in ck, cv
    shell.cache_k.clear();
    shell.cache_v.clear();
    int64_t calls = 0;
    for (int64_t t0 = 0; t0 < whole.L; t0 += (t0 == 0 ? L0 : step), calls++) {
        const int64_t n = std::min(whole.L - t0, t0 == 0 ? L0 : step);
        Problem piece = shell;
        piece.L = n;
        for (auto& s : piece.start) s += int32_t(t0);
        piece.q = token_slice(whole.q, whole.B, whole.L, whole.q_row(), t0, n);
        piece.k = token_slice(whole.k, whole.B, whole.L, whole.kv_row(), t0, n);
        piece.v = token_slice(whole.v, whole.B, whole.L, whole.kv_row(), t0, n);
        std::vector<float> o(size_t(whole.B * n * whole.q_row()), 0.0f);
        mamba4j_attention_args a = piece.args(MAMBA4J_ALGO_AUTO);
        a.k_cache = ck.data();
        a.v_cache = cv.data();
        a.out = o.data();
        expect_ok(mamba4j_attention(cpu_context(), &a), "attention piece " + piece.shape());
        for (int64_t b = 0; b < whole.B; b++)
            std::copy_n(o.begin() + b * n * whole.q_row(), n * whole.q_row(),
                        out.begin() + (b * whole.L + t0) * whole.q_row());
    }
    Guarded got(out);
    const std::string what = "attention " + std::to_string(calls) + " calls (prefill " + std::to_string(L0) +
                             ", then " + std::to_string(step) + " at a time) vs one";
    expect_close(what, whole.shape(), got, as_vector(one.out), kThreshold);
    expect_close(what + " k_cache", whole.shape(), ck, as_vector(one.cache_k), 0.0);
    expect_close(what + " v_cache", whole.shape(), cv, as_vector(one.cache_v), 0.0);
}

static void nan_fails() {
    Problem p(2, 9, 4, 2, 64, {3, 70});
    const int64_t at = (1 * p.L + 4) * p.q_row() + 1 * p.d + 5;  // row 1, token 4, head 1
    p.q[size_t(at)] = NAN;
    Result want = run(p, MAMBA4J_ALGO_REFERENCE), got = run(p, MAMBA4J_ALGO_FLASH);
    const float* o = got.out.data() + (1 * p.L + 4) * p.q_row() + 1 * p.d;
    bool nan_row = true;
    for (int64_t c = 0; c < p.d; c++) nan_row = nan_row && std::isnan(o[c]);
    expect(nan_row, "attention flash: a NaN query gives a NaN output row");
    expect(nmse(got.out.data(), as_vector(want.out).data(), got.out.n) == INFINITY,
           "attention: an output with NaN never passes NMSE");
    // the other rows stay finite and equal to the reference
    got.out.data()[o - got.out.data()] = 0.0f;
    std::vector<float> w = as_vector(want.out), g = as_vector(got.out);
    for (int64_t c = 0; c < p.d; c++) w[size_t(o - got.out.data() + c)] = g[size_t(o - got.out.data() + c)] = 0.0f;
    expect(nmse(g.data(), w.data(), g.size()) <= kThreshold, "attention flash: NaN stays in its own row");

    // a decode whose keys are split into ranges: the NaN survives the combination
    Problem dec(1, 1, 2, 1, 64, {5000});
    dec.q[3] = NAN;  // head 0
    Result r = run(dec, MAMBA4J_ALGO_FLASH);
    bool head0 = true, head1 = true;
    for (int64_t c = 0; c < dec.d; c++) {
        head0 = head0 && std::isnan(r.out[size_t(c)]);
        head1 = head1 && std::isfinite(r.out[size_t(dec.d + c)]);
    }
    expect(head0 && head1, "attention split decode: a NaN query gives a NaN head, the other head stays finite");
}

static void bad_arguments() {
    Problem p(2, 3, 4, 2, 8, {0, 2}, {1, 0});
    Result r = run(p, MAMBA4J_ALGO_REFERENCE);
    mamba4j_attention_args a = p.args(MAMBA4J_ALGO_AUTO);
    a.k_cache = r.cache_k.data();
    a.v_cache = r.cache_v.data();
    a.out = r.out.data();
    auto ctx = cpu_context();
    auto expect_bad = [&](mamba4j_attention_args bad, const char* needle, const char* what) {
        expect_error(mamba4j_attention(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, needle, what);
    };
    mamba4j_attention_args bad = a;
    bad.q = nullptr;
    expect_bad(bad, "q is a null pointer", "null q");
    bad = a;
    bad.v_cache = nullptr;
    expect_bad(bad, "v_cache is a null pointer", "null v_cache");
    bad = a;
    bad.q_heads = 6;
    bad.kv_heads = 4;
    expect_bad(bad, "q_heads 6 is not a multiple of kv_heads 4", "Hq % Hkv");
    bad = a;
    int32_t late[2] = {0, int32_t(p.T - 2)};  // 2 + 3 tokens > capacity at row 1
    bad.start_pos = late;
    expect_bad(bad, "row 1: start_pos[1] + seqlen", "start_pos + L > capacity names the row");
    bad = a;
    int32_t neg[2] = {-1, 0};
    bad.start_pos = neg;
    expect_bad(bad, "start_pos[0] must be >= 0", "negative start_pos");
    bad = a;
    int32_t far[2] = {0, int32_t(p.S)};
    bad.slots = far;
    expect_bad(bad, "slots[1] = ", "slot out of range");
    bad = a;
    int32_t same[2] = {1, 1};
    bad.slots = same;
    expect_bad(bad, "rows 0 and 1 both use slot 1", "duplicate slots");
    bad = a;
    bad.slots = nullptr;
    bad.slot_count = 1;
    expect_bad(bad, "batch 2 > slot_count 1", "NULL slots, too few slots");
    bad = a;
    bad.slot_count = 0;
    expect_bad(bad, "slot_count must be > 0", "slot_count 0");
    bad = a;
    bad.q_stride_t = 8;
    expect_bad(bad, "q_stride_t", "short q stride");
    bad = a;
    bad.out_stride_b = 4;
    expect_bad(bad, "out_stride_b", "overlapping out rows");
    bad = a;
    bad.capacity = int64_t(1) << 61;
    expect_bad(bad, "overflows", "cache extent overflow");
    bad = a;
    bad.scale = NAN;
    expect_bad(bad, "scale must be finite", "scale NaN");
    bad = a;
    bad.algo = MAMBA4J_ALGO_CHUNKED;
    expect_bad(bad, "algo 3", "algo CHUNKED");
    bad = a;
    bad.dtype = MAMBA4J_BF16;
    expect_error(mamba4j_attention(ctx, &bad), MAMBA4J_ERR_UNSUPPORTED, "F32 only, got dtype BF16", "bf16 on CPU");
    expect_error(mamba4j_attention(ctx, nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "args is a null pointer", "null args");
    expect(r.out.guards_intact() && r.cache_k.guards_intact() && r.cache_v.guards_intact(),
           "attention: rejected calls write nothing out of bounds");
}

int main() {
    // Hq/Hkv ∈ {1, 3, 4, 8}; d 64, 128 and 80; L not a multiple of the 64-key tile; B > 1
    // with different start_pos and permuted slots; padded strides.
    against_reference(Problem(1, 1, 1, 1, 64, {0}));
    against_reference(Problem(1, 100, 4, 4, 64, {0}));                      // G 1
    against_reference(Problem(2, 37, 3, 1, 64, {0, 50}, {1, 0}, 3));         // G 3
    against_reference(Problem(3, 130, 12, 4, 64, {0, 17, 64}, {2, 0, 3}));  // G 3, the hybrid's shape
    against_reference(Problem(2, 65, 9, 3, 64, {1, 200}, {}, 5));           // SmolLM2 shape
    against_reference(Problem(2, 70, 8, 2, 128, {10, 0}));                  // G 4, d 128
    against_reference(Problem(1, 45, 8, 1, 128, {99}));                     // G 8
    against_reference(Problem(3, 33, 16, 2, 80, {5, 0, 128}, {0, 2, 1}, 1)); // G 8, d 80
    against_reference(Problem(2, 19, 6, 2, 80, {0, 63}));
    against_reference(Problem(2, 7, 2, 2, 24, {1, 2}));                     // d < 16: the scalar tail
    against_reference(Problem(1, 40, 4, 1, 72, {30}), MAMBA4J_ALGO_AUTO);   // d 72: a 16-lane tail of 8
    against_reference(Problem(2, 66, 4, 2, 256, {0, 64}));                  // d 256 (Gemma)
    against_reference(Problem(1, 9, 1, 1, 1, {3}));                         // d 1
    // decode: B > 1 of different lengths, short and long caches (split over the keys)
    against_reference(Problem(4, 1, 12, 4, 64, {0, 5, 700, 2000}, {3, 1, 0, 2}));
    against_reference(Problem(3, 1, 8, 1, 128, {63, 64, 1500}));
    against_reference(Problem(2, 1, 8, 2, 64, {9000, 8200}));               // >= 8192 keys
    against_reference(Problem(1, 1, 2, 2, 80, {8500}), MAMBA4J_ALGO_AUTO);
    against_reference(Problem(2, 1, 4, 2, 32, {0, 300}));                   // d 32 (decode kernel, 2 vectors a row)
    against_reference(Problem(1, 3, 6, 2, 128, {700}));                     // 9 rows of d 128: groups of 2 and a tail
    // how a cache is split depends on the thread count: rows that split next to rows that
    // don't, under 1, 2 and 3 threads
    int32_t threads = 0;
    mamba4j_cpu_threads(&threads);
    for (int32_t n : {1, 2, 3}) {
        mamba4j_cpu_set_threads(n);
        against_reference(Problem(3, 1, 6, 2, 64, {100, 5000, 2100}, {2, 0, 1}));
    }
    mamba4j_cpu_set_threads(threads);
    // short continuations (L·G <= 64) of long caches take the split path too
    against_reference(Problem(2, 5, 8, 2, 64, {3000, 100}, {1, 0}));
    against_reference(Problem(1, 21, 3, 1, 80, {4100}));
    // a long prefill: L 2048 (32 key tiles), after an existing cache of 100
    against_reference(Problem(1, 2048, 2, 1, 64, {100}));

    // state carried across calls
    pieces_equal_whole(Problem(2, 150, 12, 4, 64, {0, 33}, {1, 0}), 70, 80);   // two-piece prefill
    pieces_equal_whole(Problem(3, 60, 6, 2, 80, {0, 5, 300}), 49, 1);           // prefill + decode steps
    pieces_equal_whole(Problem(1, 9, 8, 2, 128, {8190}), 3, 1);                 // decode across 8192
    pieces_equal_whole(Problem(1, 2030, 4, 1, 64, {0}), 2000, 7);               // prefill + short pieces

    nan_fails();
    bad_arguments();
    return finish();
}
