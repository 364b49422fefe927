// Library-level entry points: version, errors, capabilities, contexts, memory, events.
#include "common.h"
#include "cpu/cpu.h"
#include "cuda/cuda_backend.h"

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#ifndef MAMBA4J_VERSION_STRING
#define MAMBA4J_VERSION_STRING "0.0.0-dev"
#endif

namespace mamba4j {

namespace {
thread_local std::string last_error;
}

void set_last_error(const char* message) { last_error = message; }
void clear_last_error() { last_error.clear(); }

void fail(mamba4j_status status, const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw Error(status, buf);
}

void require_ptr(const void* p, const char* name) {
    if (p == nullptr) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s is a null pointer", name);
}
void require_positive(int64_t v, const char* name) {
    if (v <= 0) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s must be > 0, got %lld", name, (long long)v);
}
void require_non_negative(int64_t v, const char* name) {
    if (v < 0) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s must be >= 0, got %lld", name, (long long)v);
}
void require_stride(int64_t stride, int64_t minimum, const char* name) {
    if (stride < minimum)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s must be >= %lld (the inner extent), got %lld", name,
             (long long)minimum, (long long)stride);
}
void require_dtype(mamba4j_dtype dt, const char* name) {
    if (dt != MAMBA4J_F32 && dt != MAMBA4J_BF16 && dt != MAMBA4J_F16)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s: unknown dtype %d", name, (int)dt);
}
int64_t checked_mul(int64_t a, int64_t b, const char* what) {
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s overflows 64-bit indexing (%lld x %lld)", what, (long long)a,
             (long long)b);
    return r;
}
int64_t checked_extent(int64_t d0, int64_t s0, int64_t d1, int64_t s1, int64_t inner, const char* what) {
    if (d0 == 0 || d1 == 0) return 0;
    int64_t e0 = checked_mul(d0 - 1, s0, what), e1 = checked_mul(d1 - 1, s1, what), r;
    if (__builtin_add_overflow(e0, e1, &r) || __builtin_add_overflow(r, inner, &r))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "%s overflows 64-bit indexing", what);
    return r;
}
void require_rows(const char* name, int64_t B, int64_t L, int64_t inner, int64_t stride_b, int64_t stride_t) {
    const std::string n(name), extent = n + " extent";
    require_stride(stride_t, inner, (n + "_stride_t").c_str());
    if (B > 1) require_stride(stride_b, checked_extent(1, 0, L, stride_t, inner, extent.c_str()), (n + "_stride_b").c_str());
    checked_extent(B, stride_b, L, stride_t, inner, extent.c_str());
}
size_t dtype_size(mamba4j_dtype dt) { return dt == MAMBA4J_F32 ? 4 : 2; }
const char* dtype_name(mamba4j_dtype dt) {
    switch (dt) {
        case MAMBA4J_F32: return "F32";
        case MAMBA4J_BF16: return "BF16";
        case MAMBA4J_F16: return "F16";
        default: return "unknown";
    }
}
void require_context(const mamba4j_context* ctx) {
    require_ptr(ctx, "ctx");
    if (ctx->backend != MAMBA4J_BACKEND_CPU && ctx->backend != MAMBA4J_BACKEND_CUDA)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "ctx is not a live context (backend %d)", (int)ctx->backend);
}

float f16_to_f32(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0) v = std::ldexp(float(mant), -24);
    else if (exp == 31) v = mant ? NAN : INFINITY;
    else v = std::ldexp(float(mant | 0x400), exp - 25);
    return sign ? -v : v;
}
uint16_t f32_to_f16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t(sign | 0x7e00u);
    float a = std::fabs(f);
    if (a >= 65520.0f) return uint16_t(sign | 0x7c00u);  // rounds to infinity
    if (a < 6.103515625e-05f) {                          // subnormal: multiple of 2^-24
        return uint16_t(sign | uint32_t(std::nearbyint(a * 16777216.0f)));
    }
    uint32_t m = u & 0x7fffffffu;
    m += 0xfffu + ((m >> 13) & 1u);  // round to nearest even at bit 13
    return uint16_t(sign | ((m >> 13) - (112u << 10)));
}

}  // namespace mamba4j

