// Shared helpers of the native benchmarks (native/bench/bench_*.cpp, run by ci/bench-cpu.sh):
// timing (warm-up, then the median of N runs), a memory read-bandwidth probe (threads
// summing a ~1 GiB buffer), and one table format for every benchmark's rows.
//
// Usage in a bench:
//   bench::Options opt(argc, argv);                // --quick: fewer, shorter runs
//   double bw = bench::read_bandwidth_gbs(opt);     // once per run, printed as a row
//   double ms = bench::median_ms([&] { ...kernel... }, opt);
//   bench::row("dense", "matvec bf16 4096x4096", ms, gbs, -1, gbs / bw, "note");
// Rows go to stdout; the header is printed unless BENCH_NO_HEADER is set (ci/bench-cpu.sh
// prints it once for all benches). Negative values print as "-".
#pragma once
#include <mamba4j.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace bench {

struct Options {
    bool quick = false;
    int warmup = 3, reps = 15;
    Options(int argc, char** argv) {
        for (int i = 1; i < argc; i++)
            if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        if (quick) {
            warmup = 1;
            reps = 5;
        }
    }
};

inline double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs f `warmup` times, then `reps` times timed one by one; returns the median in ms.
template <class F>
double median_ms(F&& f, int warmup, int reps) {
    for (int i = 0; i < warmup; i++) f();
    std::vector<double> t(size_t(reps > 0 ? reps : 1));
    for (auto& v : t) {
        double t0 = now_ms();
        f();
        v = now_ms() - t0;
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}
template <class F>
double median_ms(F&& f, const Options& o) {
    return median_ms(f, o.warmup, o.reps);
}

// Memory read bandwidth in GB/s (1e9 bytes/s): `threads` threads each sum their half of a
// buffer of `bytes` (1 GiB by default, 256 MiB with --quick), far larger than any cache;
// the median of several passes. This is the ceiling a bandwidth-bound kernel (the decode
// matvec) is compared with, measured in the same run because the machine is shared.
inline double read_bandwidth_gbs(size_t bytes, int threads, int passes) {
    const size_t words = bytes / 8;
    std::vector<uint64_t> buf(words);
    for (size_t i = 0; i < words; i++) buf[i] = i;  // touch every page
    volatile uint64_t sink = 0;
    auto pass = [&] {
        std::vector<std::thread> pool;
        std::vector<uint64_t> sums(size_t(threads), 0);
        for (int t = 0; t < threads; t++)
            pool.emplace_back([&, t] {
                const size_t lo = words * size_t(t) / size_t(threads), hi = words * size_t(t + 1) / size_t(threads);
                uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                size_t i = lo;
                for (; i + 4 <= hi; i += 4) {
                    s0 += buf[i];
                    s1 += buf[i + 1];
                    s2 += buf[i + 2];
                    s3 += buf[i + 3];
                }
                for (; i < hi; i++) s0 += buf[i];
                sums[size_t(t)] = s0 + s1 + s2 + s3;
            });
        for (auto& th : pool) th.join();
        for (uint64_t s : sums) sink = sink + s;
    };
    double ms = median_ms(pass, 1, passes);
    return double(words * 8) / (ms * 1e6);
}
inline double read_bandwidth_gbs(const Options& o, int threads = 2) {
    return read_bandwidth_gbs(o.quick ? (size_t(256) << 20) : (size_t(1) << 30), threads, o.quick ? 5 : 9);
}

inline void header() {
    if (std::getenv("BENCH_NO_HEADER")) return;
    std::printf("%-10s %-44s %11s %9s %9s %7s  %s\n", "bench", "case", "time_ms", "GB/s", "GFLOP/s", "%bw", "note");
}

inline void row(const char* bench, const std::string& name, double ms, double gbs, double gflops, double frac_bw,
                const std::string& note = "") {
    char t[32], g[32], f[32], b[32];
    std::snprintf(t, sizeof t, ms >= 0 ? "%.4f" : "-", ms);
    std::snprintf(g, sizeof g, gbs >= 0 ? "%.2f" : "-", gbs);
    std::snprintf(f, sizeof f, gflops >= 0 ? "%.2f" : "-", gflops);
    std::snprintf(b, sizeof b, frac_bw >= 0 ? "%.1f%%" : "-", frac_bw * 100);
    std::printf("%-10s %-44s %11s %9s %9s %7s  %s\n", bench, name.c_str(), t, g, f, b, note.c_str());
    std::fflush(stdout);
}

inline mamba4j_context* cpu_context() {
    static mamba4j_context* ctx = [] {
        mamba4j_context* c = nullptr;
        if (mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &c) != MAMBA4J_OK) {
            std::fprintf(stderr, "cannot create CPU context: %s\n", mamba4j_last_error());
            std::exit(2);
        }
        return c;
    }();
    return ctx;
}

// Exits with the library's message when a call fails (a benchmark of a failing call is void).
inline void check(mamba4j_status s, const char* what) {
    if (s != MAMBA4J_OK) {
        std::fprintf(stderr, "%s failed: %s\n", what, mamba4j_last_error());
        std::exit(1);
    }
}

inline std::vector<float> random_f32(size_t n, float scale = 1.0f, uint64_t seed = 1) {
    std::mt19937_64 r(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(r);
    return v;
}
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}
inline std::vector<uint16_t> random_bf16(size_t n, float scale = 1.0f, uint64_t seed = 1) {
    auto f = random_f32(n, scale, seed);
    std::vector<uint16_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = to_bf16(f[i]);
    return v;
}

inline const char* simd_name() {
    mamba4j_simd s = 0, u = 0;
    mamba4j_cpu_simd(&s, &u);
    return u == MAMBA4J_SIMD_AVX512 ? "avx512" : u == MAMBA4J_SIMD_AVX2 ? "avx2" : "scalar";
}

}  // namespace bench
