// CPU benchmark of the SSM kernels: causal conv1d, Mamba-1 selective scan, Mamba-2 SSD
// (recurrent vs chunked prefill, decode state update). Shapes of mamba-130m (E 1536,
// N 16) and mamba2-130m (H 24, P 64, N 128, G 1; and G 8). Each line: the median of
// several runs after a warm-up, and a rate; decode rows (bound by the state traffic) also
// as a fraction of the memory read bandwidth measured in the same run. The table format
// of bench_common.h, for ci/bench-cpu.sh.
//   bench_ssm [--quick] [--threads N]   (--quick: fewer repetitions, smaller bandwidth probe)
#include "bench_common.h"

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
constexpr int kLayers = 24;  // decode benches step this many layers' states in turn
double g_bandwidth = -1;  // GB/s, measured once per run

using bench::check;

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

// Several versions timed in turn (each after one warm-up), so a noisy machine slows all
// alike; returns each one's median.
std::vector<double> median_ms_alternating(const std::vector<std::function<void()>>& fns) {
    for (auto& f : fns) f();
    std::vector<std::vector<double>> t(fns.size());
    double total = 0;
    for (int i = 0; i < g_reps && (i < 3 || total < 8000); i++)
        for (size_t k = 0; k < fns.size(); k++) {
            t[k].push_back(wall_ms(fns[k]));
            total += t[k].back();
        }
    std::vector<double> m;
    for (auto& v : t) m.push_back(median(v));
    return m;
}

