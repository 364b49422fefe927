// Token sampling (mamba4j_sample) on the CPU against a plain reference written here the way
// the runtime's Java Sampler computes: sort, top-k, softmax over the kept tokens, top-p over
// the normalised probabilities, min-p against the top probability — then the draw of
// mamba4j.h (inverse CDF over the kept ids in id order). Random rows (ties, -inf, strided
// rows, f32 and bf16) with random u must pick the same id; small cases are checked by hand;
// a grid of u reproduces the kept probabilities; bad arguments name themselves.
#include <algorithm>
#include <numeric>

#include "harness.h"

using namespace harness;


struct Params {
    float temperature = 1.0f;
    int32_t top_k = 0;
    float top_p = 1.0f, min_p = 0.0f;
};

// The reference for one row (Sampler.choose without the repetition penalty), draw in id order.
static int32_t reference(const float* x, int64_t V, const Params& p, double u) {
    if (p.temperature <= 0) {
        int64_t best = 0;
        for (int64_t i = 1; i < V; i++)
            if (x[i] > x[best]) best = i;
        return int32_t(best);
    }
    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
    int64_t keep = p.top_k > 0 ? std::min<int64_t>(p.top_k, V) : V;
    std::vector<double> prob(static_cast<size_t>(keep));
    const double mx = double(x[order[0]]) / p.temperature;
    double sum = 0;
    for (int64_t i = 0; i < keep; i++) sum += prob[i] = std::exp(double(x[order[i]]) / p.temperature - mx);
    for (auto& q : prob) q /= sum;
    if (p.top_p < 1) {
        double mass = 0;
        int64_t n = 0;
        while (n < keep && mass < p.top_p) mass += prob[n++];
        keep = std::max<int64_t>(n, 1);
    }
    if (p.min_p > 0) {
        int64_t n = 1;
        while (n < keep && prob[n] >= p.min_p * prob[0]) n++;
        keep = n;
    }
    std::vector<double> kept(static_cast<size_t>(V), -1.0);
    double total = 0;
    for (int64_t i = 0; i < keep; i++) total += kept[order[i]] = prob[i];
    double cum = 0, target = u * total;
    int32_t last = -1;
    for (int64_t i = 0; i < V; i++)
        if (kept[i] >= 0) {
            cum += kept[i];
            last = int32_t(i);
            if (cum > target) return last;
        }
    return last;
}

static mamba4j_sample_args args_for(const void* logits, mamba4j_dtype dt, int64_t B, int64_t V, int64_t stride,
                                    const Params& p, const float* u, int32_t* out) {
    mamba4j_sample_args a{};
    a.batch = B; a.vocab = V; a.dtype = dt; a.logits = logits; a.logits_stride = stride;
    a.temperature = p.temperature; a.top_k = p.top_k; a.top_p = p.top_p; a.min_p = p.min_p;
    a.uniforms = u; a.out_ids = out; a.algo = MAMBA4J_ALGO_AUTO;
    return a;
}

// Samples B rows (f32 or bf16) on the CPU context; returns the ids.
static std::vector<int32_t> run(const std::vector<float>& x, mamba4j_dtype dt, int64_t B, int64_t V, int64_t stride,
                                const Params& p, const std::vector<float>& u, const std::string& what) {
    std::vector<uint16_t> x16(x.size());
    for (size_t i = 0; i < x.size(); i++) x16[i] = to_bf16(x[i]);
    std::vector<int32_t> out(static_cast<size_t>(B) + 2, -7);  // one guard each side
    mamba4j_sample_args a = args_for(dt == MAMBA4J_F32 ? (const void*)x.data() : (const void*)x16.data(), dt, B, V,
                                     stride, p, u.data(), out.data() + 1);
    expect_ok(mamba4j_sample(cpu_context(), &a), what);
    expect(out.front() == -7 && out.back() == -7, what + ": out_ids guards overwritten");
    return std::vector<int32_t>(out.begin() + 1, out.end() - 1);
}

static std::string params_str(const Params& p) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "T=%g top_k=%d top_p=%g min_p=%g", p.temperature, p.top_k, p.top_p, p.min_p);
    return buf;
}

