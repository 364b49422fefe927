// Dense kernels: the decode matvec (m = 1) with bf16 and fp32 weights at the sizes of
// decode, against the memory read bandwidth measured in the same run, and the prefill
// matmul (m = 512) in GFLOP/s.
//
// Matvec weights rotate over copies that together exceed 256 MiB (8× the 32 MiB L3), so
// every call streams its W from DRAM as in a real model whose layers all differ; a
// W small enough to stay in the L3 would otherwise show more than the DRAM bandwidth.
// The bf16 matvec runs twice: the default kernel (W widened to fp32 in registers, x
// exact) and, in a child process started before any library call, the AVX-512 BF16
// vdpbf16ps variant (MAMBA4J_BF16_MATVEC=dpbf16, x rounded to bf16).
//   bench_dense [--quick]
#include "bench_common.h"

#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Shape {
    const char* what;
    int64_t n, k;
};
const Shape kMatvec[] = {
    {"in_proj 130M", 3072, 768},    // Mamba 130M: in_proj [2·1536, 768]
    {"out_proj 130M", 768, 1536},   //             out_proj [768, 1536]
    {"lm_head 130M", 50280, 768},   //             lm_head [50280, 768]
    {"4096x4096", 4096, 4096},      // 7-8B: attention / Mamba projections
    {"mlp 14336x4096", 14336, 4096} //       SwiGLU up / gate
};

void matvec_rows(const bench::Options& opt, double bw, bool bf16_only, const char* variant) {
    const size_t pool_bytes = size_t(opt.quick ? 128 : 256) << 20;
    for (bool bf16 : {true, false}) {
        if (bf16_only && !bf16) continue;
        for (const Shape& s : kMatvec) {
            if (opt.quick && s.n == 14336 && !bf16) continue;
            const size_t esize = bf16 ? 2 : 4, wbytes = size_t(s.n * s.k) * esize;
            const size_t copies = std::max<size_t>(2, (pool_bytes + wbytes - 1) / wbytes);
            std::vector<uint8_t> pool(copies * wbytes);
            if (bf16) {
                auto w = bench::random_bf16(size_t(s.n * s.k), 0.05f);
                for (size_t c = 0; c < copies; c++) std::memcpy(pool.data() + c * wbytes, w.data(), wbytes);
            } else {
                auto w = bench::random_f32(size_t(s.n * s.k), 0.05f);
                for (size_t c = 0; c < copies; c++) std::memcpy(pool.data() + c * wbytes, w.data(), wbytes);
            }
            auto x = bench::random_f32(size_t(s.k));
            std::vector<float> y(size_t(s.n));
            mamba4j_matmul_args a{};
            a.m = 1;
            a.n = s.n;
            a.k = s.k;
            a.dtype = MAMBA4J_F32;
            a.weight_dtype = bf16 ? MAMBA4J_BF16 : MAMBA4J_F32;
            a.x = x.data();
            a.x_stride = s.k;
            a.y = y.data();
            a.y_stride = s.n;
            size_t next = 0;
            auto call = [&] {
                a.w = pool.data() + (next++ % copies) * wbytes;
                bench::check(mamba4j_matmul(bench::cpu_context(), &a), "mamba4j_matmul");
            };
            const int reps = std::max<int>(opt.reps, int(copies) * 2);
            double ms = bench::median_ms(call, std::max<int>(opt.warmup, int(copies)), reps);
            double gbs = double(wbytes + size_t(s.k + s.n) * 4) / (ms * 1e6);
            char name[96];
            std::snprintf(name, sizeof name, "matvec %s %s %lldx%lld", bf16 ? "bf16" : "f32", s.what, (long long)s.n,
                          (long long)s.k);
            bench::row("dense", name, ms, gbs, 2.0 * double(s.n * s.k) / (ms * 1e6), gbs / bw,
                       std::string(variant) + ", W from DRAM");
        }
    }
}

void prefill_rows(const bench::Options& opt) {
    const int64_t m = 512;
    const Shape shapes[] = {{"in_proj 130M", 3072, 768}, {"4096x4096", 4096, 4096}};
    for (bool bf16 : {true, false})
        for (const Shape& s : shapes) {
            auto wf = bench::random_f32(size_t(s.n * s.k), 0.05f);
            auto wb = bench::random_bf16(size_t(s.n * s.k), 0.05f);
            auto x = bench::random_f32(size_t(m * s.k));
            std::vector<float> y(size_t(m * s.n));
            mamba4j_matmul_args a{};
            a.m = m;
            a.n = s.n;
            a.k = s.k;
            a.dtype = MAMBA4J_F32;
            a.weight_dtype = bf16 ? MAMBA4J_BF16 : MAMBA4J_F32;
            a.x = x.data();
            a.x_stride = s.k;
            a.w = bf16 ? static_cast<const void*>(wb.data()) : wf.data();
            a.y = y.data();
            a.y_stride = s.n;
            double ms = bench::median_ms(
                [&] { bench::check(mamba4j_matmul(bench::cpu_context(), &a), "mamba4j_matmul"); },
                opt.quick ? 1 : 2, opt.quick ? 3 : 7);
            char name[96];
            std::snprintf(name, sizeof name, "matmul m=512 %s %s %lldx%lld", bf16 ? "bf16" : "f32", s.what,
                          (long long)s.n, (long long)s.k);
            bench::row("dense", name, ms, -1, 2.0 * double(m * s.n * s.k) / (ms * 1e6), -1, "prefill, x fp32");
        }
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opt(argc, argv);
    bench::header();
    // Bandwidth first, with no library thread pool started yet, so the child forked below
    // starts clean.
    const double bw = bench::read_bandwidth_gbs(opt);
    bench::row("dense", "memory read bandwidth, 2 threads", -1, bw, -1, 1.0,
               opt.quick ? "256 MiB buffer, median" : "1 GiB buffer, median");

    mamba4j_simd supported = 0, in_use = 0;
    mamba4j_cpu_simd(&supported, &in_use);
    if (in_use == MAMBA4J_SIMD_AVX512 && std::getenv("MAMBA4J_BF16_MATVEC") == nullptr) {
        std::fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            setenv("MAMBA4J_BF16_MATVEC", "dpbf16", 1);
            matvec_rows(opt, bw, true, "vdpbf16ps, x rounded to bf16");
            std::fflush(stdout);
            _exit(0);
        }
        int status = 0;
        if (child > 0) waitpid(child, &status, 0);
    }
    matvec_rows(opt, bw, false, std::string(bench::simd_name()).append(" default").c_str());
    prefill_rows(opt);
    return 0;
}