using namespace mamba4j;

struct mamba4j_event {
    mamba4j_backend backend;
    void* cuda_event;
    std::chrono::steady_clock::time_point time;
};

extern "C" {

const char* mamba4j_version(void) { return MAMBA4J_VERSION_STRING; }
int32_t mamba4j_abi_version(void) { return MAMBA4J_ABI_VERSION; }
const char* mamba4j_last_error(void) { return last_error.c_str(); }

int32_t mamba4j_has_backend(mamba4j_backend backend) {
    if (backend == MAMBA4J_BACKEND_CPU) return 1;
#ifdef MAMBA4J_WITH_CUDA
    if (backend == MAMBA4J_BACKEND_CUDA) return 1;
#endif
    return 0;
}

mamba4j_status mamba4j_cuda_device_count(int32_t* count) {
    return guarded("mamba4j_cuda_device_count", [&] {
        require_ptr(count, "count");
#ifdef MAMBA4J_WITH_CUDA
        *count = cuda::device_count();
#else
        *count = 0;
#endif
    });
}

mamba4j_status mamba4j_cuda_device_info(int32_t device, char* name, int64_t name_capacity, int32_t* cc_major,
                                        int32_t* cc_minor, int64_t* total_bytes) {
    return guarded("mamba4j_cuda_device_info", [&] {
        require_ptr(name, "name");
        require_positive(name_capacity, "name_capacity");
        require_ptr(cc_major, "cc_major");
        require_ptr(cc_minor, "cc_minor");
        require_ptr(total_bytes, "total_bytes");
#ifdef MAMBA4J_WITH_CUDA
        cuda::device_info(device, name, name_capacity, cc_major, cc_minor, total_bytes);
#else
        (void)device;
        fail(MAMBA4J_ERR_UNSUPPORTED, "this library was built without the CUDA backend");
#endif
    });
}

mamba4j_status mamba4j_context_create(mamba4j_backend backend, int32_t device, mamba4j_context** out) {
    return guarded("mamba4j_context_create", [&] {
        require_ptr(out, "out");
        *out = nullptr;
        if (backend == MAMBA4J_BACKEND_CPU) {
            (void)device;  // one CPU context serves all cores
            *out = new mamba4j_context{MAMBA4J_BACKEND_CPU, 0, nullptr, nullptr};
        } else if (backend == MAMBA4J_BACKEND_CUDA) {
#ifdef MAMBA4J_WITH_CUDA
            auto* ctx = new mamba4j_context{MAMBA4J_BACKEND_CUDA, device, nullptr, nullptr};
            try {
                cuda::context_init(ctx);
            } catch (...) {
                delete ctx;
                throw;
            }
            *out = ctx;
#else
            fail(MAMBA4J_ERR_UNSUPPORTED, "this library was built without the CUDA backend");
#endif
        } else {
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "unknown backend %d", (int)backend);
        }
    });
}

mamba4j_status mamba4j_context_destroy(mamba4j_context* ctx) {
    return guarded("mamba4j_context_destroy", [&] {
        require_context(ctx);
#ifdef MAMBA4J_WITH_CUDA
        if (ctx->backend == MAMBA4J_BACKEND_CUDA) cuda::context_release(ctx);
#endif
        mamba4j_plan_destroy(ctx->recording);  // a recording never ended
        ctx->backend = -1;  // a later use of this pointer fails require_context while the memory lasts
        delete ctx;
    });
}

mamba4j_status mamba4j_context_backend(const mamba4j_context* ctx, mamba4j_backend* backend) {
    return guarded("mamba4j_context_backend", [&] {
        require_context(ctx);
        require_ptr(backend, "backend");
        *backend = ctx->backend;
    });
}

mamba4j_status mamba4j_synchronize(mamba4j_context* ctx) {
    return guarded("mamba4j_synchronize", [&] {
        require_context(ctx);
#ifdef MAMBA4J_WITH_CUDA
        if (ctx->backend == MAMBA4J_BACKEND_CUDA) cuda::synchronize(ctx);
#endif
    });
}

