// CPU backend: SIMD level detection and selection, worker thread count.
#include "cpu.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <cstdio>

namespace mamba4j::cpu {

namespace {

mamba4j_simd detect() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("fma"))
        return MAMBA4J_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return MAMBA4J_SIMD_AVX2;
#endif
    return MAMBA4J_SIMD_SCALAR;
}

// The level requested by MAMBA4J_SIMD, or the supported one. An unknown or too-high
// value is ignored here and reported by mamba4j_cpu_set_simd when set explicitly.
mamba4j_simd initial_level() {
    mamba4j_simd supported = detect();
    const char* env = std::getenv("MAMBA4J_SIMD");
    if (env == nullptr) return supported;
    mamba4j_simd want = supported;
    if (std::strcmp(env, "scalar") == 0) want = MAMBA4J_SIMD_SCALAR;
    else if (std::strcmp(env, "avx2") == 0) want = MAMBA4J_SIMD_AVX2;
    else if (std::strcmp(env, "avx512") == 0) want = MAMBA4J_SIMD_AVX512;
    return want < supported ? want : supported;
}

std::atomic<int> level{-1};
std::atomic<int> thread_count{0};

}  // namespace

mamba4j_simd simd_supported() {
    static const mamba4j_simd s = detect();
    return s;
}

mamba4j_simd simd_in_use() {
    int l = level.load(std::memory_order_relaxed);
    if (l < 0) {
        l = initial_level();
        level.store(l, std::memory_order_relaxed);
    }
    return l;
}

int threads() {
    int n = thread_count.load(std::memory_order_relaxed);
    if (n <= 0) {
        // asked once: hardware_concurrency() opens and reads /sys/devices/system/cpu/online
        // on every call (glibc 2.36 get_nprocs; ~8 µs here), and every kernel call asks
        static const int hardware = std::max(1, int(std::thread::hardware_concurrency()));
        n = hardware;
    }
    return n;
}

