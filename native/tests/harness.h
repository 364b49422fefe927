// Tiny test harness for the native kernel tests: random data, guarded buffers, NMSE,
// and one assertion helper whose message names the op, the shape, the error measured
// and the threshold. Each test binary ends with "N passed, N failed".
#pragma once
#include <mamba4j.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace harness {

inline int passed = 0, failed = 0;

inline void expect(bool ok, const std::string& what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::printf("FAIL %s\n", what.c_str());
    }
}

inline int finish() {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

// Seeded so a failure reproduces; draws fresh values per call.
inline std::mt19937_64& rng() {
    static std::mt19937_64 r(12345);
    return r;
}
inline std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng());
    return v;
}
// fp32 -> bf16 rounded to nearest even (±inf and NaN kept as such), and back (exact).
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return uint16_t((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u));
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}
inline float from_bf16(uint16_t h) {
    const uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline std::vector<float> normal(size_t n, float stddev = 1.0f) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng());
    return v;
}

// A float buffer with guard regions before and after, filled with a sentinel that a
// kernel writing out of bounds would overwrite.
struct Guarded {
    static constexpr size_t kGuard = 64;
    static constexpr uint32_t kSentinel = 0x7fc0dead;  // a NaN no kernel produces
    std::vector<float> storage;
    size_t n;
    explicit Guarded(size_t n_, float fill = 0.0f) : storage(n_ + 2 * kGuard), n(n_) {
        float s;
        std::memcpy(&s, &kSentinel, 4);
        for (auto& x : storage) x = s;
        for (size_t i = 0; i < n; i++) storage[kGuard + i] = fill;
    }
    explicit Guarded(const std::vector<float>& v) : Guarded(v.size()) {
        std::memcpy(data(), v.data(), v.size() * 4);
    }
    float* data() { return storage.data() + kGuard; }
    const float* data() const { return storage.data() + kGuard; }
    float& operator[](size_t i) { return data()[i]; }
    bool guards_intact() const {
        for (size_t i = 0; i < kGuard; i++) {
            uint32_t a, b;
            std::memcpy(&a, &storage[i], 4);
            std::memcpy(&b, &storage[kGuard + n + i], 4);
            if (a != kSentinel || b != kSentinel) return false;
        }
        return true;
    }
};

// Σ(a−b)² / Σb²; NaN or Inf anywhere gives +inf so it never passes.
inline double nmse(const float* a, const float* b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
        double d = double(a[i]) - b[i];
        num += d * d;
        den += double(b[i]) * b[i];
    }
    return den == 0 ? (num == 0 ? 0 : INFINITY) : num / den;
}

// Compares a result (with its guards) to the reference and records one assertion.
inline void expect_close(const std::string& op, const std::string& shape, const Guarded& got,
                         const std::vector<float>& want, double threshold) {
    double e = nmse(got.data(), want.data(), want.size());
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s [%s]: NMSE %.3g (threshold %.3g)%s", op.c_str(), shape.c_str(), e, threshold,
                  got.guards_intact() ? "" : " — GUARD BYTES OVERWRITTEN");
    expect(e <= threshold && got.guards_intact(), buf);
}

// A status that must be an error with a message containing `needle`.
inline void expect_error(mamba4j_status s, mamba4j_status want, const char* needle, const std::string& what) {
    std::string msg = mamba4j_last_error();
    bool ok = s == want && msg.find(needle) != std::string::npos;
    expect(ok, what + ": got status " + std::to_string(s) + " message '" + msg + "', want status " +
                   std::to_string(want) + " containing '" + needle + "'");
}

inline void expect_ok(mamba4j_status s, const std::string& what) {
    expect(s == MAMBA4J_OK, what + ": " + mamba4j_last_error());
}

inline mamba4j_context* cpu_context() {
    static mamba4j_context* ctx = [] {
        mamba4j_context* c = nullptr;
        if (mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &c) != MAMBA4J_OK) {
            std::printf("cannot create CPU context: %s\n", mamba4j_last_error());
            std::exit(2);
        }
        return c;
    }();
    return ctx;
}

inline std::string shape_str(std::initializer_list<std::pair<const char*, int64_t>> dims) {
    std::string s;
    for (auto& [k, v] : dims) s += (s.empty() ? "" : " ") + std::string(k) + "=" + std::to_string(v);
    return s;
}

}  // namespace harness
