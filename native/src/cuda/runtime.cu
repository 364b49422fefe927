// CUDA backend runtime: devices, contexts, memory, copies, events.
#include "cublas_loader.h"
#include "cuda_backend.h"
#include "cuda_util.cuh"

#include <cstring>

namespace mamba4j::cuda {

int device_count() {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
        cudaGetLastError();  // clear the sticky error: no driver or no GPU means 0 devices
        return 0;
    }
    check(e, "cudaGetDeviceCount");
    return n;
}

static void require_device(int device) {
    int n = device_count();
    if (n == 0) fail(MAMBA4J_ERR_UNSUPPORTED, "no CUDA device is visible (no GPU, or no NVIDIA driver loaded)");
    if (device < 0 || device >= n)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "CUDA device %d does not exist (%d visible)", device, n);
}

void device_info(int device, char* name, int64_t capacity, int32_t* major, int32_t* minor, int64_t* total) {
    require_device(device);
    cudaDeviceProp p;
    check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    std::strncpy(name, p.name, size_t(capacity - 1));
    name[capacity - 1] = '\0';
    *major = p.major;
    *minor = p.minor;
    *total = int64_t(p.totalGlobalMem);
}

void context_init(mamba4j_context* ctx) {
    require_device(ctx->device);
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    cudaStream_t s;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    ctx->stream = s;
    check(cudaDeviceGetAttribute(&ctx->sm_count, cudaDevAttrMultiProcessorCount, ctx->device), "cudaDeviceGetAttribute");
    ctx->blas = nullptr;  // the cuBLAS handle: created by the first matmul (cublas_loader.cu)
}

void* context_scratch(mamba4j_context* ctx, size_t bytes) {
    if (int64_t(bytes) <= ctx->scratch_bytes) return ctx->scratch;
    cudaStream_t s = stream_of(ctx);
    if (ctx->scratch) {
        check(cudaFreeAsync(ctx->scratch, s), "cudaFreeAsync");
        ctx->scratch = nullptr;
        ctx->scratch_bytes = 0;
    }
    const size_t want = bytes + bytes / 4;  // room to grow a little without reallocating
    void* p = nullptr;
    cudaError_t e = cudaMallocAsync(&p, want, s);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        fail(MAMBA4J_ERR_OUT_OF_MEMORY, "could not allocate %zu bytes of CUDA scratch memory", want);
    }
    check(e, "cudaMallocAsync");
    ctx->scratch = p;
    ctx->scratch_bytes = int64_t(want);
    return p;
}

void context_release(mamba4j_context* ctx) {
    cudaSetDevice(ctx->device);
    blas::release(ctx);  // before its stream goes
    if (ctx->scratch) {
        cudaFreeAsync(ctx->scratch, stream_of(ctx));
        cudaStreamSynchronize(stream_of(ctx));
        ctx->scratch = nullptr;
    }
    if (ctx->stream) check(cudaStreamDestroy(stream_of(ctx)), "cudaStreamDestroy");
}

void synchronize(mamba4j_context* ctx) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    check(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
}

void* device_malloc(mamba4j_context* ctx, int64_t bytes) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size_t(bytes));
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        fail(MAMBA4J_ERR_OUT_OF_MEMORY, "could not allocate %lld bytes on CUDA device %d", (long long)bytes,
             ctx->device);
    }
    check(e, "cudaMalloc");
    return p;
}

void device_free(mamba4j_context* ctx, void* p) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    check(cudaFree(p), "cudaFree");
}

void copy(mamba4j_context* ctx, void* dst, const void* src, int64_t bytes, mamba4j_copy_kind kind) {
    static const cudaMemcpyKind kinds[] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    check(cudaMemcpyAsync(dst, src, size_t(bytes), kinds[kind], stream_of(ctx)), "cudaMemcpyAsync");
    if (kind == MAMBA4J_COPY_DEVICE_TO_HOST || kind == MAMBA4J_COPY_HOST_TO_DEVICE)
        check(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
}

void* event_create(mamba4j_context* ctx) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    cudaEvent_t e;
    check(cudaEventCreate(&e), "cudaEventCreate");
    return e;
}
void event_destroy(void* e) { check(cudaEventDestroy(static_cast<cudaEvent_t>(e)), "cudaEventDestroy"); }
void event_record(mamba4j_context* ctx, void* e) {
    check(cudaEventRecord(static_cast<cudaEvent_t>(e), stream_of(ctx)), "cudaEventRecord");
}
float event_elapsed_ms(void* start, void* end) {
    check(cudaEventSynchronize(static_cast<cudaEvent_t>(end)), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)),
          "cudaEventElapsedTime");
    return ms;
}

}  // namespace mamba4j::cuda