// Other processes on the cores. GNU OpenMP's idle threads spin at the end of a region; when
// another process wants a core, the scheduler preempts our threads in turn and a spinning
// thread burns the core that the one it waits for needs: decode halved with one busy process
// on the 2-core dev VM, and fell to single digits with several (docs/perf.md). So each team
// thread samples (every 64th region, over windows of at least kWindowNs) the share of time it
// spent runnable but waiting for a core (Linux schedstat). With n threads and c competing
// busy processes on n cores each thread waits about c/(n + c) of the time, so the mean share
// times the team size estimates the cores taken (quiet here: 0.02–0.2; one competing process
// on 2 cores: ~0.9). From half a core on, the team loses one thread for a hold time, which
// doubles while the waiting comes back (up to 4 s) and halves while the full team stays
// quiet; after a hold the team grows back by one. MAMBA4J_ADAPTIVE_THREADS=0 turns this off.
namespace {

constexpr int64_t kWindowNs = 200'000'000, kMinHoldNs = 200'000'000, kMaxHoldNs = 4'000'000'000;
constexpr double kCoresTaken = 0.5;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool adaptive() {
    static const bool on = [] {
        const char* v = std::getenv("MAMBA4J_ADAPTIVE_THREADS");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
    return on;
}

// Nanoseconds the calling thread has waited on a run queue, or -1 where the kernel does not say.
int64_t run_queue_wait_ns() {
#if defined(__linux__)
    FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
    if (f == nullptr) return -1;
    unsigned long long on_cpu = 0, waited = 0;
    const int got = std::fscanf(f, "%llu %llu", &on_cpu, &waited);
    std::fclose(f);
    return got == 2 ? int64_t(waited) : -1;
#else
    return -1;
#endif
}

std::atomic<int> taken{0};             // cores other processes take: the team is threads() − taken
std::atomic<int64_t> share_sum{0};     // Σ of the team threads' waiting shares (in 1e-6) since the last look
std::atomic<int> shares{0};            // and how many
std::atomic<int64_t> hold_until{0};    // no change of `taken` before this time
std::atomic<int64_t> hold{kMinHoldNs}; // the next hold
std::atomic<unsigned> regions{0};
std::atomic<unsigned> epoch{0};        // changes with the team: a thread's window then starts over

}  // namespace

bool sample_this_region() {
    return adaptive() && (regions.fetch_add(1, std::memory_order_relaxed) & 63) == 0;
}

void sample_core_wait() {
    thread_local int64_t window_start = 0, wait_at_start = 0;
    thread_local unsigned window_epoch = 0;
    const int64_t t = now_ns(), wait = run_queue_wait_ns();
    if (wait < 0) return;
    const unsigned e = epoch.load(std::memory_order_relaxed);
    if (window_start == 0 || e != window_epoch || t - window_start > 10 * kWindowNs) {
        window_start = t;  // first sample, another team since, or a long pause: start over
        wait_at_start = wait;
        window_epoch = e;
        return;
    }
    if (t - window_start < kWindowNs) return;
    share_sum.fetch_add(int64_t(1e6 * double(wait - wait_at_start) / double(t - window_start)), std::memory_order_relaxed);
    shares.fetch_add(1, std::memory_order_relaxed);
    window_start = t;
    wait_at_start = wait;
}

int team_size() {
    const int n = threads();
    if (n <= 1 || !adaptive()) return n;
    const int64_t t = now_ns();
    const int team = std::max(1, n - taken.load(std::memory_order_relaxed));
    // decide after the hold, once every thread of the team has reported (a team of one, run
    // on the calling thread alone, reports nothing: it grows back after its hold)
    if (t >= hold_until.load(std::memory_order_relaxed) && (team == 1 || shares.load(std::memory_order_relaxed) >= team)) {
        const int count = shares.exchange(0, std::memory_order_relaxed);
        const int64_t sum = share_sum.exchange(0, std::memory_order_relaxed);
        const double mean_share = count > 0 ? 1e-6 * double(sum) / count : 0.0;
        if (mean_share * team >= kCoresTaken) {  // one core fewer, held longer each time
            const int64_t h = hold.load(std::memory_order_relaxed);
            if (taken.load(std::memory_order_relaxed) < n - 1) taken.fetch_add(1, std::memory_order_relaxed);
            hold_until.store(t + h, std::memory_order_relaxed);
            hold.store(std::min(2 * h, kMaxHoldNs), std::memory_order_relaxed);
            epoch.fetch_add(1, std::memory_order_relaxed);
        } else if (taken.load(std::memory_order_relaxed) > 0) {  // a quiet hold: one core back
            taken.fetch_sub(1, std::memory_order_relaxed);
            hold_until.store(t + kMinHoldNs, std::memory_order_relaxed);
            epoch.fetch_add(1, std::memory_order_relaxed);
        } else {  // quiet at full strength: the next hold shrinks back
            hold.store(std::max(kMinHoldNs, hold.load(std::memory_order_relaxed) / 2), std::memory_order_relaxed);
        }
    }
    return std::max(1, n - taken.load(std::memory_order_relaxed));
}

}  // namespace mamba4j::cpu

using namespace mamba4j;

extern "C" {

mamba4j_status mamba4j_cpu_simd(mamba4j_simd* supported, mamba4j_simd* in_use) {
    return guarded("mamba4j_cpu_simd", [&] {
        require_ptr(supported, "supported");
        require_ptr(in_use, "in_use");
        *supported = cpu::simd_supported();
        *in_use = cpu::simd_in_use();
    });
}

mamba4j_status mamba4j_cpu_set_simd(mamba4j_simd want) {
    return guarded("mamba4j_cpu_set_simd", [&] {
        if (want < MAMBA4J_SIMD_SCALAR || want > MAMBA4J_SIMD_AVX512)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "unknown SIMD level %d", (int)want);
        if (want > cpu::simd_supported())
            fail(MAMBA4J_ERR_UNSUPPORTED, "SIMD level %d is above what this CPU supports (%d)", (int)want,
                 (int)cpu::simd_supported());
        cpu::level.store(want);
    });
}

mamba4j_status mamba4j_cpu_set_threads(int32_t n) {
    return guarded("mamba4j_cpu_set_threads", [&] {
        require_positive(n, "threads");
        if (n > 4096) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "threads must be <= 4096, got %d", (int)n);
        cpu::thread_count.store(n);
    });
}

mamba4j_status mamba4j_cpu_threads(int32_t* n) {
    return guarded("mamba4j_cpu_threads", [&] {
        require_ptr(n, "threads");
        *n = cpu::threads();
    });
}

}  // extern "C"
