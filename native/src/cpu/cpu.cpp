// CPU backend: SIMD level detection and selection, worker thread count.
#include "cpu.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

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