static void random_rows(int64_t B, int64_t V, mamba4j_dtype dt, const Params& p, bool ties) {
    const int64_t stride = V + 5;
    std::vector<float> x = normal(size_t(B * stride), 3.0f);
    for (auto& v : x) {
        if (ties) v = std::round(v * 2) / 2;  // many equal logits
        if (dt == MAMBA4J_BF16) v = from_bf16(to_bf16(v));
    }
    for (int64_t b = 0; b < B; b++) x[size_t(b * stride + (b * 13) % V)] = -INFINITY;  // a masked token
    std::vector<float> u = uniform(size_t(B), 0.0f, 1.0f);
    u[0] = 0.0f;
    const std::string what = "sample " + shape_str({{"B", B}, {"V", V}}) + (dt == MAMBA4J_BF16 ? " bf16 " : " f32 ") +
                             params_str(p) + (ties ? " ties" : "");
    std::vector<int32_t> got = run(x, dt, B, V, stride, p, u, what);
    int wrong = 0;
    std::string first;
    for (int64_t b = 0; b < B; b++) {
        const int32_t want = reference(x.data() + b * stride, V, p, u[size_t(b)]);
        if (got[size_t(b)] != want && wrong++ == 0)
            first = " (row " + std::to_string(b) + ": got " + std::to_string(got[size_t(b)]) + ", want " +
                    std::to_string(want) + ")";
    }
    expect(wrong == 0, what + ": " + std::to_string(wrong) + " rows differ from the reference" + first);
}

static void by_hand() {
    // w relative to the max (id 1): (1/3, 1, 1/3, 2/3), S = 7/3: id-order CDF 1/7, 4/7, 5/7, 1
    const std::vector<float> x = {0.0f, std::log(3.0f), 0.0f, std::log(2.0f)};
    auto one = [&](const Params& p, float u, int32_t want, const char* what) {
        std::vector<int32_t> got = run(x, MAMBA4J_F32, 1, 4, 4, p, {u}, what);
        expect(got[0] == want, std::string(what) + ": got " + std::to_string(got[0]) + ", want " + std::to_string(want));
    };
    Params p;
    one(p, 0.10f, 0, "hand T=1 u=0.10");
    one(p, 0.20f, 1, "hand T=1 u=0.20");
    one(p, 0.60f, 2, "hand T=1 u=0.60");
    one(p, 0.90f, 3, "hand T=1 u=0.90");
    p.top_k = 2;  // kept {1, 3}: w (1, 2/3), CDF 3/5, 1
    one(p, 0.55f, 1, "hand top_k=2 u=0.55");
    one(p, 0.65f, 3, "hand top_k=2 u=0.65");
    p = Params{};
    p.top_p = 0.5f;  // p sorted: 3/7, 2/7, 1/7, 1/7 -> 3/7 < 0.5, 5/7 >= 0.5: kept {1, 3}
    one(p, 0.65f, 3, "hand top_p=0.5 u=0.65");
    p.top_p = 0.4f;  // 3/7 >= 0.4: kept {1}
    one(p, 0.99f, 1, "hand top_p=0.4 u=0.99");
    p = Params{};
    p.min_p = 0.5f;  // w >= 0.5: {1, 3}
    one(p, 0.65f, 3, "hand min_p=0.5 u=0.65");
    p.min_p = 0.3f;  // all four
    one(p, 0.10f, 0, "hand min_p=0.3 u=0.10");
    // ties: equal logits keep the lower ids under top-k; greedy takes the lowest id
    const std::vector<float> t = {1.0f, 2.0f, 2.0f, 2.0f, 0.0f};
    std::vector<int32_t> g = run(t, MAMBA4J_F32, 1, 5, 5, Params{0.0f, 0, 1.0f, 0.0f}, {0.5f}, "hand greedy ties");
    expect(g[0] == 1, "greedy ties -> lowest id: got " + std::to_string(g[0]));
    Params k2{1.0f, 2, 1.0f, 0.0f};  // kept {1, 2}, equal weights: u < 0.5 -> 1, else 2
    expect(run(t, MAMBA4J_F32, 1, 5, 5, k2, {0.49f}, "hand ties")[0] == 1, "top_k=2 ties u=0.49 -> 1");
    expect(run(t, MAMBA4J_F32, 1, 5, 5, k2, {0.51f}, "hand ties")[0] == 2, "top_k=2 ties u=0.51 -> 2");
    // greedy needs no uniforms
    int32_t id = -1;
    mamba4j_sample_args a = args_for(t.data(), MAMBA4J_F32, 1, 5, 5, Params{-1.0f, 0, 1.0f, 0.0f}, nullptr, &id);
    expect_ok(mamba4j_sample(cpu_context(), &a), "greedy without uniforms");
    expect(id == 1, "greedy (temperature < 0) without uniforms: got " + std::to_string(id));
}

