// Matmul / matvec: the fast path (every SIMD level via ctest) against the reference
// (double accumulation) over odd shapes that are not multiples of any tile, m in
// {1, 2, 5, 17, 64}, fp32 and bf16 weights, bias, accumulate, padded strides, bf16
// activations; guard bytes around y; a NaN in x must reach y; bad arguments.
//
// Thresholds (NMSE vs the reference): fp32 accumulation over k ≤ 4099 terms of O(1)
// values gives ~1e-13; 1e-10 leaves margin and still fails any wrong element of rows
// with a few hundred columns (one wrong element of 64×67 outputs is ~2e-4).
// MAMBA4J_BF16_MATVEC=dpbf16 rounds x to bf16 (relative error 2^-9 per element):
// NMSE ~1e-6, threshold 1e-4 for that variant.
// Prefill (m > 1) with bf16 W on the AVX-512 level rounds x to bf16 too (vdpbf16ps; the
// fp32 kernel with MAMBA4J_BF16_MATMUL=fp32, tested in a child process). Such a result
// is checked twice: against the reference fed the same bf16-rounded x, at 1e-10 (the
// rounding is the only difference allowed), and against the exact reference at 5e-5:
// a rounding error of at most 2^-8 relative per x element gives NMSE ≤ 2^-16 ≈ 1.5e-5
// without cancellation and ~3e-6 measured on these random cases; a wrong element
// (~2e-4) still fails.
#include "harness.h"

#include <cstdlib>

#include <sys/wait.h>
#include <unistd.h>

using namespace harness;


static double threshold() {
    const char* v = std::getenv("MAMBA4J_BF16_MATVEC");
    return v && std::strcmp(v, "dpbf16") == 0 ? 1e-4 : 1e-10;
}

// Whether a bf16-W product with m > 1 rounds x to bf16 (see the top).
static bool prefill_rounds_x() {
    mamba4j_simd supported = 0, in_use = 0;
    mamba4j_cpu_simd(&supported, &in_use);
    const char* v = std::getenv("MAMBA4J_BF16_MATMUL");
    return in_use == MAMBA4J_SIMD_AVX512 && !(v && std::strcmp(v, "fp32") == 0);
}

static void case_f32(int64_t m, int64_t n, int64_t k, bool bf16_w, bool bias, bool accumulate, int64_t pad) {
    const int64_t xs = k + pad, ys = n + pad;
    auto x = normal(size_t(m * xs)), w32 = normal(size_t(n * k), 0.5f), b = normal(size_t(n));
    std::vector<uint16_t> wb(size_t(n * k));
    for (size_t i = 0; i < wb.size(); i++) wb[i] = to_bf16(w32[i]);
    auto y0 = normal(size_t(m * ys));
    std::vector<float> want = y0;
    Guarded got(y0);

    mamba4j_matmul_args a{};
    a.m = m;
    a.n = n;
    a.k = k;
    a.dtype = MAMBA4J_F32;
    a.weight_dtype = bf16_w ? MAMBA4J_BF16 : MAMBA4J_F32;
    a.x = x.data();
    a.x_stride = xs;
    a.w = bf16_w ? static_cast<const void*>(wb.data()) : w32.data();
    a.bias = bias ? b.data() : nullptr;
    a.y_stride = ys;
    a.accumulate = accumulate;
    a.y = want.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_matmul(cpu_context(), &a), "reference");
    a.y = got.data();
    a.algo = MAMBA4J_ALGO_AUTO;
    expect_ok(mamba4j_matmul(cpu_context(), &a), "fast");
    // padding columns of y are never written: they must still hold y0
    bool pad_ok = true;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = n; j < ys; j++) pad_ok &= std::memcmp(&got[size_t(i * ys + j)], &y0[size_t(i * ys + j)], 4) == 0;
    std::string shape = shape_str({{"m", m}, {"n", n}, {"k", k}, {"bf16_w", bf16_w}, {"bias", bias},
                                   {"accumulate", accumulate}, {"pad", pad}});
    expect(pad_ok, "matmul [" + shape + "]: padding columns of y written");
    if (m > 1 && bf16_w && prefill_rounds_x()) {
        expect_close("matmul, x rounded to bf16 vs exact", shape, got, want, 5e-5);
        std::vector<float> xr = x;  // the reference on the same bf16-rounded x: only the rounding differs
        for (float& v : xr) v = from_bf16(to_bf16(v));
        std::vector<float> want_r = y0;
        a.x = xr.data();
        a.y = want_r.data();
        a.algo = MAMBA4J_ALGO_REFERENCE;
        expect_ok(mamba4j_matmul(cpu_context(), &a), "reference, x rounded");
        expect_close("matmul, x rounded to bf16 vs reference on rounded x", shape, got, want_r, 1e-10);
    } else {
        expect_close("matmul", shape, got, want, m == 1 && bf16_w ? threshold() : 1e-10);
    }
}

