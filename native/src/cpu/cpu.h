// CPU backend internals: SIMD level selection and the worker threads.
//
// SIMD: every file under src/cpu/isa/ is compiled three times, with the flags of
// each level, into the namespaces isa_scalar / isa_avx2 / isa_avx512 (CMakeLists.txt).
// At run time select() returns the variant of the level in use: the widest the CPU and
// OS support (cpuid + xgetbv through __builtin_cpu_supports), lowered by the
// MAMBA4J_SIMD environment variable or mamba4j_cpu_set_simd. So one binary runs on
// plain x86-64 (SSE2), on AVX2+FMA machines, and uses AVX-512 (F, BW, VL, DQ, BF16:
// Zen 4, Sapphire Rapids and later) where present; other AVX-512 CPUs use AVX2.
#pragma once
#include "../common.h"

#include <omp.h>

namespace mamba4j::cpu {

mamba4j_simd simd_supported();
mamba4j_simd simd_in_use();
int threads();

// Runs body() on threads() OpenMP threads when `parallel` (and more than one thread is
// set), else once, directly, on the calling thread. The body may hold orphaned `omp for`
// loops: they share the work out inside the region and run whole outside it. Kernels use
// this instead of `omp parallel if (...)`, which still sets up a team of one when the
// condition is false (a malloc, a free and a futex wake: ~1 µs a call, measured), a cost
// that each of the ~100 small kernel calls of a decode step would pay.
//
// The team is team_size() threads: threads(), less one for each core that other processes
// have been seen to take (see cpu.cpp): on a shared machine a spinning thread would hold a
// core that the thread it waits for needs. Every 64th region each team thread samples how
// long it waited for a core (sample_core_wait).
int team_size();
bool sample_this_region();
void sample_core_wait();

template <class F>
void parallel_region(bool parallel, F&& body) {
    const int n = parallel ? team_size() : 1;
    if (n > 1) {
        const bool sample = sample_this_region();
#pragma omp parallel num_threads(n)
        {
            body();
            if (sample) sample_core_wait();
        }
    } else {
        body();
    }
}

template <class F>
F select(F scalar, F avx2, F avx512) {
    switch (simd_in_use()) {
        case MAMBA4J_SIMD_AVX512: return avx512;
        case MAMBA4J_SIMD_AVX2: return avx2;
        default: return scalar;
    }
}

}  // namespace mamba4j::cpu

// Declares one function in each ISA namespace, for use with select():
//   MAMBA4J_ISA_DECLARE(void, rms_row, (const float* x, int64_t n))
//   auto f = cpu::select(isa_scalar::rms_row, isa_avx2::rms_row, isa_avx512::rms_row);
#define MAMBA4J_ISA_DECLARE(ret, name, params)                   \
    namespace mamba4j::cpu::isa_scalar { ret name params; }      \
    namespace mamba4j::cpu::isa_avx2 { ret name params; }        \
    namespace mamba4j::cpu::isa_avx512 { ret name params; }
#define MAMBA4J_ISA_SELECT(name) \
    ::mamba4j::cpu::select(&::mamba4j::cpu::isa_scalar::name, &::mamba4j::cpu::isa_avx2::name, &::mamba4j::cpu::isa_avx512::name)
