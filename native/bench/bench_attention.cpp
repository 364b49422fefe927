// Attention on the CPU: FLASH prefill against the naive two-pass softmax, and decode
// against the cache's memory traffic. Plain aligned lines, medians of several runs.
//   prefill L 4096, B 1: FLASH vs REFERENCE (the library's two-pass reference, double,
//     one thread) and vs a two-pass peer in this file (fp32, the full causal L×L score
//     matrix per head materialised, heads in parallel, same threads as FLASH)
//   decode, B 1: cache lengths 1K / 4K / 16K, GB/s of K and V read (2·n·Hkv·d·4 bytes),
//     as a fraction of the read bandwidth measured in the same run
// Usage: bench_attention [reps] [prefill|decode|all] [threads]   (default 5, all, cores)
// A shared machine stalls a thread now and then: decode prints the best run beside the median.
#include <mamba4j.h>

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <random>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Times {
    double median, best;
};

template <class F>
Times time_runs(int reps, F&& f) {
    f();  // warm-up
    std::vector<double> t;
    for (int i = 0; i < reps; i++) {
        const double t0 = now();
        f();
        t.push_back(now() - t0);
    }
    return {median(t), *std::min_element(t.begin(), t.end())};
}

template <class F>
double time_median(int reps, F&& f) {
    return time_runs(reps, f).median;
}

void check(mamba4j_status s) {
    if (s != MAMBA4J_OK) {
        std::printf("error: %s\n", mamba4j_last_error());
        std::exit(1);
    }
}