// bf16 activations and output (converted through fp32 inside)
static void case_bf16_act(int64_t m, int64_t n, int64_t k) {
    auto x32 = normal(size_t(m * k)), w32 = normal(size_t(n * k), 0.5f);
    std::vector<uint16_t> x(x32.size()), w(w32.size()), y_want(size_t(m * n)), y_got(size_t(m * n) + 64, 0xffff);
    for (size_t i = 0; i < x.size(); i++) x[i] = to_bf16(x32[i]);
    for (size_t i = 0; i < w.size(); i++) w[i] = to_bf16(w32[i]);
    mamba4j_matmul_args a{};
    a.m = m;
    a.n = n;
    a.k = k;
    a.dtype = MAMBA4J_BF16;
    a.weight_dtype = MAMBA4J_BF16;
    a.x = x.data();
    a.x_stride = k;
    a.w = w.data();
    a.y_stride = n;
    a.y = y_want.data();
    a.algo = MAMBA4J_ALGO_REFERENCE;
    expect_ok(mamba4j_matmul(cpu_context(), &a), "reference bf16");
    a.y = y_got.data() + 32;
    a.algo = MAMBA4J_ALGO_AUTO;
    expect_ok(mamba4j_matmul(cpu_context(), &a), "fast bf16");
    Guarded got(size_t(m * n));
    std::vector<float> want(size_t(m * n));
    for (size_t i = 0; i < want.size(); i++) {
        got[i] = from_bf16(y_got[32 + i]);
        want[i] = from_bf16(y_want[i]);
    }
    bool guards = true;
    for (int i = 0; i < 32; i++) guards &= y_got[size_t(i)] == 0xffff && y_got[size_t(32 + m * n + i)] == 0xffff;
    std::string shape = shape_str({{"m", m}, {"n", n}, {"k", k}});
    expect(guards, "matmul bf16 [" + shape + "]: guard elements overwritten");
    // outputs rounded to bf16 on both sides: at most one bf16 ulp apart (2^-8 relative)
    expect_close("matmul bf16 activations", shape, got, want, 1e-4);
}

static void case_nan(bool bf16_w, int64_t m) {
    const int64_t n = 37, k = 101;
    auto x = normal(size_t(m * k)), w = normal(size_t(n * k));
    std::vector<uint16_t> wb(w.size());
    for (size_t i = 0; i < wb.size(); i++) wb[i] = to_bf16(w[i]);
    x[size_t((m - 1) * k + 50)] = NAN;
    std::vector<float> y(size_t(m * n));
    mamba4j_matmul_args a{};
    a.m = m;
    a.n = n;
    a.k = k;
    a.weight_dtype = bf16_w ? MAMBA4J_BF16 : MAMBA4J_F32;
    a.x = x.data();
    a.x_stride = k;
    a.w = bf16_w ? static_cast<const void*>(wb.data()) : w.data();
    a.y = y.data();
    a.y_stride = n;
    expect_ok(mamba4j_matmul(cpu_context(), &a), "nan");
    bool all_nan = true;
    for (int64_t j = 0; j < n; j++) all_nan &= std::isnan(y[size_t((m - 1) * n + j)]);
    expect(all_nan, "matmul: a NaN in the last x row reaches every element of its y row (m=" + std::to_string(m) + ")");
}

// The vdpbf16ps matvec (MAMBA4J_BF16_MATVEC=dpbf16, read once per process) in a child
// forked before any library call; its assertions count in the child's exit status.
static void dpbf16_variant_in_child() {
    if (std::getenv("MAMBA4J_BF16_MATVEC") != nullptr) return;
    std::fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        setenv("MAMBA4J_BF16_MATVEC", "dpbf16", 1);
        for (auto nk : {std::pair<int64_t, int64_t>{1, 1}, {37, 61}, {130, 257}, {67, 1000}, {2049, 1531}, {19, 4099}})
            for (int variant = 0; variant < 3; variant++)
                case_f32(1, nk.first, nk.second, true, variant >= 1, variant == 2, variant == 2 ? 3 : 0);
        case_nan(true, 1);
        std::printf("dpbf16 child: ");
        std::exit(finish());
    }
    int status = 1;
    const bool ok = child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    expect(ok, "matmul: the MAMBA4J_BF16_MATVEC=dpbf16 matvec cases (child process) failed");
}

