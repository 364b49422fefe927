// Shared helpers of the native benchmarks (native/bench/bench_*.cpp, run by ci/bench-cpu.sh):
// timing (warm-up, then the median of N runs), a memory read-bandwidth probe (threads
// summing a ~1 GiB buffer, best of four reader kinds), and one table format for every benchmark's rows.
//
// Usage in a bench:
//   bench::Options opt(argc, argv);                // --quick: fewer, shorter runs
//   bench::Bandwidth bw = bench::read_bandwidth(opt);     // once per run, printed as a row
//   bench::Stats t = bench::stats_ms([&] { ...kernel... }, opt);   // median and best
//   bench::row("dense", "matvec bf16 4096x4096", t, bytes, flops, bw, "note");
// (simpler: bench::median_ms(...) and row(bench, case, ms, gbs, gflops, frac_bw, note))
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

#include <unistd.h>

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

// Median and best (minimum) time of `reps` timed runs after `warmup` untimed ones, in ms.
// On a shared machine the median includes preemption by other processes (a kernel on 2
// threads waits for both); the best run is the uncontended estimate. Both are printed.
struct Stats {
    double median, best;
};
template <class F>
Stats stats_ms(F&& f, int warmup, int reps) {
    for (int i = 0; i < warmup; i++) f();
    std::vector<double> t(size_t(reps > 0 ? reps : 1));
    for (auto& v : t) {
        double t0 = now_ms();
        f();
        v = now_ms() - t0;
    }
    std::sort(t.begin(), t.end());
    return {t[t.size() / 2], t[0]};
}
template <class F>
Stats stats_ms(F&& f, const Options& o) {
    return stats_ms(f, o.warmup, o.reps);
}
// Runs f `warmup` times, then `reps` times timed one by one; returns the median in ms.
template <class F>
double median_ms(F&& f, int warmup, int reps) {
    return stats_ms(f, warmup, reps).median;
}
template <class F>
double median_ms(F&& f, const Options& o) {
    return median_ms(f, o.warmup, o.reps);
}

// Sum of words [0, n) read as `streams` interleaved sequential streams (segments walked
// side by side: more cache misses in flight per core than one stream), plain code...
inline uint64_t sum_streams_plain(const uint64_t* p, size_t n, int streams) {
    const size_t seg = n / size_t(streams);
    uint64_t acc[16] = {};
    for (size_t i = 0; i < seg; i++)
        for (int s = 0; s < streams; s++) acc[s] += p[size_t(s) * seg + i];
    uint64_t total = 0;
    for (int s = 0; s < streams; s++) total += acc[s];
    for (size_t i = seg * size_t(streams); i < n; i++) total += p[i];
    return total;
}
// ...and with 32-byte AVX2 loads (only called where the CPU has AVX2).
#if defined(__x86_64__)
__attribute__((target("avx2"))) inline uint64_t sum_streams_avx2(const uint64_t* p, size_t n, int streams) {
    const size_t seg = (n / size_t(streams)) & ~size_t(3);
    uint64_t total = 0;
    typedef long long v4 __attribute__((vector_size(32)));
    v4 acc[16] = {};
    for (size_t i = 0; i < seg; i += 4)
        for (int s = 0; s < streams; s++) {
            v4 v;
            std::memcpy(&v, p + size_t(s) * seg + i, 32);
            acc[s] += v;
        }
    for (int s = 0; s < streams; s++)
        for (int l = 0; l < 4; l++) total += uint64_t(acc[s][l]);
    for (size_t i = seg * size_t(streams); i < n; i++) total += p[i];
    return total;
}
#endif