// One row of the shared table. rate is GB/s or GFLOP/s by unit; decode rows (GB/s of state
// traffic) get their fraction of the measured read bandwidth.
void line(const char* kernel, const std::string& shape, double ms, double rate, const char* unit,
          const std::string& extra = "") {
    const bool gbs = std::strcmp(unit, "GB/s") == 0;
    bench::row("ssm", std::string(kernel) + " " + shape, ms, gbs ? rate : -1, gbs ? -1 : rate,
               gbs && g_bandwidth > 0 ? rate / g_bandwidth : -1, extra);
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
    std::snprintf(shape, sizeof shape, "B%lld L%lld C%lld K%lld", (long long)B, (long long)L, (long long)C,
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
    std::snprintf(shape, sizeof shape, "B%lld L%lld E%lld N%lld", (long long)B, (long long)L, (long long)E,
                  (long long)N);
    if (L == 1) {
        // decode: a step of each of kLayers layers, each with its own state (as in a model,
        // so the states come from memory, not from the cache); the state is read and written once
        std::vector<float> states(size_t(kLayers) * state.size());
        for (auto& v : states) v = 0.01f;
        double ms = median_ms([&] {
                        for (int l = 0; l < kLayers; l++) {
                            a.ssm_state = states.data() + size_t(l) * state.size();
                            check(mamba4j_selective_scan(g_ctx, &a), "selective_scan");
                        }
                    }) / kLayers;
        double bytes = double(B * E * N) * 8 + double(E * N) * 4;
        line("sel_scan decode", shape, ms, bytes / ms / 1e6, "GB/s", "per layer, 24 layers' states in turn");
    } else {
        double ms = median_ms([&] { check(mamba4j_selective_scan(g_ctx, &a), "selective_scan"); });
        // per (t, e, n): exp, 2 fma, 1 mul-add for y: counted as 7 flops
        double flops = 7.0 * double(B * L * E * N);
        line("sel_scan", shape, ms, flops / ms / 1e6, "GFLOP/s", "7 flop per t·e·n (exp = 1)");
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
        std::snprintf(s, sizeof s, "B%lld L%lld G%lld", (long long)B, (long long)L, (long long)G);
        return s;
    }
};

// Recurrent vs chunked prefill on one layer of mamba2-130m (H 24, P 64, N 128): chunked
// with the model's chunk of 256 and with AUTO's CPU chunk of 64, timed in turn.
void bench_ssd_prefill(int64_t L, int64_t G) {
    SsdBench s(1, L, 24, 64, G, 128, 256);
    // recurrence-equivalent work: 4·P·N flops per token and head (update + output)
    const double flops = 4.0 * double(s.B * s.L * s.H * s.P * s.N);
    mamba4j_ssd_args rec = s.args(MAMBA4J_ALGO_RECURRENT), q256 = s.args(MAMBA4J_ALGO_CHUNKED),
                     q64 = s.args(MAMBA4J_ALGO_CHUNKED);
    q64.chunk_size = 64;
    auto ms = median_ms_alternating({[&] { check(mamba4j_ssd(g_ctx, &rec), "ssd recurrent"); },
                                     [&] { check(mamba4j_ssd(g_ctx, &q256), "ssd chunked"); },
                                     [&] { check(mamba4j_ssd(g_ctx, &q64), "ssd chunked"); }});
    std::string shape = s.shape();
    line("ssd recurrent", shape, ms[0], flops / ms[0] / 1e6, "GFLOP/s", "H24 P64 N128; 4·P·N flop per token·head");
    char ratio[96];
    std::snprintf(ratio, sizeof ratio, "chunked/recurrent %.2fx", ms[0] / ms[1]);
    line("ssd chunked Q256", shape, ms[1], flops / ms[1] / 1e6, "GFLOP/s", ratio);
    std::snprintf(ratio, sizeof ratio, "chunked/recurrent %.2fx (AUTO's chunk)", ms[0] / ms[2]);
    line("ssd chunked Q64", shape, ms[2], flops / ms[2] / 1e6, "GFLOP/s", ratio);
}

// Decode: a step of each of kLayers layers, each with its own state (as in a model, so
// the states come from memory, not from the cache); per layer, the state read + written.
void bench_ssd_decode(int64_t B, int64_t G) {
    SsdBench s(B, 1, 24, 64, G, 128, 256);
    std::vector<float> states(size_t(kLayers) * s.state.size(), 0.01f);
    mamba4j_ssd_args a = s.args(MAMBA4J_ALGO_AUTO);
    double ms = median_ms([&] {
                    for (int l = 0; l < kLayers; l++) {
                        a.ssm_state = states.data() + size_t(l) * s.state.size();
                        check(mamba4j_ssd(g_ctx, &a), "ssd decode");
                    }
                }) / kLayers;
    double bytes = double(B * s.H * s.P * s.N) * 8;
    line("ssd decode", s.shape(), ms, bytes / ms / 1e6, "GB/s", "per layer, 24 layers' states in turn");
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opt(argc, argv);
    if (opt.quick) g_reps = 3;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            check(mamba4j_cpu_set_threads(std::atoi(argv[++i])), "set threads");
    g_ctx = bench::cpu_context();
    int32_t threads = 0;
    check(mamba4j_cpu_threads(&threads), "threads");
    bench::header();
    g_bandwidth = bench::read_bandwidth_gbs(opt, threads);
    char note[128];
    std::snprintf(note, sizeof note, "%d threads, simd %s, median of up to %d runs", threads, bench::simd_name(),
                  g_reps);
    bench::row("ssm", "memory read bandwidth", -1, g_bandwidth, -1, 1.0, note);
    bench_conv1d(1, 4096, 1792, 4);  // mamba2-130m xBC: E + 2·G·N channels
    bench_conv1d(1, 1, 1792, 4);
    bench_conv1d(16, 1, 1792, 4);
    bench_selective_scan(1, 1024, 1536, 16);  // mamba-130m
    bench_selective_scan(1, 1, 1536, 16);
    bench_selective_scan(16, 1, 1536, 16);
    for (int64_t G : {1, 8})
        for (int64_t L : {1024, 4096}) bench_ssd_prefill(L, G);
    bench_ssd_decode(1, 1);
    bench_ssd_decode(16, 1);
    return 0;
}
