// Dense kernels: the decode matvec (m = 1) with bf16 and fp32 weights at the sizes of
// decode, against the memory read bandwidth measured in the same run, and the prefill
// matmul (m = 512) in GFLOP/s: with bf16 W on AVX-512 BF16 the default vdpbf16ps kernel
// (x rounded to bf16) and, in a child process, the fp32 kernel (MAMBA4J_BF16_MATMUL=fp32).
//
// Matvec weights rotate over copies that together exceed 256 MiB and 4× the L3, so
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

void matvec_rows(const bench::Options& opt, const bench::Bandwidth& bw, bool bf16_only, const char* variant) {
    const size_t pool_bytes = bench::dram_bytes(size_t(opt.quick ? 128 : 256) << 20);
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
            // No two pages of the pool alike: a hypervisor that merges identical pages
            // (KSM) would otherwise map every copy to the same memory and serve it from cache.
            for (size_t off = 0; off + 8 <= pool.size(); off += 4096) {
                const uint64_t tag = off * 0x9E3779B97F4A7C15ull;
                std::memcpy(pool.data() + off, &tag, 2);  // one bf16 / half an f32: a small change
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
            bench::Stats t = bench::stats_ms(call, std::max<int>(opt.warmup, int(copies)), reps);
            char name[96];
            std::snprintf(name, sizeof name, "matvec %s %s %lldx%lld", bf16 ? "bf16" : "f32", s.what, (long long)s.n,
                          (long long)s.k);
            bench::row("dense", name, t, double(wbytes + size_t(s.k + s.n) * 4), 2.0 * double(s.n * s.k), bw,
                       std::string(variant) + ", W from DRAM");
        }
    }
}

void prefill_rows(const bench::Options& opt, const bench::Bandwidth& bw, bool bf16_only, const char* variant) {
    const int64_t m = 512;
    const Shape shapes[] = {{"in_proj 130M", 3072, 768}, {"up 135M", 1536, 576}, {"4096x4096", 4096, 4096}};
    for (bool bf16 : {true, false}) {
        if (bf16_only && !bf16) continue;
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
            bench::Stats t = bench::stats_ms(
                [&] { bench::check(mamba4j_matmul(bench::cpu_context(), &a), "mamba4j_matmul"); },
                opt.quick ? 1 : 2, opt.quick ? 3 : 7);
            char name[96];
            std::snprintf(name, sizeof name, "matmul m=512 %s %s %lldx%lld", bf16 ? "bf16" : "f32", s.what,
                          (long long)s.n, (long long)s.k);
            bench::row("dense", name, t, 0, 2.0 * double(m * s.n * s.k), bw,
                       bf16 ? std::string("prefill, ") + variant : std::string("prefill, x fp32"));
        }
    }
}