// u on a fine grid: the share of each id equals its kept probability (to the grid's step).
static void frequencies() {
    const int64_t V = 6;
    const std::vector<float> x = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f, -INFINITY};
    const Params p{0.7f, 4, 0.95f, 0.0f};
    const int N = 20000;
    std::vector<float> u(N);
    for (int j = 0; j < N; j++) u[size_t(j)] = (j + 0.5f) / N;
    std::vector<float> rows;
    for (int j = 0; j < N; j++) rows.insert(rows.end(), x.begin(), x.end());
    std::vector<int32_t> got = run(rows, MAMBA4J_F32, N, V, V, p, u, "frequencies");
    // expected: top-4 {2, 4, 0, 3}, softmax at T 0.7, top-p 0.95 over those
    std::vector<int32_t> order = {2, 4, 0, 3};
    std::vector<double> q;
    double s = 0;
    for (int32_t i : order) s += q.emplace_back(std::exp((x[size_t(i)] - 2.0) / 0.7));
    for (auto& v : q) v /= s;
    double mass = 0;
    size_t n = 0;
    while (n < q.size() && mass < 0.95) mass += q[n++];
    std::vector<double> want(V, 0.0);
    for (size_t j = 0; j < n; j++) want[size_t(order[j])] = q[j] / mass;
    std::vector<int> count(V, 0);
    for (int32_t id : got) count[size_t(id)]++;
    double worst = 0;
    for (int64_t i = 0; i < V; i++) worst = std::max(worst, std::fabs(count[size_t(i)] / double(N) - want[size_t(i)]));
    expect(worst <= 2.0 / N, "frequencies over a u grid match the kept probabilities: worst error " + std::to_string(worst));
}

static void errors() {
    const std::vector<float> x = {1.0f, NAN, 0.0f, 2.0f, 1.0f, 0.0f};
    std::vector<float> u = {0.5f, 0.5f};
    int32_t out[2];
    Params p;
    mamba4j_context* ctx = cpu_context();
    auto call = [&](mamba4j_sample_args a) { return mamba4j_sample(ctx, &a); };
    mamba4j_sample_args ok = args_for(x.data() + 3, MAMBA4J_F32, 1, 3, 3, p, u.data(), out);
    expect_ok(call(ok), "valid call");
    mamba4j_sample_args a = args_for(x.data(), MAMBA4J_F32, 2, 3, 3, p, u.data(), out);
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "row 0: logits[1] is NaN", "NaN names the row");
    a.temperature = 0;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "row 0: logits[1] is NaN", "NaN, greedy");
    const std::vector<float> inf = {1.0f, 0.0f, 2.0f, 0.0f, INFINITY, 1.0f};
    a = args_for(inf.data(), MAMBA4J_F32, 2, 3, 3, p, u.data(), out);
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "row 1: cannot sample", "+inf names the row");
    const std::vector<float> masked = {-INFINITY, -INFINITY};
    a = args_for(masked.data(), MAMBA4J_F32, 1, 2, 2, p, u.data(), out);
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "row 0: cannot sample", "all -inf");
    a = ok; a.vocab = 0;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "vocab", "vocab 0");
    a = ok; a.batch = 0;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "batch", "batch 0");
    a = ok; a.batch = 2; a.logits_stride = 2;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "logits_stride", "stride < vocab");
    a = ok; a.logits = nullptr;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "logits", "null logits");
    a = ok; a.out_ids = nullptr;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "out_ids", "null out_ids");
    a = ok; a.uniforms = nullptr;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "uniforms", "null uniforms when sampling");
    for (float tp : {0.0f, -0.5f, 1.5f, NAN}) {
        a = ok; a.top_p = tp;
        expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "top_p must be in (0, 1]", "top_p " + std::to_string(tp));
    }
    a = ok; a.min_p = 1.5f;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "min_p", "min_p > 1");
    a = ok; a.temperature = NAN;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "temperature must be finite", "temperature NaN");
    a = ok; a.dtype = 7;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "dtype", "bad dtype");
    a = ok; a.algo = MAMBA4J_ALGO_FLASH;
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "algo", "bad algo");
    std::vector<float> bad_u = {1.0f};
    a = ok; a.uniforms = bad_u.data();
    expect_error(call(a), MAMBA4J_ERR_INVALID_ARGUMENT, "uniforms[0] must be in [0, 1)", "u = 1");
}

int main() {
    by_hand();
    frequencies();
    errors();
    const std::vector<Params> params = {
        {0.0f, 0, 1.0f, 0.0f},   {1.0f, 0, 1.0f, 0.0f},  {0.8f, 1, 1.0f, 0.0f},    {0.8f, 40, 1.0f, 0.0f},
        {1.0f, 0, 0.9f, 0.0f},   {1.0f, 0, 1.0f, 0.05f}, {0.7f, 40, 0.9f, 0.05f},  {1.3f, 200, 0.5f, 0.0f},
        {0.5f, 0, 0.95f, 0.1f},  {2.0f, 7, 1.0f, 0.2f},
    };
    for (const Params& p : params)
        for (mamba4j_dtype dt : {MAMBA4J_F32, MAMBA4J_BF16}) {
            random_rows(16, 7, dt, p, true);
            random_rows(16, 1000, dt, p, true);
            random_rows(4, 50280, dt, p, false);
        }
    return finish();
}
