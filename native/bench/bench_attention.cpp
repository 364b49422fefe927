// CPU benchmark of attention, rows in the table of ci/bench-cpu.sh (bench_common.h):
//  - prefill, L 4096, B 1, causal, fp32: FLASH against two peers run on the same inputs,
//    (1) a naive two-pass softmax that materialises the L×L score matrix of each head in
//    fp32 (eager PyTorch on a CPU): q·Kᵀ and P·V with the library's matmul, the causal
//    softmax of the rows on the same threads, and
//    (2) the library's REFERENCE (two passes over each score row, double, one thread;
//    skipped with --quick: it takes tens of seconds).
//    Shapes: Hq 12 / Hkv 4 / d 64 (the hybrid's attention) and Hq 9 / Hkv 3 / d 64 (SmolLM2).
//  - decode, B 1, L 1: caches of 1K / 4K / 16K keys; GB/s of K and V read (2·n·Hkv·d·4
//    bytes) and its fraction of the read bandwidth measured in the same run. The shared
//    machine stalls a thread now and then: the note gives the best run beside the median.
//   bench_attention [--quick] [--threads N] [--only prefill|decode]
#include "bench_common.h"

#include <cmath>
#include <thread>

namespace {

struct Problem {
    int64_t L, Hq, Hkv, d, T;
    int32_t start;
    std::vector<float> q, k, v, k_cache, v_cache, out;
    // L new tokens after `start` cached ones
    Problem(int64_t L_, int64_t Hq_, int64_t Hkv_, int64_t d_, int64_t start_)
        : L(L_), Hq(Hq_), Hkv(Hkv_), d(d_), T(start_ + L_), start(int32_t(start_)),
          q(bench::random_f32(size_t(L * Hq * d), 1.0f, 1)), k(bench::random_f32(size_t(L * Hkv * d), 1.0f, 2)),
          v(bench::random_f32(size_t(L * Hkv * d), 1.0f, 3)), k_cache(bench::random_f32(size_t(T * Hkv * d), 1.0f, 4)),
          v_cache(bench::random_f32(size_t(T * Hkv * d), 1.0f, 5)), out(size_t(L * Hq * d)) {}

    void run(mamba4j_algo algo) {
        mamba4j_attention_args a{};
        a.batch = 1;
        a.seqlen = L;
        a.q_heads = Hq;
        a.kv_heads = Hkv;
        a.head_dim = d;
        a.capacity = T;
        a.slot_count = 1;
        a.dtype = MAMBA4J_F32;
        a.q = q.data();
        a.q_stride_t = a.out_stride_t = Hq * d;
        a.q_stride_b = a.out_stride_b = L * Hq * d;
        a.k = k.data();
        a.v = v.data();
        a.kv_stride_t = Hkv * d;
        a.kv_stride_b = L * Hkv * d;
        a.k_cache = k_cache.data();
        a.v_cache = v_cache.data();
        a.start_pos = &start;
        a.out = out.data();
        a.algo = algo;
        bench::check(mamba4j_attention(bench::cpu_context(), &a), "mamba4j_attention");
    }

    // The naive peer (prefill from position 0), as eager PyTorch runs it on a CPU: per head
    // S = q·Kᵀ [L, L] in full with the library's matmul (same threads, AVX-512), the causal
    // softmax of each row (max, exp, sum; the future zeroed) on `threads` threads, then
    // out = P·V with the matmul again (V transposed once per head).
    void naive_two_pass(int threads) {
        const float scale = 1.0f / std::sqrt(float(d));
        const int64_t G = Hq / Hkv;
        std::vector<float> S(size_t(L * L)), k_h(size_t(L * d)), v_t(size_t(d * L));
        for (int64_t h = 0; h < Hq; h++) {
            const int64_t kvh = h / G;
            for (int64_t j = 0; j < L; j++)
                for (int64_t c = 0; c < d; c++) {
                    k_h[size_t(j * d + c)] = k[size_t((j * Hkv + kvh) * d + c)];
                    v_t[size_t(c * L + j)] = v[size_t((j * Hkv + kvh) * d + c)];
                }
            matmul(L, L, d, q.data() + h * d, Hq * d, k_h.data(), S.data(), L);  // S = q_h · K_hᵀ
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; t++)
                pool.emplace_back([&, t] {
                    for (int64_t i = t; i < L; i += threads) {
                        float* si = S.data() + i * L;
                        float mx = -INFINITY;
                        for (int64_t j = 0; j <= i; j++) mx = std::max(mx, si[j] *= scale);
                        float sum = 0;
                        for (int64_t j = 0; j <= i; j++) sum += (si[j] = std::exp(si[j] - mx));
                        const float inv = 1.0f / sum;
                        for (int64_t j = 0; j <= i; j++) si[j] *= inv;
                        for (int64_t j = i + 1; j < L; j++) si[j] = 0.0f;
                    }
                });
            for (auto& th : pool) th.join();
            matmul(L, d, L, S.data(), L, v_t.data(), out.data() + h * d, Hq * d);  // out_h = P · V_h
        }
    }