// Elementwise and row kernels of the MLP and the Mamba-2 block at prefill sizes: memory
// bound, so GB/s (bytes read + written once) against the measured read bandwidth.
void elementwise_rows(const bench::Options& opt, const bench::Bandwidth& bw) {
    const int64_t rows = 512, dim = 14336;
    auto gate = bench::random_f32(size_t(rows * dim), 2.0f, 5), up = bench::random_f32(size_t(rows * dim), 1.0f, 6);
    std::vector<float> y(size_t(rows * dim));
    for (int kind : {MAMBA4J_ACT_SILU_GATE, MAMBA4J_ACT_RELU2}) {
        mamba4j_activation_args a{};
        a.rows = rows;
        a.dim = dim;
        a.kind = kind;
        a.gate = gate.data();
        a.up = up.data();
        a.y = y.data();
        a.gate_stride = a.up_stride = a.y_stride = dim;
        bench::Stats t = bench::stats_ms(
            [&] { bench::check(mamba4j_activation_apply(bench::cpu_context(), &a), "mamba4j_activation_apply"); }, opt);
        bench::row("dense", kind == MAMBA4J_ACT_SILU_GATE ? "silu_gate f32 512x14336" : "relu2 f32 512x14336", t,
                   double(rows * dim) * 4 * (kind == MAMBA4J_ACT_SILU_GATE ? 3 : 2), 0, bw, "bytes read + written");
    }
    {
        const int64_t e = 8192, group = 1024;  // Mamba-2 8B: E 8192, G 8
        auto x = bench::random_f32(size_t(rows * e), 1.0f, 7), z = bench::random_f32(size_t(rows * e), 1.0f, 8);
        auto w = bench::random_f32(size_t(e), 1.0f, 9);
        std::vector<float> out(size_t(rows * e));
        mamba4j_gated_rmsnorm_args a{};
        a.rows = rows;
        a.dim = e;
        a.group_size = group;
        a.x = x.data();
        a.z = z.data();
        a.w = w.data();
        a.y = out.data();
        a.x_stride = a.z_stride = a.y_stride = e;
        a.eps = 1e-5f;
        bench::Stats t = bench::stats_ms(
            [&] { bench::check(mamba4j_gated_rmsnorm(bench::cpu_context(), &a), "mamba4j_gated_rmsnorm"); }, opt);
        bench::row("dense", "gated_rmsnorm f32 512x8192 group 1024", t, double(rows * e) * 4 * 3, 0, bw,
                   "bytes read + written");
    }
    {
        const int64_t vocab = 50280, d = 768, count = 512;
        auto table = bench::random_bf16(size_t(vocab * d), 1.0f, 10);
        std::vector<int32_t> ids(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; i++) ids[size_t(i)] = int32_t((i * 7919) % vocab);
        std::vector<float> out(size_t(count * d));
        mamba4j_embedding_args a{};
        a.count = count;
        a.vocab = vocab;
        a.dim = d;
        a.table_dtype = MAMBA4J_BF16;
        a.out_dtype = MAMBA4J_F32;
        a.ids = ids.data();
        a.table = table.data();
        a.out = out.data();
        a.out_stride = d;
        bench::Stats t = bench::stats_ms(
            [&] { bench::check(mamba4j_embedding(bench::cpu_context(), &a), "mamba4j_embedding"); }, opt);
        bench::row("dense", "embedding bf16->f32 512 ids x 768", t, double(count * d) * 6, 0, bw,
                   "bytes read + written; rows mostly in cache");
    }
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opt(argc, argv);
    bench::header();
    // Bandwidth first, with no library thread pool started yet, so the child forked below
    // starts clean.
    const bench::Bandwidth bw = bench::read_bandwidth(opt);
    bench::row("dense", "memory read bandwidth, 2 threads", -1, -1, bw.median_gbs, -1, 1.0, 1.0,
               std::to_string(bench::dram_bytes(size_t(opt.quick ? 256 : 1024) << 20) >> 20) + " MiB buffer; fastest pass " +
                   std::to_string(bw.best_gbs).substr(0, 5) + " GB/s");

    mamba4j_simd supported = 0, in_use = 0;
    mamba4j_cpu_simd(&supported, &in_use);
    const bool dp_prefill = in_use == MAMBA4J_SIMD_AVX512 && std::getenv("MAMBA4J_BF16_MATMUL") == nullptr;
    if (dp_prefill) {  // the fp32 prefill kernel with bf16 W, as before vdpbf16ps (a child: the variable is read once)
        std::fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            setenv("MAMBA4J_BF16_MATMUL", "fp32", 1);
            prefill_rows(opt, bw, true, "x fp32, W widened (MAMBA4J_BF16_MATMUL=fp32)");
            std::fflush(stdout);
            _exit(0);
        }
        int status = 0;
        if (child > 0) waitpid(child, &status, 0);
    }
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
    prefill_rows(opt, bw, false, dp_prefill ? "vdpbf16ps, x rounded to bf16" : "x fp32, W widened");
    elementwise_rows(opt, bw);
    return 0;
}
