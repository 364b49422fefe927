// CPU benchmark of the SSM kernels: causal conv1d, Mamba-1 selective scan, Mamba-2 SSD
// (recurrent vs chunked prefill, decode state update). Shapes of mamba-130m (E 1536,
// N 16) and mamba2-130m (H 24, P 64, N 128, G 1; and G 8). Each line: the median of
// several runs after a warm-up, and a rate. Plain aligned text, for ci/bench-cpu.sh.
//   bench_ssm [--quick] [--threads N]   (--quick: fewer repetitions)
#include <mamba4j.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>
#include <random>
#include <string>
#include <vector>

namespace {

int g_reps = 7;

void check(mamba4j_status s, const char* what) {
    if (s != MAMBA4J_OK) {
        std::fprintf(stderr, "%s failed: %s\n", what, mamba4j_last_error());
        std::exit(1);
    }
}

std::vector<float> random(size_t n, float lo, float hi, uint64_t seed) {
    std::mt19937_64 r(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(r);
    return v;
}

double wall_ms(const std::function<void()>& fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> t) {
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// Median wall time of fn in ms: one warm-up, then g_reps runs (at least 3, fewer than
// g_reps once 3 s are spent).
double median_ms(const std::function<void()>& fn) {
    fn();
    std::vector<double> t;
    double total = 0;
    for (int i = 0; i < g_reps && (i < 3 || total < 3000); i++) {
        t.push_back(wall_ms(fn));
        total += t.back();
    }
    return median(t);
}

// Two versions timed alternately (each after one warm-up), so a noisy machine slows both
// alike; returns both medians.
std::pair<double, double> median_ms_pair(const std::function<void()>& f, const std::function<void()>& g) {
    f();
    g();
    std::vector<double> tf, tg;
    double total = 0;
    for (int i = 0; i < g_reps && (i < 3 || total < 6000); i++) {
        tf.push_back(wall_ms(f));
        tg.push_back(wall_ms(g));
        total += tf.back() + tg.back();
    }
    return {median(tf), median(tg)};
}

void line(const char* kernel, const std::string& shape, double ms, double rate, const char* unit,
          const std::string& extra = "") {
    std::printf("%-22s %-44s %10.3f ms %9.2f %-8s %s\n", kernel, shape.c_str(), ms, rate, unit, extra.c_str());
}

mamba4j_context* g_ctx;

void bench_conv1d(int64_t B, int64_t L, int64_t C, int64_t K) {
    auto x = random(size_t(B * L * C), -1, 1, 1), w = random(size_t(C * K), -0.5f, 0.5f, 2),
         bias = random(size_t(C), -0.1f, 0.1f, 3), state = random(size_t(B * (K - 1) * C), -1, 1, 4);
    std::vector<float> y(x.size());
    mamba4j_conv1d_args a{};
    a.batch = B;
    a.seqlen = L;
    a.channels = C;
    a.width = K;
    a.dtype = a.weight_dtype = MAMBA4J_F32;
    a.x = x.data();
    a.x_stride_b = L * C;
    a.x_stride_t = C;
    a.w = w.data();
    a.bias = bias.data();
    a.conv_state = state.data();
    a.y = y.data();
    a.y_stride_b = L * C;
    a.y_stride_t = C;
    a.silu = 1;
    double ms = median_ms([&] { check(mamba4j_conv1d(g_ctx, &a), "conv1d"); });
    double bytes = double(B * L * C) * 8 + double(B * (K - 1) * C) * 8 + double(C * (K + 1)) * 4;
    char shape[128];
    std::snprintf(shape, sizeof shape, "B %lld L %lld C %lld K %lld", (long long)B, (long long)L, (long long)C,
                  (long long)K);
    line("conv1d+silu", shape, ms, bytes / ms / 1e6, "GB/s");
}

void bench_selective_scan(int64_t B, int64_t L, int64_t E, int64_t N) {
    auto u = random(size_t(B * L * E), -1, 1, 1), dt = random(size_t(B * L * E), -4, -2, 2),
         Bm = random(size_t(B * L * N), -1, 1, 3), Cm = random(size_t(B * L * N), -1, 1, 4),
         z = random(size_t(B * L * E), -1, 1, 5), A_log = random(size_t(E * N), 0, 2.7f, 6),
         D = random(size_t(E), -1, 1, 7), dt_bias = random(size_t(E), -1, 1, 8),
         state = random(size_t(B * E * N), -1, 1, 9);
    std::vector<float> y(u.size());
    mamba4j_selective_scan_args a{};
    a.batch = B;
    a.seqlen = L;
    a.inner = E;
    a.state = N;
    a.dtype = MAMBA4J_F32;
    a.u = u.data();
    a.dt = dt.data();
    a.z = z.data();
    a.y = y.data();
    a.u_stride_b = a.dt_stride_b = a.z_stride_b = a.y_stride_b = L * E;
    a.u_stride_t = a.dt_stride_t = a.z_stride_t = a.y_stride_t = E;
    a.B = Bm.data();
    a.C = Cm.data();
    a.B_stride_b = a.C_stride_b = L * N;
    a.B_stride_t = a.C_stride_t = N;
    a.A_log = A_log.data();
    a.D = D.data();
    a.dt_bias = dt_bias.data();
    a.ssm_state = state.data();
    a.dt_softplus = 1;
    char shape[128];
    std::snprintf(shape, sizeof shape, "B %lld L %lld E %lld N %lld", (long long)B, (long long)L, (long long)E,
                  (long long)N);
    double ms = median_ms([&] { check(mamba4j_selective_scan(g_ctx, &a), "selective_scan"); });
    if (L == 1) {  // decode: the state is read and written once
        double bytes = double(B * E * N) * 8 + double(E * N) * 4;
        line("selective_scan decode", shape, ms, bytes / ms / 1e6, "GB/s");
    } else {
        // per (t, e, n): exp, 2 fma, 1 mul-add for y: counted as 7 flops
        double flops = 7.0 * double(B * L * E * N);
        line("selective_scan", shape, ms, flops / ms / 1e6, "GFLOP/s", "(7 flop per t·e·n, exp = 1)");
    }
}

struct SsdBench {
    int64_t B, L, H, P, G, N, Q;
    std::vector<float> x, dt, Bm, Cm, z, A_log, D, dt_bias, state, y;
    SsdBench(int64_t B_, int64_t L_, int64_t H_, int64_t P_, int64_t G_, int64_t N_, int64_t Q_)
        : B(B_), L(L_), H(H_), P(P_), G(G_), N(N_), Q(Q_) {
        x = random(size_t(B * L * H * P), -1, 1, 1);
        z = random(size_t(B * L * H * P), -1, 1, 2);
        dt = random(size_t(B * L * H), -4, -2, 3);
        Bm = random(size_t(B * L * G * N), -1, 1, 4);
        Cm = random(size_t(B * L * G * N), -1, 1, 5);
        A_log = random(size_t(H), 0, 2.7f, 6);
        D = random(size_t(H), -1, 1, 7);
        dt_bias = random(size_t(H), -1, 1, 8);
        state = random(size_t(B * H * P * N), -1, 1, 9);
        y.resize(x.size());
    }
    mamba4j_ssd_args args(mamba4j_algo algo) {
        mamba4j_ssd_args a{};
        a.batch = B;
        a.seqlen = L;
        a.heads = H;
        a.head_dim = P;
        a.groups = G;
        a.state = N;
        a.chunk_size = Q;
        a.dtype = MAMBA4J_F32;
        a.x = x.data();
        a.z = z.data();
        a.y = y.data();
        a.x_stride_b = a.z_stride_b = a.y_stride_b = L * H * P;
        a.x_stride_t = a.z_stride_t = a.y_stride_t = H * P;
        a.dt = dt.data();
        a.dt_stride_b = L * H;
        a.dt_stride_t = H;
        a.B = Bm.data();
        a.C = Cm.data();
        a.B_stride_b = a.C_stride_b = L * G * N;
        a.B_stride_t = a.C_stride_t = G * N;
        a.A_log = A_log.data();
        a.D = D.data();
        a.dt_bias = dt_bias.data();
        a.ssm_state = state.data();
        a.algo = algo;
        return a;
    }
    double run(mamba4j_algo algo) {
        mamba4j_ssd_args a = args(algo);
        return median_ms([&] { check(mamba4j_ssd(g_ctx, &a), "ssd"); });
    }
    std::string shape() const {
        char s[128];
        std::snprintf(s, sizeof s, "B %lld L %lld H %lld P %lld G %lld N %lld Q %lld", (long long)B, (long long)L,
                      (long long)H, (long long)P, (long long)G, (long long)N, (long long)Q);
        return s;
    }
};

void bench_ssd_prefill(int64_t L, int64_t G, int64_t Q) {
    SsdBench s(1, L, 24, 64, G, 128, Q);
    // recurrence-equivalent work: 4·P·N flops per token and head (update + output)
    const double flops = 4.0 * double(s.B * s.L * s.H * s.P * s.N);
    mamba4j_ssd_args rec_args = s.args(MAMBA4J_ALGO_RECURRENT), chk_args = s.args(MAMBA4J_ALGO_CHUNKED);
    auto [rec, chk] = median_ms_pair([&] { check(mamba4j_ssd(g_ctx, &rec_args), "ssd recurrent"); },
                                     [&] { check(mamba4j_ssd(g_ctx, &chk_args), "ssd chunked"); });
    line("ssd recurrent", s.shape(), rec, flops / rec / 1e6, "GFLOP/s");
    char ratio[96];
    std::snprintf(ratio, sizeof ratio, "chunked/recurrent speedup %.2fx", rec / chk);
    line("ssd chunked", s.shape(), chk, flops / chk / 1e6, "GFLOP/s", ratio);
}

void bench_ssd_decode(int64_t B, int64_t G) {
    SsdBench s(B, 1, 24, 64, G, 128, 256);
    double ms = s.run(MAMBA4J_ALGO_AUTO);
    double bytes = double(B * s.H * s.P * s.N) * 8;
    line("ssd decode", s.shape(), ms, bytes / ms / 1e6, "GB/s", "(state read + write)");
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--quick") == 0) g_reps = 3;
        else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            check(mamba4j_cpu_set_threads(std::atoi(argv[++i])), "set threads");
        else {
            std::fprintf(stderr, "usage: bench_ssm [--quick] [--threads N]\n");
            return 2;
        }
    }
    check(mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &g_ctx), "context");
    int32_t threads = 0;
    mamba4j_simd supported, in_use;
    check(mamba4j_cpu_threads(&threads), "threads");
    check(mamba4j_cpu_simd(&supported, &in_use), "simd");
    const char* names[] = {"scalar", "avx2", "avx512"};
    std::printf("# bench_ssm: mamba4j %s, %d threads, simd %s, median of up to %d runs after 1 warm-up\n",
                mamba4j_version(), threads, names[in_use], g_reps);
    std::printf("%-22s %-44s %13s %18s\n", "kernel", "shape", "time", "rate");
    bench_conv1d(1, 4096, 1792, 4);  // mamba2-130m xBC: E + 2·G·N channels
    bench_conv1d(1, 1, 1792, 4);
    bench_conv1d(16, 1, 1792, 4);
    bench_selective_scan(1, 1024, 1536, 16);  // mamba-130m
    bench_selective_scan(1, 1, 1536, 16);
    bench_selective_scan(16, 1, 1536, 16);
    for (int64_t G : {1, 8})
        for (int64_t L : {1024, 4096}) bench_ssd_prefill(L, G, 256);
    bench_ssd_prefill(4096, 1, 64);
    bench_ssd_decode(1, 1);
    bench_ssd_decode(16, 1);
    mamba4j_context_destroy(g_ctx);
    return 0;
}