    // y[m, n] = x[m, k] · w[n, k]ᵀ through mamba4j_matmul (fp32).
    static void matmul(int64_t m, int64_t n, int64_t kk, const float* x, int64_t x_stride, const float* w, float* y,
                       int64_t y_stride) {
        mamba4j_matmul_args a{};
        a.m = m;
        a.n = n;
        a.k = kk;
        a.dtype = a.weight_dtype = MAMBA4J_F32;
        a.x = x;
        a.x_stride = x_stride;
        a.w = w;
        a.y = y;
        a.y_stride = y_stride;
        bench::check(mamba4j_matmul(bench::cpu_context(), &a), "mamba4j_matmul");
    }
};

// Median and best of `reps` timed runs after `warmup`, in ms.
template <class F>
std::pair<double, double> median_best_ms(F&& f, int warmup, int reps) {
    for (int i = 0; i < warmup; i++) f();
    std::vector<double> t;
    for (int i = 0; i < reps; i++) {
        const double t0 = bench::now_ms();
        f();
        t.push_back(bench::now_ms() - t0);
    }
    std::sort(t.begin(), t.end());
    return {t[t.size() / 2], t.front()};
}

void prefill_rows(const bench::Options& opt, int threads) {
    struct Shape { int64_t Hq, Hkv, d; const char* what; };
    const int64_t L = 4096;
    for (Shape s : {Shape{12, 4, 64, "hybrid"}, Shape{9, 3, 64, "SmolLM2"}}) {
        Problem p(L, s.Hq, s.Hkv, s.d, 0);
        // causal: L(L+1)/2 scores per head, 2·d flops each for q·k and for p·v
        const double gflop = double(s.Hq) * L * (L + 1) / 2 * 4.0 * s.d / 1e9;
        const double flash = bench::median_ms([&] { p.run(MAMBA4J_ALGO_FLASH); }, 1, opt.quick ? 3 : 7);
        const double naive = bench::median_ms([&] { p.naive_two_pass(threads); }, 0, opt.quick ? 1 : 3);
        double ref = -1;
        if (!opt.quick) ref = bench::median_ms([&] { p.run(MAMBA4J_ALGO_REFERENCE); }, 0, 1);
        char name[96], note[128];
        std::snprintf(name, sizeof name, "prefill flash L %lld Hq %lld Hkv %lld d %lld", (long long)L,
                      (long long)s.Hq, (long long)s.Hkv, (long long)s.d);
        if (ref > 0)
            std::snprintf(note, sizeof note, "%s; %.2fx faster than naive two-pass, %.1fx than REFERENCE", s.what,
                          naive / flash, ref / flash);
        else
            std::snprintf(note, sizeof note, "%s; %.2fx faster than naive two-pass", s.what, naive / flash);
        bench::row("attention", name, flash, -1, gflop / (flash / 1e3), -1, note);
        std::snprintf(name, sizeof name, "prefill naive two-pass L %lld Hq %lld Hkv %lld", (long long)L,
                      (long long)s.Hq, (long long)s.Hkv);
        bench::row("attention", name, naive, -1, gflop / (naive / 1e3), -1, "fp32 L x L scores per head, matmul for q.K^T and P.V");
        std::snprintf(name, sizeof name, "prefill REFERENCE L %lld Hq %lld Hkv %lld", (long long)L, (long long)s.Hq,
                      (long long)s.Hkv);
        bench::row("attention", name, ref, -1, ref > 0 ? gflop / (ref / 1e3) : -1, -1,
                   ref > 0 ? "two-pass, double, 1 thread" : "skipped (--quick)");
    }
}

void decode_rows(const bench::Options& opt, double bw) {
    struct Shape { int64_t Hq, Hkv, d; const char* what; };
    for (Shape s : {Shape{12, 4, 64, "hybrid"}, Shape{32, 8, 128, "8B hybrid"}})
        for (int64_t n : {1024, 4096, 16384}) {
            Problem p(1, s.Hq, s.Hkv, s.d, n - 1);  // n keys including the new one
            const auto [median, best] =
                median_best_ms([&] { p.run(MAMBA4J_ALGO_FLASH); }, 3, opt.quick ? 11 : 41);
            const double ref = bench::median_ms([&] { p.run(MAMBA4J_ALGO_REFERENCE); }, 0, opt.quick ? 1 : 3);
            const double gbs = 2.0 * double(n) * s.Hkv * s.d * 4 / (median * 1e6);
            char name[96], note[128];
            std::snprintf(name, sizeof name, "decode flash n %lld Hq %lld Hkv %lld d %lld", (long long)n,
                          (long long)s.Hq, (long long)s.Hkv, (long long)s.d);
            std::snprintf(note, sizeof note, "%s; best %.3f ms; REFERENCE %.2f ms (%.0fx)", s.what, best, ref,
                          ref / median);
            bench::row("attention", name, median, gbs, -1, gbs / bw, note);
        }
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opt(argc, argv);
    std::string only;
    for (int i = 1; i + 1 < argc; i++) {
        if (std::strcmp(argv[i], "--threads") == 0) bench::check(mamba4j_cpu_set_threads(std::atoi(argv[i + 1])), "threads");
        if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    }
    int32_t threads = 0;
    bench::check(mamba4j_cpu_threads(&threads), "mamba4j_cpu_threads");
    bench::header();
    const double bw = bench::read_bandwidth_gbs(opt, threads);
    char note[96];
    std::snprintf(note, sizeof note, "%s, %d threads", bench::simd_name(), threads);
    bench::row("attention", "memory read bandwidth", -1, bw, -1, 1.0, note);
    if (only != "decode") prefill_rows(opt, threads);
    if (only != "prefill") decode_rows(opt, bw);
    return 0;
}