mamba4j_status mamba4j_malloc(mamba4j_context* ctx, int64_t bytes, void** out) {
    return guarded("mamba4j_malloc", [&] {
        require_context(ctx);
        require_ptr(out, "out");
        require_positive(bytes, "bytes");
        *out = nullptr;
        if (ctx->backend == MAMBA4J_BACKEND_CPU) {
            size_t rounded = (size_t(bytes) + 63) & ~size_t(63);
            void* p = std::aligned_alloc(64, rounded);
            if (p == nullptr)
                fail(MAMBA4J_ERR_OUT_OF_MEMORY, "could not allocate %lld bytes of host memory", (long long)bytes);
            *out = p;
        } else {
#ifdef MAMBA4J_WITH_CUDA
            *out = cuda::device_malloc(ctx, bytes);
#endif
        }
    });
}

mamba4j_status mamba4j_free(mamba4j_context* ctx, void* ptr) {
    return guarded("mamba4j_free", [&] {
        require_context(ctx);
        if (ptr == nullptr) return;
        if (ctx->backend == MAMBA4J_BACKEND_CPU) std::free(ptr);
#ifdef MAMBA4J_WITH_CUDA
        else cuda::device_free(ctx, ptr);
#endif
    });
}

mamba4j_status mamba4j_memcpy(mamba4j_context* ctx, void* dst, const void* src, int64_t bytes,
                              mamba4j_copy_kind kind) {
    return guarded("mamba4j_memcpy", [&] {
        require_context(ctx);
        require_ptr(dst, "dst");
        require_ptr(src, "src");
        require_non_negative(bytes, "bytes");
        if (kind < MAMBA4J_COPY_HOST_TO_DEVICE || kind > MAMBA4J_COPY_DEVICE_TO_DEVICE)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "unknown copy kind %d", (int)kind);
        if (bytes == 0) return;
        if (ctx->backend == MAMBA4J_BACKEND_CPU) std::memmove(dst, src, size_t(bytes));
#ifdef MAMBA4J_WITH_CUDA
        else cuda::copy(ctx, dst, src, bytes, kind);
#endif
    });
}

mamba4j_status mamba4j_event_create(mamba4j_context* ctx, mamba4j_event** out) {
    return guarded("mamba4j_event_create", [&] {
        require_context(ctx);
        require_ptr(out, "out");
        auto* e = new mamba4j_event{ctx->backend, nullptr, {}};
#ifdef MAMBA4J_WITH_CUDA
        if (ctx->backend == MAMBA4J_BACKEND_CUDA) {
            try {
                e->cuda_event = cuda::event_create(ctx);
            } catch (...) {
                delete e;
                throw;
            }
        }
#endif
        *out = e;
    });
}

mamba4j_status mamba4j_event_destroy(mamba4j_event* event) {
    return guarded("mamba4j_event_destroy", [&] {
        require_ptr(event, "event");
#ifdef MAMBA4J_WITH_CUDA
        if (event->cuda_event) cuda::event_destroy(event->cuda_event);
#endif
        delete event;
    });
}

mamba4j_status mamba4j_event_record(mamba4j_context* ctx, mamba4j_event* event) {
    return guarded("mamba4j_event_record", [&] {
        require_context(ctx);
        require_ptr(event, "event");
        if (event->backend != ctx->backend) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "event belongs to another backend");
        if (ctx->backend == MAMBA4J_BACKEND_CPU) event->time = std::chrono::steady_clock::now();
#ifdef MAMBA4J_WITH_CUDA
        else cuda::event_record(ctx, event->cuda_event);
#endif
    });
}

mamba4j_status mamba4j_event_elapsed_ms(mamba4j_event* start, mamba4j_event* end, float* ms) {
    return guarded("mamba4j_event_elapsed_ms", [&] {
        require_ptr(start, "start");
        require_ptr(end, "end");
        require_ptr(ms, "ms");
        if (start->backend != end->backend) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "events of different backends");
        if (start->backend == MAMBA4J_BACKEND_CPU)
            *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
#ifdef MAMBA4J_WITH_CUDA
        else *ms = cuda::event_elapsed_ms(start->cuda_event, end->cuda_event);
#endif
    });
}

}  // extern "C"
