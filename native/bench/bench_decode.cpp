// Whole-model decode step (batch 1) through the C ABI alone, no Java: the kernel calls the
// runtime makes per generated token, in its order, for models shaped like mamba-130m,
// mamba2-130m, the hybrid M-M*-M-M-M*- and SmolLM2-135M (bf16 weights, every layer its own
// matrices, so a token streams all weights from DRAM). Prints tokens/s, the time per kernel kind, and the
// fraction of the bandwidth floor (weight bytes per token / read bandwidth of this run):
// the ceiling the Java runtime can reach with these kernels, and where the rest goes.
//   bench_decode [--quick] [--threads N] [mamba|mamba2|mamba2-merged|hybrid|llama ...]
#include "bench_common.h"

#include <cmath>
#include <deque>
#include <functional>
#include <map>

namespace {

struct Op {
    const char* kind;
    std::function<void()> run;
};

struct Model {
    std::vector<std::vector<uint16_t>> weights;  // bf16 matrices
    std::vector<std::vector<float>> buffers;     // activations, states, vectors
    std::deque<int32_t> positions;               // start_pos arguments (stable addresses)
    std::vector<Op> ops;
    size_t weight_bytes = 0;

    const uint16_t* matrix(int64_t n, int64_t k) {
        auto w = bench::random_bf16(size_t(n * k), 1.0f / 32, weights.size() + 7);
        weight_bytes += w.size() * 2;
        weights.push_back(std::move(w));
        return weights.back().data();
    }
    float* floats(int64_t n, float value = 0.0f) {
        buffers.emplace_back(size_t(n), value);
        return buffers.back().data();
    }
    // y (+)= x · Wᵀ, W [n, k] bf16
    void matmul(int64_t n, int64_t k, const float* x, float* y, bool acc) {
        mamba4j_matmul_args a{};
        a.m = 1, a.n = n, a.k = k, a.dtype = MAMBA4J_F32, a.weight_dtype = MAMBA4J_BF16;
        a.x = x, a.x_stride = k, a.w = matrix(n, k), a.y = y, a.y_stride = n, a.accumulate = acc;
        ops.push_back({"matmul", [a] { bench::check(mamba4j_matmul(bench::cpu_context(), &a), "matmul"); }});
    }
    void rmsnorm(int64_t dim, const float* x, float* y) {
        mamba4j_rmsnorm_args a{};
        a.rows = 1, a.dim = dim, a.dtype = MAMBA4J_F32, a.weight_dtype = MAMBA4J_F32;
        a.x = x, a.x_stride = dim, a.w = floats(dim, 1.0f), a.y = y, a.y_stride = dim, a.eps = 1e-5f;
        ops.push_back({"rmsnorm", [a] { bench::check(mamba4j_rmsnorm(bench::cpu_context(), &a), "rmsnorm"); }});
    }
    void conv1d(int64_t C, const float* x, float* y) {
        mamba4j_conv1d_args a{};
        a.batch = 1, a.seqlen = 1, a.channels = C, a.width = 4, a.dtype = MAMBA4J_F32, a.weight_dtype = MAMBA4J_F32;
        a.x = x, a.x_stride_b = C, a.x_stride_t = C, a.w = floats(C * 4, 0.25f), a.bias = floats(C);
        a.conv_state = floats(3 * C), a.y = y, a.y_stride_b = C, a.y_stride_t = C, a.silu = 1;
        ops.push_back({"conv1d", [a] { bench::check(mamba4j_conv1d(bench::cpu_context(), &a), "conv1d"); }});
    }
    // One Mamba-2 layer (mamba2-130m widths: E 1536, N 128, H 24 × P 64, G 1): in_proj [2E + 2N + H, D]
    // (as z and xBCdt unless merged), conv1d, SSD, gated RMSNorm, out_proj [D, E] into res.
    void mamba2_layer(int64_t D, float* res, float* xn, bool merged) {
        const int64_t E = 2 * D, N = 128, H = E / 64, P = 64, C = E + 2 * N, W = C + H;
        float *zx = floats(E + W), *xbc = floats(C), *y = floats(E), *yn = floats(E);
        float *z = zx, *xbcdt = zx + E;
        rmsnorm(D, res, xn);
        if (merged) matmul(E + W, D, xn, zx, false);
        else {
            matmul(E, D, xn, z, false);
            matmul(W, D, xn, xbcdt, false);
        }
        conv1d(C, xbcdt, xbc);
        mamba4j_ssd_args a{};
        a.batch = 1, a.seqlen = 1, a.heads = H, a.head_dim = P, a.groups = 1, a.state = N, a.dtype = MAMBA4J_F32;
        a.x = xbc, a.x_stride_b = C, a.x_stride_t = C, a.dt = xbcdt + C, a.dt_stride_b = W, a.dt_stride_t = W;
        a.dt_bias = floats(H, -4.0f), a.A_log = floats(H, 1.0f), a.D = floats(H, 1.0f);
        a.B = xbc + E, a.B_stride_b = C, a.B_stride_t = C, a.C = xbc + E + N, a.C_stride_b = C, a.C_stride_t = C;
        a.ssm_state = floats(H * P * N), a.y = y, a.y_stride_b = E, a.y_stride_t = E;
        ops.push_back({"ssd", [a] { bench::check(mamba4j_ssd(bench::cpu_context(), &a), "ssd"); }});
        mamba4j_gated_rmsnorm_args g{};
        g.rows = 1, g.dim = E, g.group_size = E, g.dtype = MAMBA4J_F32, g.weight_dtype = MAMBA4J_F32;
        g.x = y, g.x_stride = E, g.z = z, g.z_stride = E, g.w = floats(E, 1.0f), g.y = yn, g.y_stride = E, g.eps = 1e-5f;
        ops.push_back({"gated_rmsnorm", [g] { bench::check(mamba4j_gated_rmsnorm(bench::cpu_context(), &g), "gn"); }});
        matmul(D, E, yn, res, true);
    }
    // Attention over `context` cached tokens after the token's q, k, v (k_proj separate, q and v
    // one call when adjacent as in a name-sorted file: `qv`), optional RoPE, o_proj into res.
    void attention(int64_t D, int64_t Hq, int64_t Hkv, int64_t d, int64_t context, bool rope, float* res, float* xn) {
        const int64_t T = context + 1;
        float *q = floats(Hq * d), *k = floats(Hkv * d), *v = floats(Hkv * d), *out = floats(Hq * d);
        int32_t* start = &positions.emplace_back(int32_t(context));
        rmsnorm(D, res, xn);
        matmul(Hq * d, D, xn, q, false);
        matmul(Hkv * d, D, xn, k, false);
        matmul(Hkv * d, D, xn, v, false);
        if (rope) {
            mamba4j_rope_args r{};
            r.batch = 1, r.seqlen = 1, r.q_heads = Hq, r.kv_heads = Hkv, r.head_dim = d, r.rotary_dim = d;
            r.dtype = MAMBA4J_F32, r.q = q, r.q_stride_b = Hq * d, r.q_stride_t = Hq * d, r.k = k;
            r.k_stride_b = Hkv * d, r.k_stride_t = Hkv * d, r.start_pos = start, r.theta = 100000.0f;
            ops.push_back({"rope", [r] { bench::check(mamba4j_rope(bench::cpu_context(), &r), "rope"); }});
        }
        mamba4j_attention_args a{};
        a.batch = 1, a.seqlen = 1, a.q_heads = Hq, a.kv_heads = Hkv, a.head_dim = d, a.capacity = T, a.slot_count = 1;
        a.dtype = MAMBA4J_F32, a.q = q, a.q_stride_b = Hq * d, a.q_stride_t = Hq * d, a.k = k, a.v = v;
        a.kv_stride_b = Hkv * d, a.kv_stride_t = Hkv * d, a.k_cache = floats(T * Hkv * d, 0.01f);
        a.v_cache = floats(T * Hkv * d, 0.01f), a.start_pos = start, a.out = out, a.out_stride_b = Hq * d;
        a.out_stride_t = Hq * d, a.scale = 1.0f / std::sqrt(float(d));
        ops.push_back({"attention", [a] { bench::check(mamba4j_attention(bench::cpu_context(), &a), "attention"); }});
        matmul(D, Hq * d, out, res, true);
    }
    // Feed-forward [I, D] / [D, I]: SwiGLU (gate and up) or squared ReLU (up only), into res.
    void mlp(int64_t D, int64_t I, bool swiglu, float* res, float* xn) {
        float *g = floats(I), *u = floats(I);
        rmsnorm(D, res, xn);
        matmul(I, D, xn, g, false);
        if (swiglu) matmul(I, D, xn, u, false);
        mamba4j_activation_args act{};
        act.rows = 1, act.dim = I, act.dtype = MAMBA4J_F32, act.kind = swiglu ? MAMBA4J_ACT_SILU_GATE : MAMBA4J_ACT_RELU2;
        act.gate = g, act.gate_stride = I, act.up = u, act.up_stride = I, act.y = g, act.y_stride = I;
        ops.push_back({"activation", [act] { bench::check(mamba4j_activation_apply(bench::cpu_context(), &act), "act"); }});
        matmul(D, I, g, res, true);
    }
    // Final norm and the tied output head [V, D].
    void head(int64_t D, int64_t V, float* res, float* xn) {
        rmsnorm(D, res, xn);
        matmul(V, D, xn, floats(V), false);
    }
};

// mamba2-130m: 24 Mamba-2 layers, D 768; vocab 50288.
void mamba2(Model& m, bool merged) {
    const int64_t D = 768;
    float *res = m.floats(D, 0.1f), *xn = m.floats(D);
    for (int l = 0; l < 24; l++) m.mamba2_layer(D, res, xn, merged);
    m.head(D, 50288, res, xn);
}

// The hybrid M-M*-M-M-M*- of the runtime issue: D 768, Mamba-2 as mamba2-130m, attention
// 12 / 4 heads × 64 without RoPE over 512 cached tokens, squared-ReLU MLP 3072; vocab 50288.
void hybrid(Model& m) {
    const int64_t D = 768;
    float *res = m.floats(D, 0.1f), *xn = m.floats(D);
    for (char kind : std::string("M-M*-M-M-M*-")) {
        if (kind == 'M') m.mamba2_layer(D, res, xn, true);
        else if (kind == '*') m.attention(D, 12, 4, 64, 512, false, res, xn);
        else m.mlp(D, 3072, false, res, xn);
    }
    m.head(D, 50288, res, xn);
}


// mamba-130m: 24 layers of in_proj [2E, D], conv1d, x_proj [R + 2N, E], dt_proj [E, R],
// selective scan, out_proj [D, E]; vocab 50280.
void mamba1(Model& m) {
    const int64_t D = 768, E = 1536, N = 16, R = 48, V = 50280;
    float *res = m.floats(D, 0.1f), *xn = m.floats(D), *xz = m.floats(2 * E), *xc = m.floats(E),
          *dbc = m.floats(R + 2 * N), *dt = m.floats(E), *y = m.floats(E);
    for (int l = 0; l < 24; l++) {
        m.rmsnorm(D, res, xn);
        m.matmul(2 * E, D, xn, xz, false);
        m.conv1d(E, xz, xc);
        m.matmul(R + 2 * N, E, xc, dbc, false);
        m.matmul(E, R, dbc, dt, false);
        mamba4j_selective_scan_args a{};
        a.batch = 1, a.seqlen = 1, a.inner = E, a.state = N, a.dtype = MAMBA4J_F32;
        a.u = xc, a.u_stride_b = E, a.u_stride_t = E, a.dt = dt, a.dt_stride_b = E, a.dt_stride_t = E;
        a.dt_bias = m.floats(E, -4.0f), a.A_log = m.floats(E * N, 1.0f), a.D = m.floats(E, 1.0f);
        a.B = dbc + R, a.B_stride_b = R + 2 * N, a.B_stride_t = R + 2 * N;
        a.C = dbc + R + N, a.C_stride_b = R + 2 * N, a.C_stride_t = R + 2 * N;
        a.z = xz + E, a.z_stride_b = 2 * E, a.z_stride_t = 2 * E, a.ssm_state = m.floats(E * N);
        a.y = y, a.y_stride_b = E, a.y_stride_t = E, a.dt_softplus = 1;
        m.ops.push_back({"selective_scan", [a] { bench::check(mamba4j_selective_scan(bench::cpu_context(), &a), "scan"); }});
        m.matmul(D, E, y, res, true);
    }
    m.head(D, V, res, xn);
}

// SmolLM2-135M: 30 layers of attention (9 / 3 heads × 64, RoPE) over `context` cached tokens
// and SwiGLU 1536, D 576; vocab 49152.
void llama(Model& m, int64_t context) {
    const int64_t D = 576;
    float *res = m.floats(D, 0.1f), *xn = m.floats(D);
    for (int l = 0; l < 30; l++) {
        m.attention(D, 9, 3, 64, context, true, res, xn);
        m.mlp(D, 1536, true, res, xn);
    }
    m.head(D, 49152, res, xn);
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opt(argc, argv);
    std::vector<std::string> which;
    int threads = 2;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (argv[i][0] != '-') which.emplace_back(argv[i]);
    bench::check(mamba4j_cpu_set_threads(threads), "threads");
    if (which.empty()) which = {"mamba", "mamba2", "mamba2-merged", "hybrid", "llama"};
    const bench::Bandwidth bw = bench::read_bandwidth(opt, threads);
    std::printf("# read bandwidth %.1f GB/s (median pass), %.1f (best)\n", bw.median_gbs, bw.best_gbs);
    for (const std::string& name : which) {
        Model m;
        if (name == "mamba") mamba1(m);
        else if (name == "mamba2") mamba2(m, false);
        else if (name == "mamba2-merged") mamba2(m, true);
        else if (name == "hybrid") hybrid(m);
        else if (name == "llama") llama(m, 512);
        else {
            std::fprintf(stderr, "unknown model %s\n", name.c_str());
            return 2;
        }
        const int tokens = opt.quick ? 32 : 128;
        std::map<std::string, std::pair<double, int>> per_kind;
        std::vector<double> token_ms;
        for (int t = 0; t < tokens + 4; t++) {
            const double t0 = bench::now_ms();
            for (const Op& op : m.ops) {
                const double s = bench::now_ms();
                op.run();
                if (t >= 4) {
                    auto& e = per_kind[op.kind];
                    e.first += bench::now_ms() - s;
                    e.second++;
                }
            }
            if (t >= 4) token_ms.push_back(bench::now_ms() - t0);
        }
        std::vector<double> sorted = token_ms;
        std::sort(sorted.begin(), sorted.end());
        const double med = sorted[sorted.size() / 2];
        const double floor_ms = double(m.weight_bytes) / (bw.median_gbs * 1e6);
        std::printf("%-14s %7.1f tok/s (median token %.3f ms, best %.3f), %.0f MB/token, floor %.3f ms: %.0f%% of floor\n",
                    name.c_str(), 1000.0 / med, med, sorted[0], m.weight_bytes / 1e6, floor_ms, 100 * floor_ms / med);
        for (auto& [kind, e] : per_kind)
            std::printf("    %-16s %8.3f ms/token  %5d calls/token  %7.1f us/call\n", kind.c_str(), e.first / tokens,
                        e.second / tokens, 1000 * e.first / e.second);
        if (per_kind.count("matmul"))
            std::printf("    matmul at %.1f GB/s\n", double(m.weight_bytes) / (per_kind["matmul"].first / tokens * 1e6));
    }
    return 0;
}
