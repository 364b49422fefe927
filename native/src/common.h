// Internal helpers shared by every kernel: errors as status codes, argument checks,
// dtype conversions, and the routing of an entry point to its backend.
#pragma once
#include "mamba4j.h"

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <type_traits>

struct mamba4j_context {
    mamba4j_backend backend;
    int32_t device;
    void* stream;  // cudaStream_t for CUDA contexts
    void* blas;    // cublasHandle_t for CUDA contexts
    void* scratch = nullptr;    // CUDA: device scratch buffer of the multi-kernel algorithms
    int64_t scratch_bytes = 0;  //       (src/cuda/runtime.cu context_scratch)
    int32_t sm_count = 0;       // CUDA: streaming multiprocessors of the device (grid sizing)
    mamba4j_plan* recording = nullptr;  // the plan kernel calls go to (mamba4j_plan_begin .. _end)
};

namespace mamba4j {

// Thrown inside the library only; guarded() turns it into a status + message.
struct Error : std::exception {
    mamba4j_status status;
    std::string message;
    Error(mamba4j_status s, std::string m) : status(s), message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
};

[[noreturn]] void fail(mamba4j_status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void set_last_error(const char* message);
void clear_last_error();

// Runs body(); every exception becomes a status and the thread's last error, prefixed
// with the entry point's name. Nothing escapes to the caller.
template <class Body>
mamba4j_status guarded(const char* entry, Body&& body) noexcept {
    try {
        clear_last_error();
        body();
        return MAMBA4J_OK;
    } catch (const Error& e) {
        set_last_error((std::string(entry) + ": " + e.message).c_str());
        return e.status;
    } catch (const std::bad_alloc&) {
        set_last_error((std::string(entry) + ": out of host memory").c_str());
        return MAMBA4J_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error((std::string(entry) + ": internal error: " + e.what()).c_str());
        return MAMBA4J_ERR_INTERNAL;
    } catch (...) {
        set_last_error((std::string(entry) + ": internal error (unknown exception)").c_str());
        return MAMBA4J_ERR_INTERNAL;
    }
}

// ---- argument checks (each throws Error(INVALID_ARGUMENT) naming the argument)
void require_ptr(const void* p, const char* name);
void require_positive(int64_t v, const char* name);
void require_non_negative(int64_t v, const char* name);
// stride >= minimum (the extent of the inner dimensions), so rows never overlap
void require_stride(int64_t stride, int64_t minimum, const char* name);
void require_dtype(mamba4j_dtype dt, const char* name);
// a * b with overflow detection (int64); names the product in the message
int64_t checked_mul(int64_t a, int64_t b, const char* what);
// Extent in elements of a [d0, d1, inner] tensor with strides s0, s1 (0 if d0 == 0)
int64_t checked_extent(int64_t d0, int64_t s0, int64_t d1, int64_t s1, int64_t inner, const char* what);
// A [B, L, inner] tensor with strides (stride_b, stride_t) in elements, innermost contiguous:
// stride_t covers a row, stride_b (when B > 1) covers a sequence, so no two rows overlap, and
// the extent fits 64-bit indexing. Errors name "<name>_stride_t", "<name>_stride_b".
void require_rows(const char* name, int64_t B, int64_t L, int64_t inner, int64_t stride_b, int64_t stride_t);
size_t dtype_size(mamba4j_dtype dt);
const char* dtype_name(mamba4j_dtype dt);
void require_context(const mamba4j_context* ctx);

// ---- dtype conversion (round to nearest even; NaN stays NaN)
inline float bf16_to_f32(uint16_t h) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

inline float load(const void* p, mamba4j_dtype dt, int64_t i) {
    switch (dt) {
        case MAMBA4J_BF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
        case MAMBA4J_F16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
        default: return static_cast<const float*>(p)[i];
    }
}
inline void store(void* p, mamba4j_dtype dt, int64_t i, float v) {
    switch (dt) {
        case MAMBA4J_BF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(v); break;
        case MAMBA4J_F16: static_cast<uint16_t*>(p)[i] = f32_to_f16(v); break;
        default: static_cast<float*>(p)[i] = v;
    }
}

// ---- plans (api/plan.cpp): a recorded call is its public entry point and a copy of its args.
template <class Args>
using Entry = mamba4j_status (*)(mamba4j_context*, const Args*);
using ErasedEntry = mamba4j_status (*)(mamba4j_context*, const void*);
// Appends a call to the plan ctx->recording.
void record(mamba4j_context* ctx, ErasedEntry entry, const void* args, size_t bytes);

// ---- routing: CPU implementation, or CUDA implementation when built with CUDA; while the
// context records a plan, the (already checked) call is appended to it instead.
template <class Args>
using CpuKernel = void (*)(const Args&);
template <class Args>
using CudaKernel = void (*)(mamba4j_context*, const Args&);

template <class T>
struct Exactly {  // T in a non-deduced context: Args comes from the args alone (cuda may be nullptr)
    using type = T;
};

template <auto EntryPoint, class Args>
void route(const char* name, mamba4j_context* ctx, const Args& args, typename Exactly<CpuKernel<Args>>::type cpu,
           typename Exactly<CudaKernel<Args>>::type cuda) {
    static_assert(std::is_same_v<decltype(EntryPoint), Entry<Args>>, "route: the entry point of these args");
    if (ctx->backend != MAMBA4J_BACKEND_CPU && cuda == nullptr)
        fail(MAMBA4J_ERR_UNSUPPORTED, "%s has no CUDA implementation in this build", name);
    if (ctx->recording) {
        record(ctx, [](mamba4j_context* c, const void* a) { return EntryPoint(c, static_cast<const Args*>(a)); }, &args,
               sizeof(Args));
    } else if (ctx->backend == MAMBA4J_BACKEND_CPU) {
        cpu(args);
    } else {
        cuda(ctx, args);
    }
}

}  // namespace mamba4j

// A CUDA kernel's address when the CUDA backend is compiled in, else nullptr.
#ifdef MAMBA4J_WITH_CUDA
#define MAMBA4J_CUDA_KERNEL(f) (&mamba4j::cuda::f)
#else
#define MAMBA4J_CUDA_KERNEL(f) nullptr
#endif
