// Embedding gather on the CPU: out[i, :] = table[ids[i], :] converted to out_dtype.
// table [vocab, dim] (table_dtype, contiguous rows), ids [count] int32, out [count, dim]
// (out_dtype, row stride out_stride). Every id is checked before anything is written:
// an id outside [0, vocab) is an INVALID_ARGUMENT naming its position and value.
#include "../kernels.h"
#include "cpu.h"

#include <cinttypes>
#include <cstring>

namespace mamba4j::cpu {

void embedding(const mamba4j_embedding_args& a) {
    for (int64_t i = 0; i < a.count; i++)
        if (a.ids[i] < 0 || a.ids[i] >= a.vocab)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "ids[%lld] = %d is outside the vocabulary [0, %lld)", (long long)i,
                 (int)a.ids[i], (long long)a.vocab);
    const size_t row_bytes = size_t(a.dim) * dtype_size(a.table_dtype);
    parallel_region(a.count * a.dim > 262144, [&] {
#pragma omp for schedule(static)
        for (int64_t i = 0; i < a.count; i++) {
            const int64_t src = int64_t(a.ids[i]) * a.dim, dst = i * a.out_stride;
            if (a.table_dtype == a.out_dtype) {
                std::memcpy(static_cast<char*>(a.out) + size_t(dst) * dtype_size(a.out_dtype),
                            static_cast<const char*>(a.table) + size_t(src) * dtype_size(a.table_dtype), row_bytes);
            } else if (a.table_dtype == MAMBA4J_BF16 && a.out_dtype == MAMBA4J_F32) {
                const uint16_t* t = static_cast<const uint16_t*>(a.table) + src;
                float* o = static_cast<float*>(a.out) + dst;
#pragma omp simd
                for (int64_t j = 0; j < a.dim; j++) o[j] = bf16_to_f32(t[j]);
            } else {
                for (int64_t j = 0; j < a.dim; j++)
                    store(a.out, a.out_dtype, dst + j, load(a.table, a.table_dtype, src + j));
            }
        }
    });
}

}  // namespace mamba4j::cpu