std::vector<float> random_vector(size_t n) {
    static std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Read bandwidth: sum of a 512 MiB array with `threads` threads, GB/s. Eight independent
// accumulators of 8 floats so the adds never limit the rate, whatever the SIMD level.
double read_bandwidth(int threads) {
    typedef float v8 __attribute__((vector_size(32)));
    const size_t n = size_t(128) << 20, vectors = n / 8;
    std::vector<float> a(n, 1.0f);
    volatile float sink = 0;
    const double t = time_median(5, [&] {
        float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
        {
            v8 acc[8] = {};
#pragma omp for schedule(static)
            for (size_t i = 0; i < vectors / 8; i++)
                for (int u = 0; u < 8; u++) {
                    v8 x;
                    std::memcpy(&x, a.data() + (i * 8 + u) * 8, sizeof x);
                    acc[u] += x;
                }
            for (int u = 1; u < 8; u++) acc[0] += acc[u];
            for (int l = 0; l < 8; l++) total += acc[0][l];
        }
        sink = total;
    });
    (void)sink;
    return double(n) * 4 / t / 1e9;
}

struct Attn {
    int64_t L, Hq, Hkv, d, T, start;
    std::vector<float> q, k, v, kc, vc, out;
    Attn(int64_t L_, int64_t Hq_, int64_t Hkv_, int64_t d_, int64_t start_)
        : L(L_), Hq(Hq_), Hkv(Hkv_), d(d_), T(start_ + L_), start(start_) {
        q = random_vector(size_t(L * Hq * d));
        k = random_vector(size_t(L * Hkv * d));
        v = random_vector(size_t(L * Hkv * d));
        kc = random_vector(size_t(T * Hkv * d));
        vc = random_vector(size_t(T * Hkv * d));
        out.assign(size_t(L * Hq * d), 0.0f);
    }
    void run(mamba4j_context* ctx, mamba4j_algo algo) {
        int32_t sp = int32_t(start);
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
        a.k_cache = kc.data();
        a.v_cache = vc.data();
        a.start_pos = &sp;
        a.out = out.data();
        a.algo = algo;
        check(mamba4j_attention(ctx, &a));
    }
    // The peer: for each head the causal score matrix S [L, L] in fp32, softmax row by
    // row (max, then exp and sum), then out = P·V. Heads in parallel.
    void naive_two_pass(int threads) {
        const float scale = 1.0f / std::sqrt(float(d));
        const int64_t G = Hq / Hkv;
#pragma omp parallel num_threads(threads)
        {
            std::vector<float> S(size_t(L * L));
#pragma omp for schedule(dynamic, 1)
            for (int64_t h = 0; h < Hq; h++) {
                const int64_t kvh = h / G;
                for (int64_t i = 0; i < L; i++) {
                    const float* qi = q.data() + (i * Hq + h) * d;
                    float* si = S.data() + i * L;
                    float mx = -INFINITY;
                    for (int64_t j = 0; j <= i; j++) {
                        const float* kj = k.data() + (j * Hkv + kvh) * d;
                        float dot = 0;
#pragma omp simd reduction(+ : dot)
                        for (int64_t c = 0; c < d; c++) dot += qi[c] * kj[c];
                        si[j] = dot * scale;
                        mx = std::max(mx, si[j]);
                    }
                    float sum = 0;
                    for (int64_t j = 0; j <= i; j++) sum += (si[j] = std::exp(si[j] - mx));
                    const float inv = 1.0f / sum;
                    for (int64_t j = 0; j <= i; j++) si[j] *= inv;
                }
                for (int64_t i = 0; i < L; i++) {
                    float* oi = out.data() + (i * Hq + h) * d;
                    for (int64_t c = 0; c < d; c++) oi[c] = 0;
                    const float* si = S.data() + i * L;
                    for (int64_t j = 0; j <= i; j++) {
                        const float* vj = v.data() + (j * Hkv + kvh) * d;
                        const float p = si[j];
#pragma omp simd
                        for (int64_t c = 0; c < d; c++) oi[c] += p * vj[c];
                    }
                }
            }
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    const std::string only = argc > 2 ? argv[2] : "";  // "prefill" or "decode": one part
    if (argc > 3) check(mamba4j_cpu_set_threads(std::atoi(argv[3])));
    mamba4j_context* ctx = nullptr;
    check(mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &ctx));
    int32_t threads = 0;
    mamba4j_simd supported, in_use;
    check(mamba4j_cpu_threads(&threads));
    check(mamba4j_cpu_simd(&supported, &in_use));
    const char* simd_names[] = {"scalar", "avx2", "avx512"};
    const double bw = read_bandwidth(threads);
    std::printf("attention bench: %d threads, simd %s, read bandwidth %.1f GB/s (512 MiB sum), medians of %d\n",
                threads, simd_names[in_use], bw, reps);

    if (only != "decode") {  // prefill
    std::printf("\n%-34s %10s %10s %10s %9s %9s %8s\n", "prefill (B 1, fp32, causal)", "flash ms", "naive ms",
                "ref ms", "naive/fl", "ref/fl", "GFLOP/s");
    struct PrefillShape { int64_t L, Hq, Hkv, d; const char* name; };
    for (PrefillShape p : {PrefillShape{4096, 12, 4, 64, "hybrid"}, PrefillShape{4096, 9, 3, 64, "SmolLM2"}}) {
        Attn at(p.L, p.Hq, p.Hkv, p.d, 0);
        const double flash = time_median(reps, [&] { at.run(ctx, MAMBA4J_ALGO_FLASH); });
        const double naive = time_median(std::max(1, reps / 2), [&] { at.naive_two_pass(threads); });
        double t0 = now();  // the reference is slow: one timed run, no warm-up
        at.run(ctx, MAMBA4J_ALGO_REFERENCE);
        const double ref = now() - t0;
        // causal: L(L+1)/2 scores per head, 2·d flops each for q·k and for p·v
        const double flops = double(p.Hq) * p.L * (p.L + 1) / 2 * 4.0 * p.d;
        char name[64];
        std::snprintf(name, sizeof name, "L %lld Hq %lld Hkv %lld d %lld (%s)", (long long)p.L, (long long)p.Hq,
                      (long long)p.Hkv, (long long)p.d, p.name);
        std::printf("%-34s %10.1f %10.1f %10.1f %8.2fx %8.2fx %8.1f\n", name, flash * 1e3, naive * 1e3, ref * 1e3,
                    naive / flash, ref / flash, flops / flash / 1e9);
    }

    }
    if (only != "prefill") {
    std::printf("\n%-34s %10s %10s %10s %10s %9s %9s\n", "decode (B 1, L 1, fp32)", "flash us", "best us",
                "ref us", "KV MB", "GB/s", "of bw");
    struct DecodeShape { int64_t Hq, Hkv, d; const char* name; };
    for (DecodeShape s : {DecodeShape{12, 4, 64, "hybrid"}, DecodeShape{32, 8, 128, "8B hybrid"}})
        for (int64_t n : {1024, 4096, 16384}) {
            Attn at(1, s.Hq, s.Hkv, s.d, n - 1);  // n keys including the new one
            const Times flash = time_runs(reps * 10, [&] { at.run(ctx, MAMBA4J_ALGO_FLASH); });
            const double ref = time_median(std::max(1, reps / 2), [&] { at.run(ctx, MAMBA4J_ALGO_REFERENCE); });
            const double bytes = 2.0 * n * s.Hkv * s.d * 4;
            char name[64];
            std::snprintf(name, sizeof name, "n %5lld Hq %lld Hkv %lld d %lld (%s)", (long long)n, (long long)s.Hq,
                          (long long)s.Hkv, (long long)s.d, s.name);
            std::printf("%-34s %10.1f %10.1f %10.1f %10.1f %9.1f %8.0f%%\n", name, flash.median * 1e6,
                        flash.best * 1e6, ref * 1e6, bytes / 1e6, bytes / flash.median / 1e9,
                        100 * bytes / flash.median / 1e9 / bw);
        }
    }
    check(mamba4j_context_destroy(ctx));
    return 0;
}
