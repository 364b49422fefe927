// CUDA backend internals seen from plain C++ (no CUDA headers here): device queries,
// contexts (device + stream + cuBLAS handle), memory, events. Defined in runtime.cu.
#pragma once
#ifdef MAMBA4J_WITH_CUDA
#include "../common.h"

namespace mamba4j::cuda {
int device_count();
void device_info(int device, char* name, int64_t capacity, int32_t* major, int32_t* minor, int64_t* total);
void context_init(mamba4j_context* ctx);  // sets stream and blas; throws on failure
void context_release(mamba4j_context* ctx);
void synchronize(mamba4j_context* ctx);
void* device_malloc(mamba4j_context* ctx, int64_t bytes);
void device_free(mamba4j_context* ctx, void* p);
void copy(mamba4j_context* ctx, void* dst, const void* src, int64_t bytes, mamba4j_copy_kind kind);
void* event_create(mamba4j_context* ctx);
void event_destroy(void* event);
void event_record(mamba4j_context* ctx, void* event);
float event_elapsed_ms(void* start, void* end);
}  // namespace mamba4j::cuda
#endif