// The fp32 prefill kernel with bf16 W on the AVX-512 level (MAMBA4J_BF16_MATMUL=fp32,
// read once per process), in a child process as above.
static void fp32_prefill_in_child() {
    mamba4j_simd supported = 0, in_use = 0;
    mamba4j_cpu_simd(&supported, &in_use);
    if (std::getenv("MAMBA4J_BF16_MATMUL") != nullptr || in_use != MAMBA4J_SIMD_AVX512) return;
    std::fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        setenv("MAMBA4J_BF16_MATMUL", "fp32", 1);
        for (int64_t m : {2, 17, 64})
            for (auto nk : {std::pair<int64_t, int64_t>{3, 7}, {67, 1000}, {130, 257}})
                for (int variant = 0; variant < 3; variant++)
                    case_f32(m, nk.first, nk.second, true, variant >= 1, variant == 2, variant == 2 ? 3 : 0);
        case_nan(true, 6);
        std::printf("fp32 prefill child: ");
        std::exit(finish());
    }
    int status = 1;
    const bool ok = child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    expect(ok, "matmul: the MAMBA4J_BF16_MATMUL=fp32 prefill cases (child process) failed");
}

int main() {
    dpbf16_variant_in_child();
    fp32_prefill_in_child();
    const int64_t shapes[][2] = {{1, 1}, {3, 7}, {37, 61}, {67, 1000}, {130, 257}, {19, 4099}, {200, 2050}};
    for (int64_t m : {1, 2, 5, 17, 64})
        for (auto& nk : shapes)
            for (bool bf16_w : {false, true})
                for (int variant = 0; variant < 3; variant++) {
                    if (m * nk[0] * nk[1] > 64 * 130 * 257 && variant > 0) continue;  // keep the binary fast
                    case_f32(m, nk[0], nk[1], bf16_w, variant >= 1, variant == 2, variant == 2 ? 3 : 0);
                }
    // decode-sized matvecs (threads split n unevenly)
    for (bool bf16_w : {false, true}) {
        case_f32(1, 1536, 768, bf16_w, false, false, 0);
        case_f32(1, 2049, 1531, bf16_w, true, true, 1);
        case_f32(3, 517, 768, bf16_w, true, false, 0);
    }
    // a long prompt: 8K+ rows, m not a multiple of the tile
    case_f32(8195, 37, 61, true, true, true, 2);
    case_f32(8195, 19, 130, false, true, false, 0);
    case_bf16_act(1, 130, 257);
    case_bf16_act(9, 67, 1000);
    for (bool bf16_w : {false, true})
        for (int64_t m : {1, 6}) case_nan(bf16_w, m);

    // bad arguments: each an error naming the problem, never a crash
    float x[8] = {}, w[16] = {}, y[2] = {};
    mamba4j_matmul_args a{};
    a.m = 1;
    a.n = 2;
    a.k = 8;
    a.x = x;
    a.w = w;
    a.y = y;
    a.x_stride = 8;
    a.y_stride = 2;
    mamba4j_matmul_args bad = a;
    bad.w = nullptr;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "w is a null pointer", "null w");
    bad = a;
    bad.k = 0;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "k must be > 0", "k 0");
    bad = a;
    bad.x_stride = 7;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "x_stride", "short x stride");
    bad = a;
    bad.y_stride = 1;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "y_stride", "short y stride");
    bad = a;
    bad.weight_dtype = MAMBA4J_F16;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "weight_dtype must be F32 or BF16",
                 "f16 weights");
    bad = a;
    bad.n = int64_t(1) << 40;
    bad.k = int64_t(1) << 40;
    bad.x_stride = bad.k;
    bad.y_stride = bad.n;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "overflows", "overflow");
    bad = a;
    bad.algo = MAMBA4J_ALGO_FLASH;
    expect_error(mamba4j_matmul(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "algo", "algo flash");
    return finish();
}