// Memory read bandwidth in GB/s (1e9 bytes/s): `threads` threads each sum their part of a
// buffer of `bytes` (1 GiB by default, 256 MiB with --quick), far larger than any cache.
// Per reader kind (1 and 8 streams per thread, plain and AVX2 loads) the median of
// `passes` passes over the buffer, timed per 256 MiB slice, and the best kind is returned, so the probe
// is as strong as the kernels it is compared with. This is the ceiling of a
// bandwidth-bound kernel (the decode matvec), measured in the same run because the
// machine may be shared.
struct Bandwidth {
    double median_gbs, best_gbs;  // best reader kind: its median pass, and its fastest pass
};
inline Bandwidth read_bandwidth(size_t bytes, int threads, int passes) {
    const size_t words = bytes / 8;
    std::vector<uint64_t> buf(words);
    for (size_t i = 0; i < words; i++) buf[i] = i;  // touch every page
    volatile uint64_t sink = 0;
#if defined(__x86_64__)
    const bool avx2 = __builtin_cpu_supports("avx2");
#else
    const bool avx2 = false;
#endif
    Bandwidth best{0, 0};
    for (int kind = 0; kind < 4; kind++) {
        const int streams = kind % 2 ? 8 : 1;
        const bool wide = kind >= 2;
        if (wide && !avx2) continue;
        // One timed sample reads one 256 MiB slice (the slices in turn, so the whole
        // buffer streams from DRAM): samples of a few ms, like the kernel calls they are
        // compared with, so the median is not dominated by preemption on a shared machine.
        const size_t slice = std::min(words, (size_t(256) << 20) / 8), nslices = words / slice;
        size_t next = 0;
        auto pass = [&] {
            const uint64_t* base = buf.data() + (next++ % nslices) * slice;
            std::vector<std::thread> pool;
            std::vector<uint64_t> sums(size_t(threads), 0);
            for (int t = 0; t < threads; t++)
                pool.emplace_back([&, t] {
                    const size_t lo = slice * size_t(t) / size_t(threads), hi = slice * size_t(t + 1) / size_t(threads);
#if defined(__x86_64__)
                    if (wide) {
                        sums[size_t(t)] = sum_streams_avx2(base + lo, hi - lo, streams);
                        return;
                    }
#endif
                    sums[size_t(t)] = sum_streams_plain(base + lo, hi - lo, streams);
                });
            for (auto& th : pool) th.join();
            for (uint64_t v : sums) sink = sink + v;
        };
        const Stats t = stats_ms(pass, int(nslices), passes * int(nslices));
        const double gbs = double(slice * 8) / (t.median * 1e6), top = double(slice * 8) / (t.best * 1e6);
        if (std::getenv("BENCH_BW_VERBOSE"))
            std::printf("# read bandwidth, %d threads, %d streams each, %s loads: %.2f GB/s\n", threads, streams,
                         wide ? "32-byte" : "8-byte", gbs);
        best.median_gbs = std::max(best.median_gbs, gbs);
        best.best_gbs = std::max(best.best_gbs, top);
    }
    return best;
}
inline double read_bandwidth_gbs(size_t bytes, int threads, int passes) {
    return read_bandwidth(bytes, threads, passes).median_gbs;
}
// Bytes of the last-level cache (0 if unknown): buffers meant to stream from DRAM are
// made several times larger (servers have L3s of hundreds of MiB).
inline size_t l3_bytes() {
#if defined(_SC_LEVEL3_CACHE_SIZE)
    long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return v > 0 ? size_t(v) : 0;
#else
    return 0;
#endif
}
// A buffer size that streams from DRAM: `want`, or 4× the L3 if that is larger.
inline size_t dram_bytes(size_t want) { return std::max(want, 4 * l3_bytes()); }

inline Bandwidth read_bandwidth(const Options& o, int threads = 2) {
    return read_bandwidth(dram_bytes(o.quick ? (size_t(256) << 20) : (size_t(1) << 30)), threads, o.quick ? 3 : 7);
}
inline double read_bandwidth_gbs(const Options& o, int threads = 2) {
    return read_bandwidth(o, threads).median_gbs;
}

inline void header() {
    if (std::getenv("BENCH_NO_HEADER")) return;
    std::printf("%-10s %-42s %10s %10s %8s %8s %7s %8s  %s\n", "bench", "case", "time_ms", "best_ms", "GB/s", "GFLOP/s",
                "%bw", "%bw_best", "note");
}

// One row: time_ms is the median, GB/s and GFLOP/s follow from it, %bw = GB/s over the
// median read bandwidth; best_ms and %bw_best are the fastest run against the fastest
// probe pass. Negative values (or best < 0) print as "-".
inline void row(const char* bench, const std::string& name, double ms, double best_ms, double gbs, double gflops,
                double frac_bw, double frac_bw_best, const std::string& note = "") {
    char t[32], tb[32], g[32], f[32], b[32], bb[32];
    std::snprintf(t, sizeof t, ms >= 0 ? "%.4f" : "-", ms);
    std::snprintf(tb, sizeof tb, best_ms >= 0 ? "%.4f" : "-", best_ms);
    std::snprintf(g, sizeof g, gbs >= 0 ? "%.2f" : "-", gbs);
    std::snprintf(f, sizeof f, gflops >= 0 ? "%.2f" : "-", gflops);
    std::snprintf(b, sizeof b, frac_bw >= 0 ? "%.1f%%" : "-", frac_bw * 100);
    std::snprintf(bb, sizeof bb, frac_bw_best >= 0 ? "%.1f%%" : "-", frac_bw_best * 100);
    std::printf("%-10s %-42s %10s %10s %8s %8s %7s %8s  %s\n", bench, name.c_str(), t, tb, g, f, b, bb, note.c_str());
    std::fflush(stdout);
}
// The simple form: a median only.
inline void row(const char* bench, const std::string& name, double ms, double gbs, double gflops, double frac_bw,
                const std::string& note = "") {
    row(bench, name, ms, -1, gbs, gflops, frac_bw, -1, note);
}
// From timing stats: bytes moved and flops done per call (either may be 0: not shown).
inline void row(const char* bench, const std::string& name, Stats t, double bytes, double flops, Bandwidth bw,
                const std::string& note = "") {
    const double gbs = bytes > 0 ? bytes / (t.median * 1e6) : -1, gbs_best = bytes > 0 ? bytes / (t.best * 1e6) : -1;
    row(bench, name, t.median, t.best, gbs, flops > 0 ? flops / (t.median * 1e6) : -1,
        bytes > 0 ? gbs / bw.median_gbs : -1, bytes > 0 ? gbs_best / bw.best_gbs : -1, note);
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
