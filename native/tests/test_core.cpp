// Library-level behaviour: version, capabilities, contexts, memory, errors.
#include "harness.h"

using namespace harness;

int main() {
    expect(mamba4j_abi_version() == MAMBA4J_ABI_VERSION, "ABI version matches the header");
    expect(std::strlen(mamba4j_version()) > 0, "version string is not empty");
    expect(mamba4j_has_backend(MAMBA4J_BACKEND_CPU) == 1, "CPU backend is always present");
    expect(mamba4j_has_backend(42) == 0, "unknown backend is absent");

    mamba4j_simd supported = -1, in_use = -1;
    expect_ok(mamba4j_cpu_simd(&supported, &in_use), "cpu_simd");
    expect(in_use <= supported && in_use >= MAMBA4J_SIMD_SCALAR, "SIMD level in use is supported");
    std::printf("SIMD supported %d, in use %d\n", supported, in_use);
    expect_error(mamba4j_cpu_set_simd(7), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown SIMD level", "set_simd(7)");
    expect_error(mamba4j_cpu_simd(nullptr, &in_use), MAMBA4J_ERR_INVALID_ARGUMENT, "supported is a null pointer",
                 "cpu_simd(null)");
    expect_error(mamba4j_cpu_set_threads(0), MAMBA4J_ERR_INVALID_ARGUMENT, "threads must be > 0", "set_threads(0)");

    int32_t devices = -1;
    expect_ok(mamba4j_cuda_device_count(&devices), "cuda_device_count");
    expect(devices >= 0, "device count is not negative");

    mamba4j_context* ctx = nullptr;
    expect_error(mamba4j_context_create(9, 0, &ctx), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown backend", "context(9)");
    expect(ctx == nullptr, "failed create leaves out null");
    expect_ok(mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &ctx), "cpu context");
    void* p = nullptr;
    expect_error(mamba4j_malloc(ctx, -5, &p), MAMBA4J_ERR_INVALID_ARGUMENT, "bytes must be > 0", "malloc(-5)");
    expect_ok(mamba4j_malloc(ctx, 1000, &p), "malloc(1000)");
    expect(p != nullptr && (reinterpret_cast<uintptr_t>(p) % 64) == 0, "host memory is 64-byte aligned");
    char src[16] = "hello mamba4j";
    expect_ok(mamba4j_memcpy(ctx, p, src, 16, MAMBA4J_COPY_HOST_TO_DEVICE), "memcpy");
    expect(std::memcmp(p, src, 16) == 0, "memcpy copies");
    expect_error(mamba4j_memcpy(ctx, p, nullptr, 16, 0), MAMBA4J_ERR_INVALID_ARGUMENT, "src is a null pointer",
                 "memcpy(null)");
    expect_ok(mamba4j_free(ctx, p), "free");

    mamba4j_event *a = nullptr, *b = nullptr;
    expect_ok(mamba4j_event_create(ctx, &a), "event a");
    expect_ok(mamba4j_event_create(ctx, &b), "event b");
    expect_ok(mamba4j_event_record(ctx, a), "record a");
    expect_ok(mamba4j_event_record(ctx, b), "record b");
    float ms = -1;
    expect_ok(mamba4j_event_elapsed_ms(a, b, &ms), "elapsed");
    expect(ms >= 0, "elapsed time is not negative");
    mamba4j_event_destroy(a);
    mamba4j_event_destroy(b);

    expect_error(mamba4j_context_destroy(nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "ctx is a null pointer",
                 "destroy(null)");
    expect_ok(mamba4j_context_destroy(ctx), "destroy");
    if (mamba4j_has_backend(MAMBA4J_BACKEND_CUDA) && devices == 0) {
        expect_error(mamba4j_context_create(MAMBA4J_BACKEND_CUDA, 0, &ctx), MAMBA4J_ERR_UNSUPPORTED,
                     "no CUDA device", "CUDA context without a GPU");
    }
    return finish();
}
